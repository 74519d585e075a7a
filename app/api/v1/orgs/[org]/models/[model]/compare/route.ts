import { AppError } from "@/lib/errors";
import { apiCaller, apiRoute, json } from "@/lib/http/api";

type Ctx = { params: Promise<{ org: string; model: string }> };

/** Two versions side by side: files added, removed and changed (by SHA-256), fields and tags that differ, size delta. */
export const GET = apiRoute(async (req, { params }: Ctx) => {
  const { org, model } = await params;
  const url = new URL(req.url);
  const from = url.searchParams.get("from");
  const to = url.searchParams.get("to");
  if (!from || !to)
    throw new AppError("invalid_input", "Name both versions: ?from=1.0&to=1.1", { fields: { from: "Required.", to: "Required." } });
  const { principal, services } = await apiCaller(req);
  return json(await services.files.compare(principal, org, model, from, to));
});
