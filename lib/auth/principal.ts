import type { Claims } from "@/lib/db/types";

/** Who is making a request, from verified credentials only (never from getSession() alone). */
export interface Principal {
  claims: Claims;
  userId: string;
  email?: string;
  via: "session" | "api_token" | "bearer";
  /** The Supabase access token (supabase mode), so Storage applies its own RLS for this user. */
  accessToken?: string;
}

export const toPrincipal = (claims: Claims, via: Principal["via"], accessToken?: string): Principal => ({
  claims,
  userId: claims.sub,
  email: claims.email,
  via,
  accessToken,
});

/** Where a request came from, for the audit trail (the client address is decided by lib/http/client-address.ts). */
export type { AuditMeta as RequestMeta } from "@/lib/db/queries/audit";
