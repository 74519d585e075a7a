import { apiCaller, apiRoute, json } from "@/lib/http/api";

type Ctx = { params: Promise<{ org: string; id: string }> };

/** POST: sends the delivery's event again, as a new delivery with the same event id and body (admins). */
export const POST = apiRoute(async (req, { params }: Ctx) => {
  const { org, id } = await params;
  const { principal, services } = await apiCaller(req);
  return json(await services.webhooks.redeliver(principal, org, id), { status: 202 });
});
