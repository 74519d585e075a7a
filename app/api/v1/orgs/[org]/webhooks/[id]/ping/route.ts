import { apiCaller, apiRoute, json } from "@/lib/http/api";

type Ctx = { params: Promise<{ org: string; id: string }> };

/** POST: queues a signed `ping` event to this endpoint (admins); the delivery, pending. */
export const POST = apiRoute(async (req, { params }: Ctx) => {
  const { org, id } = await params;
  const { principal, services } = await apiCaller(req);
  return json(await services.webhooks.ping(principal, org, id), { status: 202 });
});
