import { apiRoute, requestMeta } from "@/lib/http/api";
import { downloadResponse, requestedRange } from "@/lib/http/download";
import { getModelStorage } from "@/lib/storage/service";
import { verifyDownloadLink } from "@/lib/storage/signed-link";

type Ctx = { params: Promise<{ token: string }> };

/** Opens a local signed link: runs as the user who issued it, under RLS (a revoked member's links die). */
async function handle(req: Request, { params }: Ctx) {
  const { token } = await params;
  const { claims, target } = await verifyDownloadLink(token);
  const principal = { claims, userId: claims.sub, email: claims.email, via: "bearer" as const };
  const storage = getModelStorage();
  const v = await storage.getVersion(principal, target.org, target.model, target.version);
  const range = requestedRange(req, v);
  const d = await storage.openDownload(principal, target.org, target.model, target.version, { range, via: "link" }, requestMeta(req));
  return downloadResponse(d, req.method);
}

export const GET = apiRoute(handle);
export const HEAD = apiRoute(handle);
