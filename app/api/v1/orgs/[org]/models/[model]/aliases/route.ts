import { apiCaller, apiRoute, json } from "@/lib/http/api";

type Ctx = { params: Promise<{ org: string; model: string }> };

/** Current aliases and the history of every move. */
export const GET = apiRoute(async (req, { params }: Ctx) => {
  const { org, model } = await params;
  const { principal, services } = await apiCaller(req);
  const [detail, history] = await Promise.all([
    services.catalog.getModel(principal, org, model),
    services.aliases.aliasHistory(principal, org, model),
  ]);
  return json({
    items: detail.aliases.map((a) => ({ alias: a.alias, version: a.version, updated_at: a.updated_at, updated_by: a.updated_by_email })),
    history: history.map((h) => ({
      alias: h.alias,
      from: h.from_version,
      to: h.to_version,
      moved_by: h.moved_by_email,
      moved_at: h.moved_at,
    })),
  });
});
