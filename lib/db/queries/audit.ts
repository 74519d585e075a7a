import { sql } from "kysely";
import { all, first, qb, run } from "../query";
import type { Queryable } from "../types";

// The append-only audit trail. Writing: recordAudit() for everything a user does (the SQL function
// takes the actor from the verified claims), recordSystemAudit() for what happens without a user
// (sign-in attempts, retention). Reading: keyset pages under RLS.

export interface AuditMeta {
  ip?: string;
  userAgent?: string;
}

export interface AuditRecord {
  orgId: string;
  action: string;
  target?: [type: string, id: string];
  modelId?: string;
  versionId?: string;
  bytes?: number;
  details?: Record<string, unknown>;
  meta?: AuditMeta;
}

/** Records what the caller did (actor, via and time come from the transaction's claims). */
export async function recordAudit(tx: Queryable, e: AuditRecord): Promise<void> {
  await tx.query("select public.record_audit_event($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)", [
    e.orgId,
    e.action,
    e.target?.[0] ?? null,
    e.target?.[1] ?? null,
    e.modelId ?? null,
    e.versionId ?? null,
    e.bytes ?? null,
    JSON.stringify(e.details ?? {}),
    e.meta?.ip ?? null,
    e.meta?.userAgent?.slice(0, 512) ?? null,
  ]);
}

/** Records an event with no signed-in actor (service connection only: RLS would refuse it). */
export async function recordSystemAudit(
  tx: Queryable,
  e: Omit<AuditRecord, "orgId"> & { orgId: string | null; actorId?: string | null; actorEmail?: string | null },
): Promise<void> {
  await run(
    tx,
    qb.insertInto("audit_events").values({
      org_id: e.orgId,
      actor_id: e.actorId ?? null,
      actor_email: e.actorEmail ?? null,
      via: "system",
      action: e.action,
      target_type: e.target?.[0] ?? null,
      target_id: e.target?.[1] ?? null,
      model_id: e.modelId ?? null,
      version_id: e.versionId ?? null,
      bytes: e.bytes ?? null,
      details: JSON.stringify(e.details ?? {}),
      ip: e.meta?.ip ?? null,
      user_agent: e.meta?.userAgent?.slice(0, 512) ?? null,
    }),
  );
}

export interface AuditFilters {
  actor?: string;
  action?: string;
  model?: string;
  /** Inclusive lower bound. */
  from?: Date;
  /** Exclusive upper bound. */
  to?: Date;
}

function filtered(orgId: string, f: AuditFilters) {
  let q = qb.selectFrom("audit_events as e").where("e.org_id", "=", orgId);
  if (f.actor) {
    q = f.actor.includes("@")
      ? q.where(sql`lower(e.actor_email)`, "=", f.actor.toLowerCase())
      : q.where(sql<boolean>`e.actor_email ilike ${`%${f.actor.replace(/[\\%_]/g, (c) => `\\${c}`)}%`} escape '\\'`);
  }
  if (f.action) q = f.action.includes(".") ? q.where("e.action", "=", f.action) : q.where(sql`split_part(e.action, '.', 1)`, "=", f.action);
  if (f.model) {
    const slug = f.model;
    q = q.where("e.model_id", "in", qb.selectFrom("models").select("id").where("org_id", "=", orgId).where("slug", "=", slug));
  }
  if (f.from) q = q.where("e.created_at", ">=", f.from);
  if (f.to) q = q.where("e.created_at", "<", f.to);
  return q;
}

export interface AuditEventRow {
  id: number;
  created_at: Date;
  actor_id: string | null;
  actor_email: string | null;
  via: "session" | "api_token" | "signed_link" | "system";
  action: string;
  target_type: string | null;
  target_id: string | null;
  model_id: string | null;
  model_slug: string | null;
  model_name: string | null;
  version_id: string | null;
  version: string | null;
  bytes: number | null;
  details: Record<string, unknown>;
  ip: string | null;
  user_agent: string | null;
  /** created_at with microseconds (a JS Date keeps milliseconds only): the keyset cursor. */
  cursor_ts: string;
}

/** One page of events, newest first, after the (created_at, id) cursor when given. */
export async function listAuditEvents(
  tx: Queryable,
  orgId: string,
  f: AuditFilters,
  after: [ts: string, id: number] | undefined,
  limit: number,
): Promise<AuditEventRow[]> {
  let q = filtered(orgId, f)
    .leftJoin("models as m", "m.id", "e.model_id")
    .leftJoin("model_versions as v", "v.id", "e.version_id")
    .select([
      "e.id",
      "e.created_at",
      "e.actor_id",
      "e.actor_email",
      "e.via",
      "e.action",
      "e.target_type",
      "e.target_id",
      "e.model_id",
      "m.slug as model_slug",
      "m.name as model_name",
      "e.version_id",
      sql<string | null>`coalesce(v.version, e.details ->> 'version')`.as("version"),
      "e.bytes",
      "e.details",
      "e.ip",
      "e.user_agent",
      sql<string>`to_char(e.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`.as("cursor_ts"),
    ]);
  if (after) q = q.where(sql`(e.created_at, e.id)`, "<", sql`(${after[0]}::timestamptz, ${after[1]}::bigint)`);
  return all(tx, q.orderBy("e.created_at", "desc").orderBy("e.id", "desc").limit(limit));
}

/** How many events match, counting no further than `cap` (a bounded count stays cheap). */
export async function countAuditEvents(tx: Queryable, orgId: string, f: AuditFilters, cap: number): Promise<number> {
  const inner = filtered(orgId, f)
    .select(sql`1`.as("one"))
    .limit(cap);
  const row = await first(tx, qb.selectFrom(inner.as("x")).select(sql<number>`count(*)::int`.as("n")));
  return row?.n ?? 0;
}
