import { apiCaller, apiRoute, json } from "@/lib/http/api";
import { serializeOrg } from "@/lib/storage/serialize";

export const GET = apiRoute(async (req) => {
  const { principal, storage } = await apiCaller(req);
  return json({ items: (await storage.listOrgs(principal)).map(serializeOrg) });
});
