import { apiCaller, apiRoute, json } from "@/lib/http/api";
import { serializeUsage } from "@/lib/usage/usage";

type Ctx = { params: Promise<{ org: string }> };

/** GET: stored bytes and objects, breakdowns, growth, egress and the cost estimate of one org. */
export const GET = apiRoute(async (req, { params }: Ctx) => {
  const { org } = await params;
  const { principal, services } = await apiCaller(req);
  return json(serializeUsage(await services.usage.getUsage(principal, org)));
});
