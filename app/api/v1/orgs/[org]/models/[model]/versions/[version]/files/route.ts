import { apiCaller, apiRoute, json } from "@/lib/http/api";
import { serializeVersionFile } from "@/lib/storage/serialize";

type Ctx = { params: Promise<{ org: string; model: string; version: string }> };

/** The files of a version, by path: size, SHA-256, format, scan verdict, a download URL each. */
export const GET = apiRoute(async (req, { params }: Ctx) => {
  const { org, model, version } = await params;
  const { principal, services } = await apiCaller(req);
  const r = await services.files.listFiles(principal, org, model, version);
  return json({
    version: r.version.version,
    layout: r.version.layout,
    items: r.files.map((f) => serializeVersionFile(f, { org, model, version: r.version.version })),
  });
});
