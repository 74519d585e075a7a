import { sql, type ExpressionBuilder, type InferResult, type Selectable } from "kysely";
import { all, first, qb, run } from "../query";
import type { DB, ModelVersions } from "../schema.gen";
import type { Queryable } from "../types";

type VersionColumns = Selectable<ModelVersions>;
export type VersionStatus = VersionColumns["status"];
export type StorageBackend = VersionColumns["storage_backend"];
export type ScanVerdict = VersionColumns["scan_verdict"];
export type ScanFinding = VersionColumns["scan_findings"][number];

const aliasesOf = (eb: ExpressionBuilder<DB & { v: ModelVersions }, "v">) =>
  eb.fn.coalesce(
    eb
      .selectFrom("model_aliases as a")
      .select(sql<string[]>`array_agg(a.alias order by a.alias)`.as("aliases"))
      .whereRef("a.version_id", "=", "v.id"),
    sql<string[]>`'{}'`,
  );

const versions = () =>
  qb
    .selectFrom("model_versions as v")
    .leftJoin("profiles as p", "p.id", "v.created_by")
    .select((eb) => [
      "v.id",
      "v.model_id",
      "v.org_id",
      "v.version",
      "v.status",
      "v.storage_backend",
      "v.file_name",
      "v.file_count",
      "v.layout",
      "v.layout_details",
      "v.tags",
      "v.provenance",
      "v.parent_version_id",
      sql<{ model: string; version: string } | null>`(select json_build_object('model', pm.slug, 'version', pv.version)
        from public.model_versions pv join public.models pm on pm.id = pv.model_id where pv.id = v.parent_version_id)`.as("parent"),
      "v.size_bytes",
      "v.sha256",
      "v.content_type",
      "v.format",
      "v.framework",
      "v.metadata",
      "v.scan_verdict",
      "v.scan_findings",
      "v.created_by",
      "p.email as created_by_email",
      "v.created_at",
      "v.ready_at",
      "v.deleted_at",
      aliasesOf(eb).as("aliases"),
    ]);

/** A version as pages and the API show it (typed from the select above, i.e. from the schema). */
export type VersionRow = InferResult<ReturnType<typeof versions>>[number];

/** A model's versions, newest first (deleted ones included for the record; pending ones never). */
export async function listVersions(tx: Queryable, modelId: string): Promise<VersionRow[]> {
  return all(
    tx,
    versions()
      .where("v.model_id", "=", modelId)
      .where("v.status", "<>", "pending")
      .orderBy("v.created_at", "desc")
      .orderBy("v.id", "desc")
      .limit(1000),
  );
}

/** A finished (or deleted) version by number. */
export async function findVersion(tx: Queryable, modelId: string, version: string): Promise<VersionRow | undefined> {
  return first(tx, versions().where("v.model_id", "=", modelId).where("v.version", "=", version).where("v.status", "<>", "pending"));
}

export async function findVersionById(tx: Queryable, id: string): Promise<VersionRow | undefined> {
  return first(tx, versions().where("v.id", "=", id));
}

/** Reserves a version (status pending, leased for `leaseSeconds`); undefined when the number is taken or being uploaded. */
export async function insertPendingVersion(
  tx: Queryable,
  v: {
    orgId: string;
    modelId: string;
    version: string;
    backend: StorageBackend;
    /** One-file versions: the file's name; several: the folder's (display only). */
    fileName: string;
    fileCount: number;
    leaseSeconds: number;
    tags?: Record<string, string>;
    provenance?: Record<string, unknown>;
    parentVersionId?: string | null;
  },
): Promise<string | undefined> {
  const row = await first(
    tx,
    qb
      .insertInto("model_versions")
      .values({
        org_id: v.orgId,
        model_id: v.modelId,
        version: v.version,
        storage_backend: v.backend,
        file_name: v.fileName,
        file_count: v.fileCount,
        created_by: sql`auth.uid()`,
        status: "pending",
        lease_until: sql`now() + make_interval(secs => ${v.leaseSeconds})`,
        tags: JSON.stringify(v.tags ?? {}),
        provenance: JSON.stringify(v.provenance ?? {}),
        parent_version_id: v.parentVersionId ?? null,
      })
      .onConflict((oc) => oc.doNothing())
      .returning("id"),
  );
  return row?.id;
}

export interface PendingRow {
  id: string;
  org_id: string;
  org_slug: string;
  model_id: string;
  model_slug: string;
  version: string;
  file_name: string;
  file_count: number;
  storage_backend: StorageBackend;
  lease_until: Date | null;
}

