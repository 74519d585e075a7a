import { getConfig } from "@/lib/config";
import { apiCaller, apiRoute, json } from "@/lib/http/api";
import { getUsage, serializeUsage } from "@/lib/usage/usage";

type Ctx = { params: Promise<{ org: string }> };

/** GET: stored bytes and objects, breakdowns, growth, egress and the cost estimate of one org. */
export const GET = apiRoute(async (req, { params }: Ctx) => {
  const { org } = await params;
  const { principal } = await apiCaller(req);
  const usage = await getUsage(principal.claims, org, { rates: getConfig().cost });
  return json(serializeUsage(usage));
});
