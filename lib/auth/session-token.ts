import "server-only";
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { SignJWT, jwtVerify, errors as joseErrors } from "jose";
import type { AppConfig } from "@/lib/config";
import { AppError, isAppError } from "@/lib/errors";
import type { Claims } from "@/lib/db/types";

export const SESSION_COOKIE = "fm_session";
export const SESSION_TTL_SECONDS = 8 * 3600;
const ISSUER = "fairmind-local";
const AUDIENCE = "authenticated";

const secrets = new Map<string, Uint8Array>();

/**
 * The key that signs local sessions and download links: AUTH_SECRET, or a random one created once in
 * the data directory (mode 0600). Several app servers must share AUTH_SECRET.
 */
export function sessionSecret(config: Pick<AppConfig, "authSecret" | "dataDir">): Uint8Array {
  if (config.authSecret) return new TextEncoder().encode(config.authSecret);
  const cached = secrets.get(config.dataDir);
  if (cached) return cached;
  const file = path.join(config.dataDir, "auth-secret");
  fs.mkdirSync(config.dataDir, { recursive: true });
  try {
    fs.writeFileSync(file, crypto.randomBytes(48).toString("base64url"), { flag: "wx", mode: 0o600 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
  }
  const secret = new TextEncoder().encode(fs.readFileSync(file, "utf8").trim());
  secrets.set(config.dataDir, secret);
  return secret;
}

/** Signs claims shaped like Supabase Auth's access tokens (HS256). */
export async function signSessionToken(user: { id: string; email: string }, ttlSeconds: number, secret: Uint8Array) {
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
export async function verifySessionToken(token: string, secret: Uint8Array): Promise<Claims> {
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
