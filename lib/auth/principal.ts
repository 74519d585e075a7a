import "server-only";
import { cookies } from "next/headers";
import { getConfig } from "@/lib/config";
import type { Claims } from "@/lib/db/types";
import { AppError } from "@/lib/errors";
import { looksLikeApiToken, resolveApiToken } from "./api-tokens";
import { SESSION_COOKIE, verifySessionToken } from "./session-token";
import { verifySupabaseAccessToken } from "./supabase-token";

/** Who is making a request, from verified credentials only (never from getSession() alone). */
export interface Principal {
  claims: Claims;
  userId: string;
  email?: string;
  via: "session" | "api_token" | "bearer";
  /** The Supabase access token (supabase mode), so Storage applies its own RLS for this user. */
  accessToken?: string;
}

const toPrincipal = (claims: Claims, via: Principal["via"], accessToken?: string): Principal => ({
  claims,
  userId: claims.sub,
  email: claims.email,
  via,
  accessToken,
});

/** Verifies a bearer credential: an API token (fm_…) or an access token from sign-in. */
export async function principalFromBearer(token: string): Promise<Principal> {
  if (looksLikeApiToken(token)) {
    const claims = await resolveApiToken(token);
    if (!claims) throw new AppError("unauthorized", "This API token is unknown, revoked or expired.");
    return toPrincipal(claims, "api_token");
  }
  const claims = getConfig().mode === "supabase" ? await verifySupabaseAccessToken(token) : await verifySessionToken(token);
  return toPrincipal(claims, "bearer", token);
}

/** The signed-in user of this browser session, or null. A tampered or expired cookie counts as signed out. */
export async function principalFromCookies(): Promise<Principal | null> {
  if (getConfig().mode === "supabase") {
    const { createClient } = await import("@/lib/supabase/server");
    const supabase = await createClient();
    const { data } = await supabase.auth.getClaims();
    if (!data?.claims?.sub) return null;
    const { data: s } = await supabase.auth.getSession();
    return toPrincipal({ ...(data.claims as unknown as Claims), role: "authenticated" }, "session", s.session?.access_token);
  }
  const token = (await cookies()).get(SESSION_COOKIE)?.value;
  if (!token) return null;
  try {
    return toPrincipal(await verifySessionToken(token), "session", token);
  } catch {
    return null;
  }
}

/** Resolves the caller of an API request: Authorization header first, then the session cookie. */
export async function principalFromRequest(req: Request): Promise<Principal | null> {
  const header = req.headers.get("authorization");
  if (header) {
    const m = /^Bearer\s+([^\s]+)$/i.exec(header.trim());
    if (!m?.[1]) throw new AppError("unauthorized", "Use 'Authorization: Bearer <token>'.");
    return principalFromBearer(m[1]);
  }
  return principalFromCookies();
}

/** Like principalFromRequest, but a missing identity is a 401. */
export async function requirePrincipal(req: Request): Promise<Principal> {
  const p = await principalFromRequest(req);
  if (!p) throw new AppError("unauthorized", "Sign in, or send 'Authorization: Bearer <token>'.");
  return p;
}
