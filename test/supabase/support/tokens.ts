// Keys and access tokens exactly as a Supabase project signs them (legacy HS256 JWT secret).
import crypto from "node:crypto";
import { SignJWT } from "jose";

const key = (secret: string) => new TextEncoder().encode(secret);

/** The project's anon or service_role API key. */
export function signApiKey(secret: string, role: "anon" | "service_role"): Promise<string> {
  return new SignJWT({ role, iss: "supabase" })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setIssuedAt()
    .setExpirationTime("10y")
    .sign(key(secret));
}

export interface LaneUser {
  id: string;
  email: string;
}

/** A user's access token as Supabase Auth issues it (sub = the auth.users id). */
export function signAccessToken(secret: string, user: LaneUser, opts: { issuer: string; expiresInSeconds?: number }): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({
    aud: "authenticated",
    role: "authenticated",
    email: user.email,
    phone: "",
    app_metadata: { provider: "email", providers: ["email"] },
    user_metadata: {},
    aal: "aal1",
    amr: [{ method: "password", timestamp: now }],
    session_id: crypto.randomUUID(),
    is_anonymous: false,
  })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setIssuer(opts.issuer)
    .setSubject(user.id)
    .setIssuedAt(now)
    .setExpirationTime(now + (opts.expiresInSeconds ?? 3600))
    .sign(key(secret));
}
