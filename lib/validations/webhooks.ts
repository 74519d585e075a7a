import { z } from "zod";
import { text } from "./models";

// Webhook endpoints and deliveries over the API and in forms (docs/webhooks.md).

export const WEBHOOK_EVENTS = ["version.created", "version.quarantined", "version.deleted", "alias.moved"] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENTS)[number];

const isoDate = z.iso.datetime({ offset: true });

export const createWebhookSchema = z.object({
  url: z
    .string()
    .trim()
    .max(2048)
    .regex(/^https?:\/\//i, "Only http:// and https:// URLs.")
    .describe("Where to POST events: http(s); private and loopback addresses are refused unless WEBHOOKS_ALLOW_PRIVATE=true"),
  description: text(200).optional().default(""),
  events: z
    .array(z.enum(WEBHOOK_EVENTS))
    .min(1, "Choose at least one event.")
    .transform((e) => [...new Set(e)])
    .describe("Events to send"),
  secret: z
    .string()
    .min(16, "At least 16 characters.")
    .max(200)
    .regex(/^[\x21-\x7e]+$/, "Printable ASCII without spaces.")
    .optional()
    .describe("Signing secret; omit it and the server generates one (returned once)"),
});
export type CreateWebhookInput = z.input<typeof createWebhookSchema>;

export const listDeliveriesQuerySchema = z.object({
  endpoint: z.uuid().optional().describe("Only this endpoint's deliveries"),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

export const webhookEndpointResponse = z
  .object({
    id: z.uuid(),
    url: z.string(),
    description: z.string(),
    events: z.array(z.string()),
    active: z.boolean(),
    created_at: isoDate,
    secret: z.string().optional().describe("The signing secret: only in the answer to POST, shown once"),
  })
  .meta({ id: "WebhookEndpoint" });

export const webhookAttemptResponse = z.object({
  attempt: z.number().int(),
  started_at: isoDate,
  duration_ms: z.number().int(),
  status_code: z.number().int().nullable(),
  error: z.string().nullable(),
});

export const webhookDeliveryResponse = z
  .object({
    id: z.uuid(),
    endpoint_id: z.uuid(),
    event_id: z.uuid(),
    event_type: z.string(),
    status: z.enum(["pending", "delivering", "succeeded", "failed"]),
    attempts: z.number().int(),
    next_attempt_at: isoDate.nullable().describe("When the next attempt is due (pending deliveries)"),
    last_status_code: z.number().int().nullable(),
    last_error: z.string().nullable(),
    redelivery_of: z.uuid().nullable(),
    created_at: isoDate,
    completed_at: isoDate.nullable(),
    payload: z.record(z.string(), z.unknown()).describe("The body sent (docs/webhooks.md)"),
    attempt_log: z.array(webhookAttemptResponse),
  })
  .meta({ id: "WebhookDelivery" });
