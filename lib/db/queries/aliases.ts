import { all, first, qb, run } from "../query";
import type { Queryable } from "../types";

export interface AliasRow {
  alias: string;
  version: string;
  updated_at: Date;
  updated_by_email: string | null;
}

export interface AliasMoveRow {
  alias: string;
  from_version: string | null;
  to_version: string | null;
  moved_by_email: string | null;
  moved_at: Date;
}

export async function listAliases(tx: Queryable, modelId: string): Promise<AliasRow[]> {
  return all(
    tx,
    qb
      .selectFrom("model_aliases as a")
      .innerJoin("model_versions as v", "v.id", "a.version_id")
      .leftJoin("profiles as p", "p.id", "a.updated_by")
      .select(["a.alias", "v.version", "a.updated_at", "p.email as updated_by_email"])
      .where("a.model_id", "=", modelId)
      .orderBy("a.alias"),
  );
}

/**
 * Serializes moves of one alias until the transaction ends, so each move sees the one before it:
 * the history's from -> to chain never breaks and no concurrent move is lost.
 */
export async function lockAlias(tx: Queryable, modelId: string, alias: string): Promise<void> {
  await tx.query("select pg_advisory_xact_lock(hashtextextended($1, 7))", [`alias:${modelId}:${alias}`]);
}

/** The version an alias points at now. */
export async function aliasTarget(tx: Queryable, modelId: string, alias: string): Promise<string | undefined> {
  const row = await first(
    tx,
    qb
      .selectFrom("model_aliases as a")
      .innerJoin("model_versions as v", "v.id", "a.version_id")
      .select("v.version")
      .where("a.model_id", "=", modelId)
      .where("a.alias", "=", alias),
  );
  return row?.version;
}

/** Points an alias at a version (the history row is written by trigger). */
export async function upsertAlias(tx: Queryable, a: { modelId: string; orgId: string; alias: string; versionId: string }): Promise<void> {
  await run(
    tx,
    qb
      .insertInto("model_aliases")
      .values({ model_id: a.modelId, alias: a.alias, org_id: a.orgId, version_id: a.versionId })
      .onConflict((oc) => oc.columns(["model_id", "alias"]).doUpdateSet({ version_id: (eb) => eb.ref("excluded.version_id") })),
  );
}

export async function deleteAliasesOfVersion(tx: Queryable, versionId: string): Promise<void> {
  await run(tx, qb.deleteFrom("model_aliases").where("version_id", "=", versionId));
}

export async function deleteAliasesOfModel(tx: Queryable, modelId: string): Promise<void> {
  await run(tx, qb.deleteFrom("model_aliases").where("model_id", "=", modelId));
}

/** Every move of every alias of a model, newest first. */
export async function aliasHistory(tx: Queryable, modelId: string): Promise<AliasMoveRow[]> {
  return all(
    tx,
    qb
      .selectFrom("model_alias_history as h")
      .leftJoin("model_versions as fv", "fv.id", "h.from_version_id")
      .leftJoin("model_versions as tv", "tv.id", "h.to_version_id")
      .leftJoin("profiles as pr", "pr.id", "h.moved_by")
      .select(["h.alias", "fv.version as from_version", "tv.version as to_version", "pr.email as moved_by_email", "h.moved_at"])
      .where("h.model_id", "=", modelId)
      // Moves of an alias are serialized (lockAlias), so ids are in commit order.
      .orderBy("h.id", "desc")
      .limit(500),
  );
}

/** Alias names only owners and admins may move in this organization. */
export async function listProtectedAliases(tx: Queryable, orgId: string): Promise<string[]> {
  const rows = await all(tx, qb.selectFrom("protected_aliases").select("alias").where("org_id", "=", orgId).orderBy("alias"));
  return rows.map((r) => r.alias);
}

export async function insertProtectedAlias(tx: Queryable, orgId: string, alias: string): Promise<void> {
  await run(
    tx,
    qb
      .insertInto("protected_aliases")
      .values({ org_id: orgId, alias })
      .onConflict((oc) => oc.columns(["org_id", "alias"]).doNothing()),
  );
}

export async function deleteProtectedAlias(tx: Queryable, orgId: string, alias: string): Promise<number> {
  return run(tx, qb.deleteFrom("protected_aliases").where("org_id", "=", orgId).where("alias", "=", alias));
}
