import { apiCaller, apiRoute, json } from "@/lib/http/api";
import { serializeVersion } from "@/lib/storage/serialize";

type Ctx = { params: Promise<{ org: string; model: string }> };

export const GET = apiRoute(async (req, { params }: Ctx) => {
  const { org, model } = await params;
  const { principal, services } = await apiCaller(req);
  return json({ items: (await services.catalog.listVersions(principal, org, model)).map(serializeVersion) });
});
