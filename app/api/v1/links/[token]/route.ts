import { toPrincipal } from "@/lib/auth/principal";
import { apiRoute } from "@/lib/http/api";
import { requestMetaFrom } from "@/lib/http/caller";
import { downloadHeadResponse, downloadResponse, requestedRange } from "@/lib/http/download";
import { getServices } from "@/lib/services/services";
import { verifyDownloadLink } from "@/lib/storage/signed-link";

type Ctx = { params: Promise<{ token: string }> };

/** Opens a local signed link: runs as the user who issued it, under RLS (a revoked member's links die). */
async function handle(req: Request, { params }: Ctx) {
  const { token } = await params;
  const services = await getServices();
  const { claims, target } = await verifyDownloadLink(services.platform.config, token);
  const principal = toPrincipal(claims, "bearer");
  const { version: v } = await services.downloads.authorizeDownload(principal, target.org, target.model, target.version);
  const range = requestedRange(req, v);
  if (req.method === "HEAD") return downloadHeadResponse(v, range);
  const d = await services.downloads.openDownload(
    principal,
    target.org,
    target.model,
    target.version,
    { range, via: "link" },
    requestMetaFrom(req.headers),
  );
  return downloadResponse(d);
}

export const GET = apiRoute(handle);
export const HEAD = apiRoute(handle);
