import { sql } from "kysely";
import { all, first, qb, run } from "../query";
import type { Queryable } from "../types";

// Webhook endpoints, deliveries and attempts (migration 20261203000300). Under the caller's claims
// (RLS: admins only) except the dispatcher's claim/record queries, which run on the server's own
// connection: they are the background job, not a user request.

export interface WebhookEndpointRow {
  id: string;
  org_id: string;
  url: string;
  description: string;
  events: string[];
  active: boolean;
  created_by: string | null;
  created_at: Date;
}

const ENDPOINT_COLUMNS = ["id", "org_id", "url", "description", "events", "active", "created_by", "created_at"] as const;

export interface WebhookDeliveryRow {
  id: string;
  org_id: string;
  endpoint_id: string;
  event_id: string;
  event_type: string;
  payload: unknown;
  status: "pending" | "delivering" | "succeeded" | "failed";
  attempts: number;
  next_attempt_at: Date;
  last_status_code: number | null;
  last_error: string | null;
  redelivery_of: string | null;
  created_at: Date;
  completed_at: Date | null;
}

const DELIVERY_COLUMNS = [
  "id",
  "org_id",
  "endpoint_id",
  "event_id",
  "event_type",
  "payload",
  "status",
  "attempts",
  "next_attempt_at",
  "last_status_code",
  "last_error",
  "redelivery_of",
  "created_at",
  "completed_at",
] as const;

export interface WebhookAttemptRow {
  delivery_id: string;
  attempt: number;
  started_at: Date;
  duration_ms: number;
  status_code: number | null;
  error: string | null;
}

/** Raises an event for the org's subscribed endpoints, in the caller's transaction; deliveries made. */
export async function enqueueWebhookEvent(tx: Queryable, orgId: string, type: string, data: Record<string, unknown>): Promise<number> {
  const { rows } = await tx.query<{ n: number }>("select public.enqueue_webhook_event($1, $2, $3::jsonb) as n", [
    orgId,
    type,
    JSON.stringify(data),
  ]);
  return Number(rows[0]?.n ?? 0);
}

export async function insertEndpoint(
  tx: Queryable,
  e: { orgId: string; url: string; description: string; events: string[]; secret: string },
): Promise<WebhookEndpointRow> {
  return (await first(
    tx,
    qb
      .insertInto("webhook_endpoints")
      .values({ org_id: e.orgId, url: e.url, description: e.description, events: e.events, secret: e.secret })
      .returning(ENDPOINT_COLUMNS),
  )) as WebhookEndpointRow;
}

export async function listEndpoints(tx: Queryable, orgId: string): Promise<WebhookEndpointRow[]> {
  return (await all(
    tx,
    qb.selectFrom("webhook_endpoints").select(ENDPOINT_COLUMNS).where("org_id", "=", orgId).orderBy("created_at", "desc").limit(100),
  )) as WebhookEndpointRow[];
}

export async function findEndpoint(tx: Queryable, orgId: string, id: string): Promise<WebhookEndpointRow | undefined> {
  return (await first(tx, qb.selectFrom("webhook_endpoints").select(ENDPOINT_COLUMNS).where("org_id", "=", orgId).where("id", "=", id))) as
    WebhookEndpointRow | undefined;
}

export async function deleteEndpoint(tx: Queryable, orgId: string, id: string): Promise<number> {
  return run(tx, qb.deleteFrom("webhook_endpoints").where("org_id", "=", orgId).where("id", "=", id));
}

/** Deliveries of an org (optionally one endpoint's), newest first. */
export async function listDeliveries(
  tx: Queryable,
  orgId: string,
  opts: { endpointId?: string; limit: number },
): Promise<WebhookDeliveryRow[]> {
  let q = qb.selectFrom("webhook_deliveries").select(DELIVERY_COLUMNS).where("org_id", "=", orgId);
  if (opts.endpointId) q = q.where("endpoint_id", "=", opts.endpointId);
  return (await all(tx, q.orderBy("created_at", "desc").orderBy("id").limit(opts.limit))) as WebhookDeliveryRow[];
}

