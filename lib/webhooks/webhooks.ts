import "server-only";
import type { z } from "zod";
import type { Principal, RequestMeta } from "@/lib/auth/principal";
import { recordAudit } from "@/lib/db/queries/audit";
import * as q from "@/lib/db/queries/webhooks";
import { ERRORS, toAppError } from "@/lib/errors";
import { Service } from "@/lib/services/base";
import { resolveOrg } from "@/lib/services/resolve";
import {
  createWebhookSchema,
  listDeliveriesQuerySchema,
  type CreateWebhookInput,
  type webhookDeliveryResponse,
  type webhookEndpointResponse,
} from "@/lib/validations/webhooks";
import { generateWebhookSecret } from "./signing";
import { resolveWebhookTarget } from "./ssrf";

// Managing an organization's webhooks: admins only (RLS decides; resolveOrg gives the clear 403).
// Events themselves are raised by the services that change things (enqueueWebhookEvent), and sent by
// the dispatcher (lib/webhooks/dispatcher.ts).

export type WebhookEndpoint = z.infer<typeof webhookEndpointResponse>;
export type WebhookDelivery = z.infer<typeof webhookDeliveryResponse>;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const iso = (d: Date | string | null) => (d === null ? null : new Date(d).toISOString());

function serializeEndpoint(e: q.WebhookEndpointRow, secret?: string): WebhookEndpoint {
  return {
    id: e.id,
    url: e.url,
    description: e.description,
    events: e.events,
    active: e.active,
    created_at: iso(e.created_at)!,
    ...(secret ? { secret } : {}),
  };
}

function serializeDelivery(d: q.WebhookDeliveryRow, attempts: q.WebhookAttemptRow[]): WebhookDelivery {
  return {
    id: d.id,
    endpoint_id: d.endpoint_id,
    event_id: d.event_id,
    event_type: d.event_type,
    status: d.status,
    attempts: d.attempts,
    next_attempt_at: d.status === "pending" ? iso(d.next_attempt_at) : null,
    last_status_code: d.last_status_code,
    last_error: d.last_error,
    redelivery_of: d.redelivery_of,
    created_at: iso(d.created_at)!,
    completed_at: iso(d.completed_at),
    payload: (typeof d.payload === "string" ? JSON.parse(d.payload) : d.payload) as Record<string, unknown>,
    attempt_log: attempts.map((a) => ({
      attempt: a.attempt,
      started_at: iso(a.started_at)!,
      duration_ms: a.duration_ms,
      status_code: a.status_code,
      error: a.error,
    })),
  };
}

export class WebhookService extends Service {
  private get settings() {
    return this.config.webhooks;
  }

  /** The organization's endpoints (admins). */
  async listEndpoints(p: Principal, orgSlug: string): Promise<WebhookEndpoint[]> {
    return this.as(p, async (tx) =>
      (await q.listEndpoints(tx, (await resolveOrg(tx, orgSlug, "admin")).id)).map((e) => serializeEndpoint(e)),
    );
  }

  /**
   * Registers an endpoint (admins). The URL must resolve to addresses a webhook may reach; the secret
   * (generated unless given) is in this answer only.
   */
  async createEndpoint(p: Principal, orgSlug: string, input: CreateWebhookInput, meta: RequestMeta = {}): Promise<WebhookEndpoint> {
    const parsed = createWebhookSchema.safeParse(input);
    if (!parsed.success) throw toAppError(parsed.error);
    const data = parsed.data;
    const secret = data.secret ?? generateWebhookSecret();
    return this.as(p, async (tx) => {
      const org = await resolveOrg(tx, orgSlug, "admin");
      // After the role check: strangers learn nothing about which hosts resolve.
      const { url } = await resolveWebhookTarget(data.url, { allowPrivate: this.settings.allowPrivate });
      const row = await q.insertEndpoint(tx, {
        orgId: org.id,
        url: url.toString(),
        description: data.description,
        events: data.events,
        secret,
      });
      await recordAudit(tx, {
        orgId: org.id,
        action: "webhook.create",
        target: ["webhook_endpoint", row.id],
        details: { url: row.url, events: row.events },
        meta,
      });
      return serializeEndpoint(row, secret);
    });
  }

  /** Removes an endpoint and its delivery log (admins). */
  async deleteEndpoint(p: Principal, orgSlug: string, id: string, meta: RequestMeta = {}): Promise<void> {
    await this.as(p, async (tx) => {
      const org = await resolveOrg(tx, orgSlug, "admin");
      const endpoint = UUID.test(id) ? await q.findEndpoint(tx, org.id, id) : undefined;
      if (!endpoint || !(await q.deleteEndpoint(tx, org.id, id))) throw ERRORS.noSuchWebhook();
      await recordAudit(tx, {
        orgId: org.id,
        action: "webhook.delete",
        target: ["webhook_endpoint", id],
        details: { url: endpoint.url },
        meta,
      });
    });
  }

  /** Recent deliveries with every attempt (admins), newest first. */
  async listDeliveries(p: Principal, orgSlug: string, query: { endpoint?: string; limit?: number } = {}): Promise<WebhookDelivery[]> {
    const parsed = listDeliveriesQuerySchema.safeParse(query);
    if (!parsed.success) throw toAppError(parsed.error);
    const opts = parsed.data;
    return this.as(p, async (tx) => {
      const org = await resolveOrg(tx, orgSlug, "admin");
      const rows = await q.listDeliveries(tx, org.id, { endpointId: opts.endpoint, limit: opts.limit });
      const attempts = await q.listAttempts(
        tx,
        rows.map((r) => r.id),
      );
      return rows.map((r) =>
        serializeDelivery(
          r,
          attempts.filter((a) => a.delivery_id === r.id),
        ),
      );
    });
  }

  async getDelivery(p: Principal, orgSlug: string, id: string): Promise<WebhookDelivery> {
    return this.as(p, async (tx) => {
      const org = await resolveOrg(tx, orgSlug, "admin");
      const row = UUID.test(id) ? await q.findDelivery(tx, org.id, id) : undefined;
      if (!row) throw ERRORS.noSuchWebhookDelivery();
      return serializeDelivery(row, await q.listAttempts(tx, [id]));
    });
  }

  /** Sends a delivery's event again (a new delivery: same event id and body). */
  async redeliver(p: Principal, orgSlug: string, id: string): Promise<WebhookDelivery> {
    const newId = await this.as(p, async (tx) => {
      const org = await resolveOrg(tx, orgSlug, "admin");
      if (!UUID.test(id) || !(await q.findDelivery(tx, org.id, id))) throw ERRORS.noSuchWebhookDelivery();
      return q.redeliver(tx, id);
    });
    return this.getDelivery(p, orgSlug, newId);
  }

  /** Queues a `ping` event to one endpoint. */
  async ping(p: Principal, orgSlug: string, endpointId: string): Promise<WebhookDelivery> {
    const newId = await this.as(p, async (tx) => {
      const org = await resolveOrg(tx, orgSlug, "admin");
      if (!UUID.test(endpointId) || !(await q.findEndpoint(tx, org.id, endpointId))) throw ERRORS.noSuchWebhook();
      return q.pingEndpoint(tx, endpointId);
    });
    return this.getDelivery(p, orgSlug, newId);
  }
}
