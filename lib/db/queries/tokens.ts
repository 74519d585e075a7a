import { sql } from "kysely";
import { all, first, qb } from "../query";
import type { Queryable } from "../types";

export type TokenRole = "admin" | "member" | "viewer";

export interface TokenRow {
  id: string;
  org_id: string;
  user_id: string;
  name: string;
  token_prefix: string;
  role: TokenRole;
  expires_at: Date | null;
  last_used_at: Date | null;
  revoked_at: Date | null;
  created_at: Date;
}

const COLUMNS = [
  "id",
  "org_id",
  "user_id",
  "name",
  "token_prefix",
  "role",
  "expires_at",
  "last_used_at",
  "revoked_at",
  "created_at",
] as const;

/** Stores a new token's hash for the caller (RLS: no stronger than the caller's role). */
export async function insertToken(
  tx: Queryable,
  t: { orgId: string; userId: string; name: string; hash: string; prefix: string; role: TokenRole; expiresAt: Date | null },
): Promise<TokenRow> {
  const row = await first(
    tx,
    qb
      .insertInto("api_tokens")
      .values({
        org_id: t.orgId,
        user_id: t.userId,
        name: t.name,
        token_hash: t.hash,
        token_prefix: t.prefix,
        role: t.role,
        expires_at: t.expiresAt,
      })
      .returning(COLUMNS),
  );
  return row as TokenRow;
}

/** Tokens the caller may see in an org (their own; all for admins), newest first. */
export async function listTokens(tx: Queryable, orgId: string): Promise<TokenRow[]> {
  return (await all(
    tx,
    qb.selectFrom("api_tokens").select(COLUMNS).where("org_id", "=", orgId).orderBy("created_at", "desc").limit(500),
  )) as TokenRow[];
}

/** Revokes an active token; its org (undefined when unknown, invisible or already revoked). */
/** The organization of a live (unrevoked) token the caller can see, or undefined. */
export async function findLiveTokenOrg(tx: Queryable, id: string): Promise<string | undefined> {
  const row = await first(tx, qb.selectFrom("api_tokens").select("org_id").where("id", "=", id).where("revoked_at", "is", null));
  return row?.org_id;
}

export async function revokeToken(tx: Queryable, id: string): Promise<string | undefined> {
  const row = await first(
    tx,
    qb
      .updateTable("api_tokens")
      .set({ revoked_at: sql`now()` })
      .where("id", "=", id)
      .where("revoked_at", "is", null)
      .returning("org_id"),
  );
  return row?.org_id;
}

export interface ResolvedToken {
  token_id: string;
  user_id: string;
  email: string;
  org_id: string;
  role: TokenRole;
}

/** Who a token's hash acts for (SECURITY DEFINER, called as anon); undefined when revoked, expired or orphaned. */
export async function resolveTokenHash(tx: Queryable, hash: string): Promise<ResolvedToken | undefined> {
  const { rows } = await tx.query<ResolvedToken>("select token_id, user_id, email, org_id, role from public.resolve_api_token($1)", [hash]);
  return rows[0];
}