export async function findDelivery(tx: Queryable, orgId: string, id: string): Promise<WebhookDeliveryRow | undefined> {
  return (await first(
    tx,
    qb.selectFrom("webhook_deliveries").select(DELIVERY_COLUMNS).where("org_id", "=", orgId).where("id", "=", id),
  )) as WebhookDeliveryRow | undefined;
}

/** Attempts of these deliveries, in order. */
export async function listAttempts(tx: Queryable, deliveryIds: string[]): Promise<WebhookAttemptRow[]> {
  if (!deliveryIds.length) return [];
  return (await all(
    tx,
    qb
      .selectFrom("webhook_attempts")
      .select(["delivery_id", "attempt", "started_at", "duration_ms", "status_code", "error"])
      .where("delivery_id", "in", deliveryIds)
      .orderBy("delivery_id")
      .orderBy("attempt"),
  )) as WebhookAttemptRow[];
}

export async function pingEndpoint(tx: Queryable, id: string): Promise<string> {
  const { rows } = await tx.query<{ id: string }>("select public.ping_webhook_endpoint($1) as id", [id]);
  return rows[0]!.id;
}

export async function redeliver(tx: Queryable, id: string): Promise<string> {
  const { rows } = await tx.query<{ id: string }>("select public.redeliver_webhook($1) as id", [id]);
  return rows[0]!.id;
}

// ── the dispatcher (server connection) ──────────────────────────────────────────────────────────

export interface ClaimedDelivery {
  id: string;
  endpoint_id: string;
  event_id: string;
  event_type: string;
  payload: unknown;
  attempts: number;
  url: string;
  secret: string;
  active: boolean;
}

/**
 * Claims up to `limit` due deliveries for `leaseMs`: pending ones whose time has come, and claimed
 * ones whose dispatcher died (lease over). `for update skip locked`: dispatchers on several servers
 * never take the same row. Each claim counts as an attempt.
 */
export async function claimDueDeliveries(tx: Queryable, limit: number, leaseMs: number): Promise<ClaimedDelivery[]> {
  const { rows } = await tx.query<ClaimedDelivery>(
    `with due as (
       select id from public.webhook_deliveries
       where (status = 'pending' and next_attempt_at <= now()) or (status = 'delivering' and locked_until < now())
       order by next_attempt_at
       limit $1
       for update skip locked
     )
     update public.webhook_deliveries d
        set status = 'delivering', attempts = d.attempts + 1, locked_until = now() + make_interval(secs => $2::double precision / 1000)
       from due, public.webhook_endpoints e
      where d.id = due.id and e.id = d.endpoint_id
     returning d.id, d.endpoint_id, d.event_id, d.event_type, d.payload, d.attempts, e.url, e.secret, e.active`,
    [limit, leaseMs],
  );
  return rows;
}

/**
 * Records one attempt and settles the delivery: succeeded; failed when it was the last attempt; else
 * pending again at `retryAt`. Only while this dispatcher still holds the claim (`attempts` matches).
 */
export async function recordAttempt(
  tx: Queryable,
  a: {
    deliveryId: string;
    attempt: number;
    startedAt: Date;
    durationMs: number;
    statusCode: number | null;
    error: string | null;
    ok: boolean;
    retryAt: Date | null;
  },
): Promise<void> {
  const status = a.ok ? "succeeded" : a.retryAt ? "pending" : "failed";
  const updated = await run(
    tx,
    qb
      .updateTable("webhook_deliveries")
      .set({
        status,
        locked_until: null,
        last_status_code: a.statusCode,
        last_error: a.error?.slice(0, 500) ?? null,
        next_attempt_at: a.retryAt ?? sql<Date>`next_attempt_at`,
        completed_at: status === "pending" ? null : sql<Date>`now()`,
      })
      .where("id", "=", a.deliveryId)
      .where("attempts", "=", a.attempt)
      .where("status", "=", "delivering"),
  );
  if (!updated) return;
  await run(
    tx,
    qb.insertInto("webhook_attempts").values({
      delivery_id: a.deliveryId,
      org_id: sql<string>`(select org_id from public.webhook_deliveries where id = ${a.deliveryId})`,
      attempt: a.attempt,
      started_at: a.startedAt,
      duration_ms: a.durationMs,
      status_code: a.statusCode,
      error: a.error?.slice(0, 500) ?? null,
    }),
  );
}
