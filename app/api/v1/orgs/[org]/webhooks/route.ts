import { apiCaller, apiRoute, json } from "@/lib/http/api";
import { readJson } from "@/lib/http/body";
import { createWebhookSchema } from "@/lib/validations/webhooks";

type Ctx = { params: Promise<{ org: string }> };

/** GET: the organization's webhook endpoints (admins). Secrets are never listed. */
export const GET = apiRoute(async (req, { params }: Ctx) => {
  const { org } = await params;
  const { principal, services } = await apiCaller(req);
  return json({ items: await services.webhooks.listEndpoints(principal, org) });
});

/** POST {url, events, description?, secret?}: registers an endpoint; the signing secret is in this answer only. */
export const POST = apiRoute(async (req, { params }: Ctx) => {
  const { org } = await params;
  const input = createWebhookSchema.parse(await readJson(req));
  const { principal, services, meta } = await apiCaller(req);
  return json(await services.webhooks.createEndpoint(principal, org, input, meta), { status: 201 });
});
