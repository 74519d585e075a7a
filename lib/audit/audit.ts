import "server-only";
import type { z } from "zod";
import type { auditEventResponse } from "@/lib/validations/api";
import type { Principal } from "@/lib/auth/principal";
import { countAuditEvents, listAuditEvents, type AuditEventRow, type AuditFilters } from "@/lib/db/queries/audit";
import { ERRORS } from "@/lib/errors";
import { Service } from "@/lib/services/base";
import { resolveOrg } from "@/lib/services/resolve";
import { AUDIT_EXPORT_MAX_ROWS, auditQuerySchema, dateBound, type AuditQuery } from "./query";

// Reading the append-only audit trail (writing is recordAudit() in lib/db/queries/audit.ts, called by
// the services). Everything runs under the caller's claims: RLS shows members their own org's events.

export type AuditEvent = Omit<AuditEventRow, "cursor_ts">;

export interface AuditPage {
  items: AuditEvent[];
  next_cursor: string | null;
}

const encodeCursor = (ts: string, id: number) => Buffer.from(JSON.stringify([ts, id])).toString("base64url");
function decodeCursor(c: string): [string, number] {
  try {
    const v = JSON.parse(Buffer.from(c, "base64url").toString("utf8"));
    // [created_at with microseconds, as the query writes it; the event id]: checked to the letter, so
    // nothing Postgres could refuse ever reaches it.
    if (Array.isArray(v) && v.length === 2 && typeof v[0] === "string" && Number.isSafeInteger(v[1]) && v[1] > 0) {
      const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3})\d{3}Z$/.exec(v[0]);
      if (m && new Date(`${m[1]}Z`).toISOString() === `${m[1]}Z`) return v as [string, number];
    }
  } catch {}
  throw ERRORS.invalidCursor();
}

const filtersOf = (q: AuditQuery): AuditFilters => ({
  actor: q.actor,
  action: q.action,
  model: q.model,
  from: q.from ? dateBound(q.from, "from") : undefined,
  to: q.to ? dateBound(q.to, "to") : undefined,
});

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

/** The audit trail of an organization: pages, and the CSV export. */
export class AuditService extends Service {
  /**
   * One page of events, newest first: keyset pagination on (created_at, id). The cursor carries the
   * timestamp with microseconds (a JS Date would drop them and skip rows that share a millisecond).
   */
  private async page(p: Principal, orgSlug: string, f: AuditFilters, cursor: string | undefined, limit: number): Promise<AuditPage> {
    const after = cursor ? decodeCursor(cursor) : undefined;
    return this.as(p, async (tx) => {
      const rows = await listAuditEvents(tx, (await resolveOrg(tx, orgSlug)).id, f, after, limit + 1);
      const items = rows.slice(0, limit);
      const last = items.at(-1);
      return {
        items: items.map(({ cursor_ts: _, ...e }) => e),
        next_cursor: rows.length > limit && last ? encodeCursor(last.cursor_ts, last.id) : null,
      };
    });
  }

  /** Events of an org, newest first, filtered by actor, action, model and date range; keyset-paginated. */
  async list(p: Principal, orgSlug: string, query: Partial<AuditQuery> = {}): Promise<AuditPage> {
    const q = auditQuerySchema.parse(query);
    return this.page(p, orgSlug, filtersOf(q), q.cursor, q.limit);
  }

  /**
   * The filtered events as a streamed CSV (newest first), fetched in keyset batches, each in its own
   * short transaction, and bounded at `maxRows`. The first batch is read before this resolves, so a
   * bad filter or a foreign org is an error response, not a broken download.
   */
  async exportCsv(
    p: Principal,
    orgSlug: string,
    query: Partial<AuditQuery> = {},
    opts: { maxRows?: number; batchSize?: number } = {},
  ): Promise<{ stream: ReadableStream<Uint8Array>; truncated: boolean; maxRows: number }> {
    const q = auditQuerySchema.parse({ ...query, cursor: undefined });
    const f = filtersOf(q);
    const maxRows = opts.maxRows ?? AUDIT_EXPORT_MAX_ROWS;
    const batch = Math.max(1, Math.min(opts.batchSize ?? 1000, maxRows));
    let page = await this.page(p, orgSlug, f, undefined, batch);
    // Whether more than maxRows match, known up front so the response headers can say so.
    const truncated =
      page.next_cursor !== null &&
      (await this.as(p, async (tx) => countAuditEvents(tx, (await resolveOrg(tx, orgSlug)).id, f, maxRows + 1))) > maxRows;
    let sent = 0;
    const encoder = new TextEncoder();
    let header = true;
    const stream = new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        try {
          const lines: string[] = header ? [AUDIT_CSV_COLUMNS.join(",")] : [];
          header = false;
          const take = page.items.slice(0, maxRows - sent);
          for (const e of take) lines.push(auditCsvRow(e));
          sent += take.length;
          if (lines.length) controller.enqueue(encoder.encode(lines.join("\r\n") + "\r\n"));
          if (!page.next_cursor || sent >= maxRows) return controller.close();
          page = await this.page(p, orgSlug, f, page.next_cursor, Math.min(batch, maxRows - sent));
        } catch (e) {
          controller.error(e);
        }
      },
    });
    return { stream, truncated, maxRows };
  }
}

/** The REST shape of an event. */
export function serializeAuditEvent(e: AuditEvent): z.infer<typeof auditEventResponse> {
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
