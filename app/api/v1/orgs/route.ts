import { apiCaller, apiRoute, json } from "@/lib/http/api";
import { serializeOrg } from "@/lib/storage/serialize";

export const GET = apiRoute(async (req) => {
  const { principal, services } = await apiCaller(req);
  return json({ items: (await services.catalog.listOrgs(principal)).map(serializeOrg) });
});
