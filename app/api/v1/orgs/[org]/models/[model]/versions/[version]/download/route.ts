import { apiCaller, apiRoute } from "@/lib/http/api";
import { archiveFormatParam, serveDownload } from "@/lib/http/download";

type Ctx = { params: Promise<{ org: string; model: string; version: string }> };

/**
 * A one-file version's file (HTTP Range, ETag, X-Content-SHA256), or with ?format=zip|tar the whole
 * version as one streamed archive (any number of files; exact Content-Length). Quarantined versions
 * need ?acknowledge_risk=true and an admin.
 */
async function handle(req: Request, { params }: Ctx) {
  const { org, model, version } = await params;
  const { principal, services, meta } = await apiCaller(req);
  const url = new URL(req.url);
  return serveDownload(req, services, principal, meta, {
    org,
    model,
    version,
    format: archiveFormatParam(url),
    acknowledgeRisk: url.searchParams.get("acknowledge_risk") === "true",
  });
}

export const GET = apiRoute(handle);
export const HEAD = apiRoute(handle);
