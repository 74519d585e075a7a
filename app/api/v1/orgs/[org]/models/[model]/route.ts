import { apiCaller, apiRoute, json } from "@/lib/http/api";
import { readJson } from "@/lib/http/body";
import { serializeModel, serializeModelDetail } from "@/lib/storage/serialize";
import { updateModelSchema } from "@/lib/validations/models";

type Ctx = { params: Promise<{ org: string; model: string }> };

export const GET = apiRoute(async (req, { params }: Ctx) => {
  const { org, model } = await params;
  const { principal, services } = await apiCaller(req);
  return json(serializeModelDetail(await services.catalog.getModel(principal, org, model)));
});

export const PATCH = apiRoute(async (req, { params }: Ctx) => {
  const { org, model } = await params;
  const { principal, services, meta } = await apiCaller(req);
  const patch = updateModelSchema.parse(await readJson(req));
  return json(serializeModel(await services.catalog.updateModel(principal, org, model, patch, meta)));
});

export const DELETE = apiRoute(async (req, { params }: Ctx) => {
  const { org, model } = await params;
  const { principal, services, meta } = await apiCaller(req);
  await services.catalog.deleteModel(principal, org, model, meta);
  return new Response(null, { status: 204 });
});
