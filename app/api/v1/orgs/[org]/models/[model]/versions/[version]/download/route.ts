import { apiCaller, apiRoute } from "@/lib/http/api";
import { downloadHeaders, downloadResponse, requestedRange } from "@/lib/http/download";

type Ctx = { params: Promise<{ org: string; model: string; version: string }> };

/** Streams the file (HTTP Range, ETag, X-Content-SHA256). Quarantined files need ?acknowledge_risk=true and an admin. */
async function handle(req: Request, { params }: Ctx) {
  const { org, model, version } = await params;
  const { principal, services, meta } = await apiCaller(req);
  const v = await services.catalog.getVersion(principal, org, model, version);
  if (req.headers.get("if-none-match") === `"${v.sha256}"` && v.status === "ready") {
    return new Response(null, { status: 304, headers: downloadHeaders(v, v.object_key.split("/").pop()!) });
  }
  const range = requestedRange(req, v);
  if (req.method === "HEAD") {
    // A HEAD reads nothing: answer from the row, without an audit event or egress.
    const headers = downloadHeaders(v, v.object_key.split("/").pop()!);
    const size = v.size_bytes ?? 0;
    headers.set("content-length", String(range ? range.end - range.start + 1 : size));
    if (range) headers.set("content-range", `bytes ${range.start}-${range.end}/${size}`);
    return new Response(null, { status: range ? 206 : 200, headers });
  }
  const acknowledgeRisk = new URL(req.url).searchParams.get("acknowledge_risk") === "true";
  const d = await services.downloads.openDownload(principal, org, model, version, { range, acknowledgeRisk }, meta);
  return downloadResponse(d, req.method);
}

export const GET = apiRoute(handle);
export const HEAD = apiRoute(handle);