/** Extends the lease of the caller's own pending reservation; false when it is gone. */
export async function renewLease(tx: Queryable, id: string, leaseSeconds: number): Promise<boolean> {
  const n = await run(
    tx,
    qb
      .updateTable("model_versions")
      .set({ lease_until: sql`now() + make_interval(secs => ${leaseSeconds})` })
      .where("id", "=", id)
      .where("status", "=", "pending")
      .where("created_by", "=", sql<string>`auth.uid()`),
  );
  return n === 1;
}

/** What a released commit left: the keys of its pending blobs (null when it had reserved none). */
export interface StaleReservation {
  id: string;
  org_id: string;
  object_key: string | null;
  storage_backend: StorageBackend | null;
  created_by: string | null;
}

/** Removes the pending commit of (model, version) if its lease ran out (SECURITY DEFINER: any writer may). */
export async function releaseStaleReservation(tx: Queryable, modelId: string, version: string): Promise<StaleReservation[]> {
  const { rows } = await tx.query<StaleReservation>(
    "select id, org_id, object_key, storage_backend, created_by from public.release_stale_reservation($1, $2)",
    [modelId, version],
  );
  return rows;
}

/** The caller's own pending reservation. */
export async function findOwnPendingVersion(tx: Queryable, id: string): Promise<PendingRow | undefined> {
  return first(
    tx,
    qb
      .selectFrom("model_versions as v")
      .innerJoin("models as m", "m.id", "v.model_id")
      .innerJoin("organizations as o", "o.id", "v.org_id")
      .select([
        "v.id",
        "v.org_id",
        "o.slug as org_slug",
        "v.model_id",
        "m.slug as model_slug",
        "v.version",
        "v.file_name",
        "v.file_count",
        "v.storage_backend",
        "v.lease_until",
      ])
      .where("v.id", "=", id)
      .where("v.status", "=", "pending")
      .where("v.created_by", "=", sql<string>`auth.uid()`),
  );
}

export interface VersionContent {
  status: "ready" | "quarantined";
  size: number;
  sha256: string;
  fileCount: number;
  contentType: string;
  format: string;
  framework: string | null;
  metadata: Record<string, unknown>;
  verdict: ScanVerdict;
  findings: ScanFinding[];
  layout: string;
  layoutDetails: Record<string, unknown>;
}

/** Pending -> ready | quarantined with what was stored and found; 0 when the reservation is gone. */
export async function finishPendingVersion(tx: Queryable, id: string, c: VersionContent): Promise<number> {
  return run(
    tx,
    qb
      .updateTable("model_versions")
      .set({
        status: c.status,
        size_bytes: c.size,
        sha256: c.sha256,
        file_count: c.fileCount,
        layout: c.layout,
        layout_details: JSON.stringify(c.layoutDetails),
        content_type: c.contentType,
        format: c.format,
        framework: c.framework,
        metadata: JSON.stringify(c.metadata),
        scan_verdict: c.verdict,
        scan_findings: JSON.stringify(c.findings),
        scanned_at: sql`now()`,
      })
      .where("id", "=", id)
      .where("status", "=", "pending"),
  );
}

/** Drops a pending reservation; when it was reserved (undefined when there was none). */
export async function deletePendingVersion(tx: Queryable, id: string): Promise<Date | undefined> {
  const row = await first(tx, qb.deleteFrom("model_versions").where("id", "=", id).where("status", "=", "pending").returning("created_at"));
  return row?.created_at;
}

/** Soft delete: the row stays as the record (the trigger stamps who and when). */
export async function retireVersion(tx: Queryable, id: string): Promise<void> {
  await run(tx, qb.updateTable("model_versions").set({ status: "deleted" }).where("id", "=", id));
}

/** Retires every live version of a model (before the model row goes). */
export async function retireVersionsOfModel(tx: Queryable, modelId: string): Promise<void> {
  await run(
    tx,
    qb
      .updateTable("model_versions")
      .set({ status: "deleted" })
      .where("model_id", "=", modelId)
      .where("status", "in", ["ready", "quarantined"]),
  );
}

/**
 * Whether the caller may read the object at `key`: the rule the storage.objects SELECT policy applies
 * for Supabase Storage (public.can_read_model_object), asked directly for bytes on local disk.
 */
export async function canReadModelObject(tx: Queryable, key: string): Promise<boolean> {
  const r = await first(tx, qb.selectNoFrom(sql<boolean>`public.can_read_model_object(${key})`.as("ok")));
  return r?.ok === true;
}
