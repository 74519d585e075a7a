import "server-only";
import crypto from "node:crypto";
import { withAnon, withUser } from "@/lib/db/client";
import type { Claims, Database } from "@/lib/db/types";
import { AppError } from "@/lib/errors";
import { pgErrorToAppError } from "@/lib/db/errors";

export const API_TOKEN_PREFIX = "fm_";
const TOKEN_RE = /^fm_[A-Za-z0-9_-]{43}$/;

export const hashApiToken = (token: string) => crypto.createHash("sha256").update(token).digest("hex");
export const looksLikeApiToken = (token: string) => token.startsWith(API_TOKEN_PREFIX);

export interface ApiTokenRecord {
  id: string;
  org_id: string;
  user_id: string;
  name: string;
  token_prefix: string;
  role: "admin" | "member" | "viewer";
  expires_at: Date | null;
  last_used_at: Date | null;
  revoked_at: Date | null;
  created_at: Date;
}

const COLUMNS = "id, org_id, user_id, name, token_prefix, role, expires_at, last_used_at, revoked_at, created_at";

/** Creates a token for the caller in one org, no stronger than the caller's role (RLS enforces it). Returns the secret once. */
export async function createApiToken(
  claims: Claims,
  input: { orgId: string; name: string; role: "admin" | "member" | "viewer"; expiresAt?: Date | null },
  db?: Database,
): Promise<{ token: string; record: ApiTokenRecord }> {
  if (claims.fm_token) throw new AppError("forbidden", "API tokens cannot create other tokens.");
  const token = API_TOKEN_PREFIX + crypto.randomBytes(32).toString("base64url");
  try {
    return await withUser(
      claims,
      async (tx) => {
        const { rows } = await tx.query<ApiTokenRecord>(
          `insert into public.api_tokens (org_id, user_id, name, token_hash, token_prefix, role, expires_at)
         values ($1, $2, $3, $4, $5, $6, $7) returning ${COLUMNS}`,
          [input.orgId, claims.sub, input.name, hashApiToken(token), token.slice(0, 10), input.role, input.expiresAt ?? null],
        );
        await tx.query("select public.record_audit_event($1, 'token.create', 'api_token', $2, null, null, null, $3)", [
          input.orgId,
          rows[0]!.id,
          JSON.stringify({ name: input.name, role: input.role, expires_at: input.expiresAt ?? null }),
        ]);
        return { token, record: rows[0]! };
      },
      db,
    );
  } catch (e) {
    throw pgErrorToAppError(e, { forbidden: "You cannot create a token with that role in this organization." });
  }
}

/** Tokens the caller may see in an org: their own, or all of them for admins. */
export async function listApiTokens(claims: Claims, orgId: string, db?: Database): Promise<ApiTokenRecord[]> {
  return withUser(
    claims,
    async (tx) => {
      const { rows } = await tx.query<ApiTokenRecord>(
        `select ${COLUMNS} from public.api_tokens where org_id = $1 order by created_at desc limit 500`,
        [orgId],
      );
      return rows;
    },
    db,
  );
}

/** Revokes a token (its owner or an org admin). Unknown or invisible ids are not_found. */
export async function revokeApiToken(claims: Claims, tokenId: string, db?: Database): Promise<void> {
  await withUser(
    claims,
    async (tx) => {
      const { rows } = await tx.query<{ org_id: string }>(
        "update public.api_tokens set revoked_at = now() where id = $1 and revoked_at is null returning org_id",
        [tokenId],
      );
      if (!rows[0]) throw new AppError("not_found", "No such active token.");
      await tx.query("select public.record_audit_event($1, 'token.revoke', 'api_token', $2)", [rows[0].org_id, tokenId]);
    },
    db,
  );
}

/** Claims for a request that carries an API token, or null if it is unknown, revoked or expired. */
export async function resolveApiToken(token: string, db?: Database): Promise<Claims | null> {
  if (!TOKEN_RE.test(token)) return null;
  const row = await withAnon(async (tx) => {
    const { rows } = await tx.query<{
      token_id: string;
      user_id: string;
      email: string;
      org_id: string;
      role: "admin" | "member" | "viewer";
    }>("select * from public.resolve_api_token($1)", [hashApiToken(token)]);
    return rows[0];
  }, db);
  if (!row) return null;
  return { sub: row.user_id, email: row.email, role: "authenticated", fm_token: { id: row.token_id, org_id: row.org_id, role: row.role } };
}
