import "server-only";
import crypto from "node:crypto";
import { withAnon } from "@/lib/db/client";
import { pgErrorToAppError } from "@/lib/db/errors";
import { recordAudit } from "@/lib/db/queries/audit";
import {
  findLiveTokenOrg,
  insertToken,
  listTokens,
  resolveTokenHash,
  revokeToken,
  type TokenRole,
  type TokenRow,
} from "@/lib/db/queries/tokens";
import type { Claims } from "@/lib/db/types";
import { ERRORS } from "@/lib/errors";
import { Service } from "@/lib/services/base";
import { resolveOrg } from "@/lib/services/resolve";
import type { Principal, RequestMeta } from "./principal";

export const API_TOKEN_PREFIX = "fm_";
const TOKEN_RE = /^fm_[A-Za-z0-9_-]{43}$/;

export const hashApiToken = (token: string) => crypto.createHash("sha256").update(token).digest("hex");
export const looksLikeApiToken = (token: string) => token.startsWith(API_TOKEN_PREFIX);

export type ApiTokenRecord = TokenRow;

/** API tokens for pipelines: one org, a role no stronger than their creator's, optional expiry, revocable. */
export class TokenService extends Service {
  /** Creates a token for the caller in one org (RLS caps the role). Returns the secret once. */
  async create(
    p: Principal,
    input: { org: string; name: string; role: TokenRole; expiresAt?: Date | null },
    meta: RequestMeta = {},
  ): Promise<{ token: string; record: ApiTokenRecord }> {
    if (p.claims.fm_token) throw ERRORS.tokensCannotCreateTokens();
    const token = API_TOKEN_PREFIX + crypto.randomBytes(32).toString("base64url");
    try {
      return await this.as(p, async (tx) => {
        // Viewers read; they do not hand out credentials (the RLS policy says the same).
        const org = await resolveOrg(tx, input.org, "member");
        const record = await insertToken(tx, {
          orgId: org.id,
          userId: p.userId,
          name: input.name,
          hash: hashApiToken(token),
          prefix: token.slice(0, 10),
          role: input.role,
          expiresAt: input.expiresAt ?? null,
        });
        await recordAudit(tx, {
          orgId: org.id,
          action: "token.create",
          target: ["api_token", record.id],
          details: { name: input.name, role: input.role, expires_at: input.expiresAt ?? null },
          meta,
        });
        return { token, record };
      });
    } catch (e) {
      throw pgErrorToAppError(e, { forbidden: "You cannot create a token with that role in this organization." });
    }
  }

  /** Tokens the caller may see in an org: their own, or all of them for admins. */
  async list(p: Principal, orgSlug: string): Promise<ApiTokenRecord[]> {
    return this.as(p, async (tx) => listTokens(tx, (await resolveOrg(tx, orgSlug)).id));
  }

  /** Revokes a token (its owner or an org admin). Unknown or invisible ids are not_found. */
  async revoke(p: Principal, tokenId: string, meta: RequestMeta = {}): Promise<void> {
    if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(tokenId)) throw ERRORS.noSuchToken();
    await this.as(p, async (tx) => {
      // IMPORTANT: audit first. A token revoking itself is no longer a member once revoked, and the
      // audit function refuses non-members; a failed revoke below rolls the event back.
      const orgId = await findLiveTokenOrg(tx, tokenId);
      if (!orgId) throw ERRORS.noSuchToken();
      await recordAudit(tx, { orgId, action: "token.revoke", target: ["api_token", tokenId], meta });
      if (!(await revokeToken(tx, tokenId))) throw ERRORS.noSuchToken();
    });
  }

  /** Claims for a request that carries an API token, or null if it is unknown, revoked or expired. */
  async resolve(token: string): Promise<Claims | null> {
    if (!TOKEN_RE.test(token)) return null;
    const row = await withAnon(this.deps.db, (tx) => resolveTokenHash(tx, hashApiToken(token)));
    if (!row) return null;
    return {
      sub: row.user_id,
      email: row.email,
      role: "authenticated",
      fm_token: { id: row.token_id, org_id: row.org_id, role: row.role },
    };
  }
}
