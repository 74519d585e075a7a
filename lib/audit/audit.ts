import "server-only";
import { withUser } from "@/lib/db/client";
import type { Claims, Database } from "@/lib/db/types";
import { AppError } from "@/lib/errors";
import { orgIdForSlug } from "@/lib/usage/usage";
import { AUDIT_EXPORT_MAX_ROWS, auditQuerySchema, dateBound, type AuditQuery } from "./query";

// Reading the append-only audit trail (writing is record_audit_event() in SQL, called by the
// services). Everything runs under the caller's claims: RLS shows members their own org's events.

export interface AuditEvent {
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
}

export interface AuditPage {
  items: AuditEvent[];
  next_cursor: string | null;
}

type Filters = Omit<AuditQuery, "limit" | "cursor">;
type Row = AuditEvent & { cursor_ts: string };

const encodeCursor = (ts: string, id: number) => Buffer.from(JSON.stringify([ts, id])).toString("base64url");
function decodeCursor(c: string): [string, number] {
  try {
    const v = JSON.parse(Buffer.from(c, "base64url").toString("utf8"));
    if (Array.isArray(v) && v.length === 2 && typeof v[0] === "string" && !Number.isNaN(Date.parse(v[0])) && Number.isSafeInteger(v[1]))
      return v as [string, number];
  } catch {}
  throw new AppError("bad_request", "Invalid cursor.");
}

