import { list } from "@/lib/validations/api";
import {
  createWebhookSchema,
  listDeliveriesQuerySchema,
  webhookDeliveryResponse,
  webhookEndpointResponse,
} from "@/lib/validations/webhooks";
import type { Method, Operation } from "./openapi-types";

// The webhook operations of REST API v1 (docs/webhooks.md), part of the document lib/http/openapi.ts generates.

const W = "/api/v1/orgs/{org}/webhooks";

export const WEBHOOK_OPERATIONS: Record<string, Partial<Record<Method, Operation>>> = {
  [W]: {
    get: {
      summary: "The organization's webhook endpoints (admins; secrets are never listed)",
      ok: { status: 200, description: "Endpoints", schema: list(webhookEndpointResponse) },
      errors: [401, 403, 404],
    },
    post: {
      summary: "Register a webhook endpoint (admins); the signing secret is in this answer only",
      description:
        'Events are POSTed as JSON with `FairMind-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`. Private, loopback and link-local targets are refused unless the server sets WEBHOOKS_ALLOW_PRIVATE=true.',
      body: createWebhookSchema,
      ok: { status: 201, description: "The endpoint, with its secret", schema: webhookEndpointResponse },
      errors: [401, 403, 404, 422],
    },
  },
  [`${W}/{id}`]: {
    delete: {
      summary: "Remove an endpoint and its delivery log (admins)",
      ok: { status: 204, description: "Removed" },
      errors: [401, 403, 404],
    },
  },
  [`${W}/{id}/ping`]: {
    post: {
      summary: "Queue a signed `ping` event to this endpoint (admins)",
      ok: { status: 202, description: "The queued delivery", schema: webhookDeliveryResponse },
      errors: [401, 403, 404],
    },
  },
  [`${W}/deliveries`]: {
    get: {
      summary: "Recent deliveries with each attempt's status code, error and duration (admins), newest first",
      query: listDeliveriesQuerySchema,
      ok: { status: 200, description: "Deliveries", schema: list(webhookDeliveryResponse) },
      errors: [401, 403, 404, 422],
    },
  },
  [`${W}/deliveries/{id}`]: {
    get: {
      summary: "One delivery with its attempts (admins)",
      ok: { status: 200, description: "The delivery", schema: webhookDeliveryResponse },
      errors: [401, 403, 404],
    },
  },
  [`${W}/deliveries/{id}/redeliver`]: {
    post: {
      summary: "Send a delivery's event again: a new delivery with the same event id and body (admins)",
      ok: { status: 202, description: "The new delivery", schema: webhookDeliveryResponse },
      errors: [401, 403, 404],
    },
  },
};
