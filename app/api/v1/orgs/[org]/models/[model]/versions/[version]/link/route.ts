import { apiCaller, apiRoute, json } from "@/lib/http/api";
import { signDownloadLink } from "@/lib/storage/signed-link";

type Ctx = { params: Promise<{ org: string; model: string; version: string }> };

/** A short-lived download link for scripts and sharing (audited when issued and when used). */
export const POST = apiRoute(async (req, { params }: Ctx) => {
  const { org, model, version } = await params;
  const { principal, services, meta } = await apiCaller(req);
  const { config } = services.platform;
  const ttl = config.signedUrlTtlSeconds;
  const { version: v } = await services.downloads.authorizeLink(principal, org, model, version, ttl, meta);
  const store = await services.platform.blobs.forVersion(principal, v.storage_backend);
  if (store.createSignedUrl) {
    const url = await store.createSignedUrl(v.object_key, ttl, { downloadName: v.object_key.split("/").pop() });
    return json({ url, expires_at: new Date(Date.now() + ttl * 1000).toISOString() }, { status: 201 });
  }
  const { token, expiresAt } = await signDownloadLink(config, principal.claims, { org, model, version }, ttl);
  const url = new URL(`/api/v1/links/${token}`, req.url).toString();
  return json({ url, expires_at: expiresAt.toISOString() }, { status: 201 });
});