/** The WHERE clause of the filters (bound parameters only); $1 is the org id. */
function filterClause(orgId: string, f: Filters): { where: string[]; params: unknown[] } {
  const params: unknown[] = [orgId];
  const where = ["e.org_id = $1"];
  const add = (sql: (n: string) => string, value: unknown) => {
    params.push(value);
    where.push(sql(`$${params.length}`));
  };
  if (f.actor) {
    if (f.actor.includes("@")) add((n) => `lower(e.actor_email) = lower(${n})`, f.actor);
    else add((n) => `e.actor_email ilike ${n} escape '\\'`, `%${f.actor.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
  }
  if (f.action) {
    if (f.action.includes(".")) add((n) => `e.action = ${n}`, f.action);
    else add((n) => `split_part(e.action, '.', 1) = ${n}`, f.action);
  }
  if (f.model) add((n) => `e.model_id in (select id from public.models where org_id = $1 and slug = ${n})`, f.model);
  if (f.from) add((n) => `e.created_at >= ${n}::timestamptz`, dateBound(f.from, "from").toISOString());
  if (f.to) add((n) => `e.created_at < ${n}::timestamptz`, dateBound(f.to, "to").toISOString());
  return { where, params };
}

/**
 * One page of events, newest first: keyset pagination on (created_at, id). The cursor carries the
 * timestamp with microseconds (a JS Date would drop them and skip rows that share a millisecond).
 */
async function fetchEvents(
  claims: Claims,
  orgSlug: string,
  f: Filters,
  cursor: string | undefined,
  limit: number,
  db?: Database,
): Promise<AuditPage> {
  return withUser(
    claims,
    async (tx) => {
      const { where, params } = filterClause(await orgIdForSlug(tx, orgSlug), f);
      if (cursor) {
        const [ts, id] = decodeCursor(cursor);
        params.push(ts, id);
        where.push(`(e.created_at, e.id) < ($${params.length - 1}::timestamptz, $${params.length}::bigint)`);
      }
      params.push(limit + 1);
      const { rows } = await tx.query<Row>(
        `select e.id, e.created_at, e.actor_id, e.actor_email, e.via, e.action, e.target_type, e.target_id,
                e.model_id, m.slug as model_slug, m.name as model_name, e.version_id,
                coalesce(v.version, e.details ->> 'version') as version, e.bytes, e.details, e.ip, e.user_agent,
                to_char(e.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as cursor_ts
         from public.audit_events e
         left join public.models m on m.id = e.model_id
         left join public.model_versions v on v.id = e.version_id
         where ${where.join(" and ")}
         order by e.created_at desc, e.id desc
         limit $${params.length}`,
        params,
      );
      const items = rows.slice(0, limit);
      const last = items.at(-1);
      return {
        items: items.map(({ cursor_ts: _, ...e }) => e),
        next_cursor: rows.length > limit && last ? encodeCursor(last.cursor_ts, last.id) : null,
      };
    },
    db,
  );
}

/** How many events match, counting no further than `cap` (a bounded count stays cheap). */
async function countEvents(claims: Claims, orgSlug: string, f: Filters, cap: number, db?: Database): Promise<number> {
  return withUser(
    claims,
    async (tx) => {
      const { where, params } = filterClause(await orgIdForSlug(tx, orgSlug), f);
      params.push(cap);
      const { rows } = await tx.query<{ n: number }>(
        `select count(*)::int as n from (select 1 from public.audit_events e where ${where.join(" and ")} limit $${params.length}) x`,
        params,
      );
      return rows[0]?.n ?? 0;
    },
    db,
  );
}

/** Events of an org, newest first, filtered by actor, action, model and date range; keyset-paginated. */
export async function listAuditEvents(
  claims: Claims,
  orgSlug: string,
  query: Partial<AuditQuery> = {},
  opts: { db?: Database } = {},
): Promise<AuditPage> {
  const q = auditQuerySchema.parse(query);
  return fetchEvents(claims, orgSlug, q, q.cursor, q.limit, opts.db);
}

export const AUDIT_CSV_COLUMNS = [
  "time_utc",
  "actor",
  "via",
  "action",
  "target_type",
  "target_id",
  "model",
  "version",
  "bytes",
  "ip",
  "user_agent",
  "details",
] as const;

/**
 * One CSV cell (RFC 4180 quoting). IMPORTANT: a text cell starting with = + - @ (or tab / CR) is
 * prefixed with a single quote, so a spreadsheet shows it instead of running it as a formula.
 */
export function csvCell(value: unknown): string {
  if (value === null || value === undefined) return "";
  if (typeof value === "number" || typeof value === "bigint") return String(value);
  let s = value instanceof Date ? value.toISOString() : typeof value === "string" ? value : JSON.stringify(value);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) || /^\s|\s$/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function auditCsvRow(e: AuditEvent): string {
  return [
    new Date(e.created_at).toISOString(),
    e.actor_email,
    e.via,
    e.action,
    e.target_type,
    e.target_id,
    e.model_slug,
    e.version,
    e.bytes,
    e.ip,
    e.user_agent,
    Object.keys(e.details ?? {}).length ? e.details : null,
  ]
    .map(csvCell)
    .join(",");
}

/**
 * The filtered events as a streamed CSV (newest first), fetched in keyset batches, each in its own
 * short transaction, and bounded at `maxRows`. The first batch is read before this resolves, so a
 * bad filter or a foreign org is an error response, not a broken download.
 */
export async function exportAuditCsv(
  claims: Claims,
  orgSlug: string,
  query: Partial<AuditQuery> = {},
  opts: { db?: Database; maxRows?: number; batchSize?: number } = {},
): Promise<{ stream: ReadableStream<Uint8Array>; truncated: boolean; maxRows: number }> {
  const q = auditQuerySchema.parse({ ...query, cursor: undefined });
  const maxRows = opts.maxRows ?? AUDIT_EXPORT_MAX_ROWS;
  const batch = Math.max(1, Math.min(opts.batchSize ?? 1000, maxRows));
  let page = await fetchEvents(claims, orgSlug, q, undefined, batch, opts.db);
  // Whether more than maxRows match, known up front so the response headers can say so.
  const truncated = page.next_cursor !== null && (await countEvents(claims, orgSlug, q, maxRows + 1, opts.db)) > maxRows;
  let sent = 0;
  const encoder = new TextEncoder();
  let header = true;
  const stream = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const lines: string[] = header ? [AUDIT_CSV_COLUMNS.join(",")] : [];
        header = false;
        const take = page.items.slice(0, maxRows - sent);
        for (const e of take) lines.push(auditCsvRow(e));
        sent += take.length;
        if (lines.length) controller.enqueue(encoder.encode(lines.join("\r\n") + "\r\n"));
        if (!page.next_cursor || sent >= maxRows) return controller.close();
        page = await fetchEvents(claims, orgSlug, q, page.next_cursor, Math.min(batch, maxRows - sent), opts.db);
      } catch (e) {
        controller.error(e);
      }
    },
  });
  return { stream, truncated, maxRows };
}

/** The REST shape of an event. */
export function serializeAuditEvent(e: AuditEvent) {
  return {
    id: e.id,
    created_at: new Date(e.created_at).toISOString(),
    actor: { id: e.actor_id, email: e.actor_email },
    via: e.via,
    action: e.action,
    target: e.target_type ? { type: e.target_type, id: e.target_id } : null,
    model: e.model_id ? { id: e.model_id, slug: e.model_slug, name: e.model_name } : null,
    version: e.version,
    bytes: e.bytes,
    details: e.details,
    ip: e.ip,
    user_agent: e.user_agent,
  };
}
