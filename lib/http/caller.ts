import "server-only";
import { looksLikeApiToken } from "@/lib/auth/api-tokens";
import { toPrincipal, type Principal, type RequestMeta } from "@/lib/auth/principal";
import { getConfig } from "@/lib/config";
import { ERRORS } from "@/lib/errors";
import { getServices, type Services } from "@/lib/services/services";
import { clientAddress } from "./client-address";
import { assertCookieWriteAllowed } from "./same-origin";

// Who is calling, and from where: the one place a request's credentials become a Principal (route
// handlers, the tus endpoint, server actions and pages all come through here).

/** Client address (lib/http/client-address.ts) and agent, for the audit trail and sign-in throttling. */
export function requestMetaFrom(headers: Headers): RequestMeta {
  return { ip: clientAddress(headers, getConfig().trustedProxies), userAgent: headers.get("user-agent")?.slice(0, 512) ?? undefined };
}

/** Verifies a bearer credential: an API token (fm_…) or an access token from sign-in. */
export async function principalFromBearer(services: Services, token: string): Promise<Principal> {
  if (looksLikeApiToken(token)) {
    const claims = await services.tokens.resolve(token);
    if (!claims) throw ERRORS.unknownApiToken();
    return toPrincipal(claims, "api_token");
  }
  return toPrincipal(await services.platform.auth.verifyAccessToken(token), "bearer", token);
}

/** The signed-in user of this browser session, or null. */
export async function principalFromCookies(): Promise<Principal | null> {
  return (await getServices()).platform.auth.principalFromCookies();
}

/** The caller of an API request: the Authorization header first, then the session cookie. */
export async function principalFromRequest(req: Request, services?: Services): Promise<Principal | null> {
  const s = services ?? (await getServices());
  const header = req.headers.get("authorization");
  if (header) {
    const m = /^Bearer\s+([^\s]+)$/i.exec(header.trim());
    if (!m?.[1]) throw ERRORS.badAuthorizationHeader();
    return principalFromBearer(s, m[1]);
  }
  const p = await s.platform.auth.principalFromCookies();
  // The cookie comes with every request a browser sends here, even one another site triggers.
  if (p) assertCookieWriteAllowed(req, s.platform.config.appUrl);
  return p;
}

/** Like principalFromRequest, but a missing identity is a 401. */
export async function requirePrincipal(req: Request, services?: Services): Promise<Principal> {
  const p = await principalFromRequest(req, services);
  if (!p) throw ERRORS.signInRequired();
  return p;
}
