import { ERRORS } from "@/lib/errors";

// CSRF: a browser attaches the session cookie to any request it sends to us, including one a
// hostile page triggers (a form or a text/plain fetch, from another site — or from another port or
// subdomain of ours, which SameSite=Lax does not stop). So a request authenticated by the cookie may
// change something only when it comes from our own origin. Browsers say where a request comes from
// (Origin, Sec-Fetch-Site); a client that sends neither is not a browser and so cannot be tricked.

const SAFE = new Set(["GET", "HEAD", "OPTIONS"]);

/** Throws 403 for a state-changing request from another origin (cookie-authenticated requests only). */
export function assertSameOrigin(req: Request, appUrl?: string): void {
  if (SAFE.has(req.method)) return;
  const site = req.headers.get("sec-fetch-site");
  if (site && site !== "same-origin" && site !== "none") throw ERRORS.crossSiteRequest();
  const origin = req.headers.get("origin");
  if (origin === null) return;
  const allowed = new Set([new URL(req.url).origin]);
  const host = req.headers.get("host");
  if (host) {
    const proto = new URL(req.url).protocol;
    allowed.add(`${proto}//${host}`);
  }
  if (appUrl) allowed.add(new URL(appUrl).origin);
  if (!allowed.has(origin)) throw ERRORS.crossSiteRequest();
}
