import "server-only";
import { SignJWT, jwtVerify } from "jose";
import { sessionSecret } from "@/lib/auth/session-token";
import type { AppConfig } from "@/lib/config";
import type { Claims } from "@/lib/db/types";
import { ERRORS } from "@/lib/errors";

const AUDIENCE = "fairmind-download-link";

export interface LinkTarget {
  org: string;
  model: string;
  version: string;
  /** One file of the version; absent: the only file of a one-file version, or the archive in `format`. */
  path?: string;
  format?: "zip" | "tar";
}

/**
 * A local signed download link: HMAC-signed (HS256), expiring, bound to the user who asked for it.
 * Opening it still runs under that user's claims, so a revoked membership kills the link too.
 */
export async function signDownloadLink(
  config: Pick<AppConfig, "authSecret" | "dataDir">,
  claims: Claims,
  target: LinkTarget,
  ttlSeconds: number,
): Promise<{ token: string; expiresAt: Date }> {
  const expiresAt = new Date(Date.now() + ttlSeconds * 1000);
  const token = await new SignJWT({ email: claims.email, t: target, ...(claims.fm_token ? { fm_token: claims.fm_token } : {}) })
    .setProtectedHeader({ alg: "HS256" })
    .setSubject(claims.sub)
    .setAudience(AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(Math.floor(expiresAt.getTime() / 1000))
    .sign(sessionSecret(config));
  return { token, expiresAt };
}

export async function verifyDownloadLink(
  config: Pick<AppConfig, "authSecret" | "dataDir">,
  token: string,
): Promise<{ claims: Claims; target: LinkTarget }> {
  try {
    const { payload } = await jwtVerify(token, sessionSecret(config), { algorithms: ["HS256"], audience: AUDIENCE });
    const t = payload.t as LinkTarget | undefined;
    if (!payload.sub || !t?.org || !t.model || !t.version) throw new Error("bad link");
    if (t.format !== undefined && t.format !== "zip" && t.format !== "tar") throw new Error("bad link");
    if (t.path !== undefined && typeof t.path !== "string") throw new Error("bad link");
    const claims: Claims = { sub: payload.sub, email: payload.email as string | undefined, role: "authenticated", fm_link: true };
    if (payload.fm_token) claims.fm_token = payload.fm_token as Claims["fm_token"];
    return { claims, target: t };
  } catch {
    throw ERRORS.invalidLink();
  }
}
