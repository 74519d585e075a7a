import { apiCaller, apiRoute } from "@/lib/http/api";
import { serveDownload } from "@/lib/http/download";

type Ctx = { params: Promise<{ org: string; model: string; version: string; path: string[] }> };

/** One file of a version by its path (HTTP Range, ETag = its SHA-256, audited with the bytes served). */
async function handle(req: Request, { params }: Ctx) {
  const { org, model, version, path } = await params;
  const { principal, services, meta } = await apiCaller(req);
  return serveDownload(req, services, principal, meta, {
    org,
    model,
    version,
    path: path.join("/"),
    acknowledgeRisk: new URL(req.url).searchParams.get("acknowledge_risk") === "true",
  });
}

export const GET = apiRoute(handle);
export const HEAD = apiRoute(handle);
