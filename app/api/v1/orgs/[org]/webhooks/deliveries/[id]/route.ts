import { apiCaller, apiRoute, json } from "@/lib/http/api";

type Ctx = { params: Promise<{ org: string; id: string }> };

/** GET: one delivery with its attempts (admins). */
export const GET = apiRoute(async (req, { params }: Ctx) => {
  const { org, id } = await params;
  const { principal, services } = await apiCaller(req);
  return json(await services.webhooks.getDelivery(principal, org, id));
});
