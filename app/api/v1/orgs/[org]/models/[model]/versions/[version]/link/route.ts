import { apiCaller, apiRoute, json } from "@/lib/http/api";
import { readJson } from "@/lib/http/body";
import { signDownloadLink } from "@/lib/storage/signed-link";
import { linkRequest } from "@/lib/validations/api-files";

type Ctx = { params: Promise<{ org: string; model: string; version: string }> };

/**
 * A short-lived download link for scripts and sharing: a one-file version's file, one file by
 * `path`, or the whole version as an archive (`format`: zip or tar). In every mode it points at this
 * server (not straight at Storage), so the download itself is authorized under RLS when it happens —
 * a revoked membership or API token kills the link — and audited with the bytes it served.
 */
export const POST = apiRoute(async (req, { params }: Ctx) => {
  const { org, model, version } = await params;
  const { principal, services, meta } = await apiCaller(req);
  const body = linkRequest.parse(await readJson(req));
  const target = body.format ? { format: body.format } : { path: body.path };
  const { config } = services.platform;
  const ttl = config.signedUrlTtlSeconds;
  await services.downloads.authorizeLink(principal, org, model, version, ttl, meta, target);
  const { token, expiresAt } = await signDownloadLink(config, principal.claims, { org, model, version, ...target }, ttl);
  const url = new URL(`/api/v1/links/${token}`, config.appUrl ?? req.url).toString();
  return json({ url, expires_at: expiresAt.toISOString() }, { status: 201 });
});
