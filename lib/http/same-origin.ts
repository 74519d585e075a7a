import { ERRORS } from "@/lib/errors";

// CSRF: a browser attaches the session cookie to any request it sends to us, including one a
// hostile page triggers (a form or a text/plain fetch, from another site — or from another port or
// subdomain of ours, which SameSite=Lax does not stop). So a request authenticated by the cookie may
// change something only when it comes from our own origin. Browsers say where a request comes from
// (Origin, Sec-Fetch-Site); a client that sends neither is not a browser and so cannot be tricked.

const SAFE = new Set(["GET", "HEAD", "OPTIONS"]);
// The content types a page may send to another origin without asking first (no CORS preflight).
// We never answer a preflight, so a cookie-authenticated API write in any other type came from our pages.
const SIMPLE_TYPES = new Set(["application/x-www-form-urlencoded", "multipart/form-data", "text/plain"]);

/** Throws 403 for a state-changing request whose Origin / Sec-Fetch-Site is not this site's own. */
export function assertSameOrigin(req: Request, appUrl?: string): void {
  if (SAFE.has(req.method)) return;
  const site = req.headers.get("sec-fetch-site");
  if (site && site !== "same-origin" && site !== "none") throw ERRORS.crossSiteRequest();
  const origin = req.headers.get("origin");
  if (origin === null) return;
  // IMPORTANT: Next builds req.url with its own host name (localhost), so the Host header is what the
  // browser used; APP_URL is the public address behind a proxy.
  const url = new URL(req.url);
  const allowed = new Set([url.origin]);
  const host = req.headers.get("host");
  if (host) allowed.add(`${url.protocol}//${host}`);
  if (appUrl) allowed.add(new URL(appUrl).origin);
  if (!allowed.has(origin)) throw ERRORS.crossSiteRequest();
}

/**
 * A cookie-authenticated API write: from our own origin, and not in a type another site can send
 * without a preflight (so a forged form or text/plain fetch is refused even where Origin is absent).
 */
export function assertCookieWriteAllowed(req: Request, appUrl?: string): void {
  if (SAFE.has(req.method)) return;
  const type = (req.headers.get("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
  if (SIMPLE_TYPES.has(type)) throw ERRORS.crossSiteRequest();
  assertSameOrigin(req, appUrl);
}
