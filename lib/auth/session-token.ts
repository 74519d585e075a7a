import "server-only";
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { SignJWT, jwtVerify, errors as joseErrors } from "jose";
import { getConfig } from "@/lib/config";
import { AppError, isAppError } from "@/lib/errors";
import type { Claims } from "@/lib/db/types";

export const SESSION_COOKIE = "fm_session";
export const SESSION_TTL_SECONDS = 8 * 3600;
const ISSUER = "fairmind-local";
const AUDIENCE = "authenticated";

let cachedSecret: Uint8Array | undefined;

/**
 * The key that signs local sessions: AUTH_SECRET, or a random one created once in the data
 * directory (mode 0600). Several app servers must share AUTH_SECRET.
 */
export function getSessionSecret(): Uint8Array {
  if (cachedSecret) return cachedSecret;
  const config = getConfig();
  if (config.authSecret) return (cachedSecret = new TextEncoder().encode(config.authSecret));
  const file = path.join(config.dataDir, "auth-secret");
  fs.mkdirSync(config.dataDir, { recursive: true });
  try {
    fs.writeFileSync(file, crypto.randomBytes(48).toString("base64url"), { flag: "wx", mode: 0o600 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
  }
  return (cachedSecret = new TextEncoder().encode(fs.readFileSync(file, "utf8").trim()));
}

/** Signs claims shaped like Supabase Auth's access tokens (HS256). */
export async function signSessionToken(user: { id: string; email: string }, ttlSeconds = SESSION_TTL_SECONDS, secret = getSessionSecret()) {
  return new SignJWT({ email: user.email, role: "authenticated", session_id: crypto.randomUUID() })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setSubject(user.id)
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(`${ttlSeconds}s`)
    .sign(secret);
}

/** Verifies a local session token. Only HS256 with our key is accepted (no `alg: none`, no other keys). */
export async function verifySessionToken(token: string, secret = getSessionSecret()): Promise<Claims> {
  try {
    const { payload } = await jwtVerify(token, secret, { algorithms: ["HS256"], issuer: ISSUER, audience: AUDIENCE });
    if (typeof payload.sub !== "string" || payload.role !== "authenticated") throw new AppError("unauthorized", "Invalid session.");
    return { ...payload, sub: payload.sub, role: "authenticated", email: typeof payload.email === "string" ? payload.email : undefined };
  } catch (e) {
    if (isAppError(e)) throw e;
    if (e instanceof joseErrors.JWTExpired) throw new AppError("unauthorized", "Your session has expired. Sign in again.");
    throw new AppError("unauthorized", "Invalid or tampered session token.");
  }
}
