import { apiCaller, apiRoute, json } from "@/lib/http/api";
import { serializeAliases } from "@/lib/storage/serialize";

type Ctx = { params: Promise<{ org: string; model: string }> };

/** Current aliases and the history of every move. */
export const GET = apiRoute(async (req, { params }: Ctx) => {
  const { org, model } = await params;
  const { principal, services } = await apiCaller(req);
  const [detail, history] = await Promise.all([
    services.catalog.getModel(principal, org, model),
    services.aliases.aliasHistory(principal, org, model),
  ]);
  return json(serializeAliases(detail, history));
});
