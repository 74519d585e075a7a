import { apiCaller, apiRoute, json } from "@/lib/http/api";
import { readJson } from "@/lib/http/body";
import { setAliasSchema } from "@/lib/validations/models";

type Ctx = { params: Promise<{ org: string; model: string; alias: string }> };

/** Moves (or creates) an alias: body {"version": "2.1"}. */
export const PUT = apiRoute(async (req, { params }: Ctx) => {
  const { org, model, alias } = await params;
  const { principal, services, meta } = await apiCaller(req);
  const { version } = setAliasSchema.parse(await readJson(req));
  return json(await services.aliases.setAlias(principal, org, model, alias, version, meta));
});
