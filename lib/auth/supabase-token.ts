import "server-only";
import { createRemoteJWKSet, jwtVerify, type JWTVerifyGetKey } from "jose";
import { ERRORS } from "@/lib/errors";
import type { Claims } from "@/lib/db/types";

let jwks: { url: string; get: JWTVerifyGetKey } | undefined;

/**
 * Verifies a Supabase access token without a round trip to Auth: HS256 with SUPABASE_JWT_SECRET when
 * configured (legacy projects), otherwise the project's published JWKS (asymmetric signing keys).
 */
export async function verifySupabaseAccessToken(token: string, supabase: { url: string; jwtSecret?: string }): Promise<Claims> {
  const issuer = `${supabase.url.replace(/\/$/, "")}/auth/v1`;
  try {
    const { payload } = supabase.jwtSecret
      ? await jwtVerify(token, new TextEncoder().encode(supabase.jwtSecret), { algorithms: ["HS256"], audience: "authenticated" })
      : await jwtVerify(token, getJwks(issuer), { algorithms: ["ES256", "RS256"], issuer, audience: "authenticated" });
    if (typeof payload.sub !== "string" || payload.role !== "authenticated") throw new Error("not a user token");
    return { ...payload, sub: payload.sub, role: "authenticated", email: typeof payload.email === "string" ? payload.email : undefined };
  } catch {
    throw ERRORS.invalidAccessToken();
  }
}

function getJwks(issuer: string): JWTVerifyGetKey {
  const url = `${issuer}/.well-known/jwks.json`;
  if (!jwks || jwks.url !== url) jwks = { url, get: createRemoteJWKSet(new URL(url), { cacheMaxAge: 10 * 60 * 1000 }) };
  return jwks.get;
}
