import { toPrincipal } from "@/lib/auth/principal";
import { apiRoute } from "@/lib/http/api";
import { requestMetaFrom } from "@/lib/http/caller";
import { serveDownload } from "@/lib/http/download";
import { getServices } from "@/lib/services/services";
import { verifyDownloadLink } from "@/lib/storage/signed-link";

type Ctx = { params: Promise<{ token: string }> };

/** Opens a local signed link: runs as the user who issued it, under RLS (a revoked member's links die). */
async function handle(req: Request, { params }: Ctx) {
  const { token } = await params;
  const services = await getServices();
  const { claims, target } = await verifyDownloadLink(services.platform.config, token);
  return serveDownload(req, services, toPrincipal(claims, "bearer"), requestMetaFrom(req.headers), { ...target, via: "link" });
}

export const GET = apiRoute(handle);
export const HEAD = apiRoute(handle);
