import { apiCaller, apiRoute } from "@/lib/http/api";
import { downloadHeadResponse, downloadHeaders, downloadResponse, requestedRange } from "@/lib/http/download";

type Ctx = { params: Promise<{ org: string; model: string; version: string }> };

/** Streams the file (HTTP Range, ETag, X-Content-SHA256). Quarantined files need ?acknowledge_risk=true and an admin. */
async function handle(req: Request, { params }: Ctx) {
  const { org, model, version } = await params;
  const { principal, services, meta } = await apiCaller(req);
  const acknowledgeRisk = new URL(req.url).searchParams.get("acknowledge_risk") === "true";
  // HEAD and a conditional GET answer only what a GET would be allowed to (same checks, no bytes, no record).
  const { version: v } = await services.downloads.authorizeDownload(principal, org, model, version, { acknowledgeRisk });
  if (req.headers.get("if-none-match") === `"${v.sha256}"` && v.status === "ready") {
    return new Response(null, { status: 304, headers: downloadHeaders(v, v.object_key.split("/").pop()!) });
  }
  const range = requestedRange(req, v);
  if (req.method === "HEAD") return downloadHeadResponse(v, range);
  const d = await services.downloads.openDownload(principal, org, model, version, { range, acknowledgeRisk }, meta);
  return downloadResponse(d);
}

export const GET = apiRoute(handle);
export const HEAD = apiRoute(handle);
