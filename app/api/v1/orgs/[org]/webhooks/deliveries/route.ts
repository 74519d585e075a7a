import { apiCaller, apiRoute, json } from "@/lib/http/api";
import { listDeliveriesQuerySchema } from "@/lib/validations/webhooks";

type Ctx = { params: Promise<{ org: string }> };

/** GET ?endpoint=&limit=: recent deliveries with every attempt (admins), newest first. */
export const GET = apiRoute(async (req, { params }: Ctx) => {
  const { org } = await params;
  const query = listDeliveriesQuerySchema.parse(Object.fromEntries(new URL(req.url).searchParams));
  const { principal, services } = await apiCaller(req);
  return json({ items: await services.webhooks.listDeliveries(principal, org, query) });
});
