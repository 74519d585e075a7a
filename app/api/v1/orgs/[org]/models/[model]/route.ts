import { apiCaller, apiRoute, json, readJson } from "@/lib/http/api";
import { serializeModel, serializeModelDetail } from "@/lib/storage/serialize";
import { updateModelSchema } from "@/lib/validations/models";

type Ctx = { params: Promise<{ org: string; model: string }> };

export const GET = apiRoute(async (req, { params }: Ctx) => {
  const { org, model } = await params;
  const { principal, storage } = await apiCaller(req);
  return json(serializeModelDetail(await storage.getModel(principal, org, model)));
});

export const PATCH = apiRoute(async (req, { params }: Ctx) => {
  const { org, model } = await params;
  const { principal, storage, meta } = await apiCaller(req);
  const patch = updateModelSchema.parse(await readJson(req));
  return json(serializeModel(await storage.updateModel(principal, org, model, patch, meta)));
});

export const DELETE = apiRoute(async (req, { params }: Ctx) => {
  const { org, model } = await params;
  const { principal, storage, meta } = await apiCaller(req);
  await storage.deleteModel(principal, org, model, meta);
  return new Response(null, { status: 204 });
});
