import { apiCaller, apiRoute, json } from "@/lib/http/api";
import { readJson } from "@/lib/http/body";
import { serializeModel } from "@/lib/storage/serialize";
import { createModelSchema, listModelsQuerySchema } from "@/lib/validations/models";

type Ctx = { params: Promise<{ org: string }> };

export const GET = apiRoute(async (req, { params }: Ctx) => {
  const { org } = await params;
  const query = listModelsQuerySchema.parse(Object.fromEntries(new URL(req.url).searchParams));
  const { principal, services } = await apiCaller(req);
  const page = await services.catalog.listModels(principal, org, query);
  return json({ items: page.items.map(serializeModel), next_cursor: page.next_cursor });
});

export const POST = apiRoute(async (req, { params }: Ctx) => {
  const { org } = await params;
  const { principal, services, meta } = await apiCaller(req);
  const input = createModelSchema.parse(await readJson(req));
  const model = await services.catalog.createModel(principal, org, input, meta);
  return json(serializeModel(model), { status: 201, headers: { location: `/api/v1/orgs/${org}/models/${model.slug}` } });
});
