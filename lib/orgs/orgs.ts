import "server-only";
import crypto from "node:crypto";
import type { Principal, RequestMeta } from "@/lib/auth/principal";
import { pgErrorToAppError } from "@/lib/db/errors";
import { recordAudit } from "@/lib/db/queries/audit";
import {
  acceptInvitation,
  insertInvitation,
  listPendingInvitations,
  previewInvitation,
  revokeInvitations,
  type InvitationPreview,
  type InvitationRow,
} from "@/lib/db/queries/invitations";
import { withAnon } from "@/lib/db/client";
import { addMemberByEmail, deleteMember, listMembers, updateMemberRole, type MemberRow } from "@/lib/db/queries/members";
import { insertOrg } from "@/lib/db/queries/orgs";
import { insertProtectedAlias } from "@/lib/db/queries/aliases";
import type { Queryable } from "@/lib/db/types";
import { AppError, ERRORS } from "@/lib/errors";
import { Service } from "@/lib/services/base";
import { resolveOrg } from "@/lib/services/resolve";
import type { OrgRole } from "@/lib/validations/models";

export type Member = MemberRow;
export type Invitation = InvitationRow;
export type { InvitationPreview };

/** How long an invitation link works. */
export const INVITATION_DAYS = 7;
const INVITE_TOKEN_RE = /^inv_[A-Za-z0-9_-]{43}$/;
const hashInviteToken = (token: string) => crypto.createHash("sha256").update(token).digest("hex");

const auditMembership = (
  tx: Queryable,
  orgId: string,
  action: string,
  userId: string,
  details: Record<string, unknown>,
  meta: RequestMeta,
) => recordAudit(tx, { orgId, action, target: ["membership", userId], details, meta });

/** Organizations and who belongs to them. Membership changes take effect on the next request. */
export class OrgService extends Service {
  /** Creates an organization; its creator becomes the owner (trigger). Slug taken -> conflict. */
  async createOrg(p: Principal, input: { slug: string; name: string }, meta: RequestMeta = {}) {
    if (p.claims.fm_token) throw ERRORS.tokensCannotCreateOrgs();
    try {
      return await this.as(p, async (tx) => {
        const id = await insertOrg(tx, input);
        // New organizations start with `production` protected (docs/decisions.md, "Aliases").
        await insertProtectedAlias(tx, id, "production");
        await recordAudit(tx, { orgId: id, action: "org.create", target: ["membership", id], details: { slug: input.slug }, meta });
        return { id, slug: input.slug };
      });
    } catch (e) {
      throw pgErrorToAppError(e, { conflict: ERRORS.orgSlugTaken().message });
    }
  }

  /** Members of an org with their e-mail (visible to every member). */
  async listMembers(p: Principal, orgSlug: string): Promise<Member[]> {
    return this.as(p, async (tx) => listMembers(tx, (await resolveOrg(tx, orgSlug)).id));
  }

  /** Adds an existing user by e-mail (owners and admins; only owners add owners). */
  async addMember(p: Principal, orgSlug: string, email: string, role: OrgRole, meta: RequestMeta = {}) {
    try {
      await this.as(p, async (tx) => {
        const org = await resolveOrg(tx, orgSlug);
        const userId = await addMemberByEmail(tx, org.id, email, role);
        await auditMembership(tx, org.id, "member.add", userId, { email, role }, meta);
      });
    } catch (e) {
      throw pgErrorToAppError(e, {
        forbidden: "Only owners and admins can add members, and only owners can add owners.",
        conflict: "This user is already a member.",
        notFound: "There is no account with that e-mail address. Ask them to sign up first.",
      });
    }
  }

  /** Changes a member's role. RLS: admins change non-owners; owners change anyone; one owner must remain. */
  async changeMemberRole(p: Principal, orgSlug: string, userId: string, role: OrgRole, meta: RequestMeta = {}) {
    try {
      await this.as(p, async (tx) => {
        const org = await resolveOrg(tx, orgSlug);
        if ((await updateMemberRole(tx, org.id, userId, role)) !== 1)
          throw new AppError("forbidden", "You cannot change this member's role.");
        await auditMembership(tx, org.id, "member.role_change", userId, { role }, meta);
      });
    } catch (e) {
      throw pgErrorToAppError(e, { forbidden: "You cannot give or change that role." });
    }
  }

  /** Removes a member (admins; owners only by owners; anyone may leave). Takes effect on the next request. */
  async removeMember(p: Principal, orgSlug: string, userId: string, meta: RequestMeta = {}) {
    try {
      await this.as(p, async (tx) => {
        const org = await resolveOrg(tx, orgSlug);
        // Recorded first: once the membership is gone the caller (leaving) may no longer write to this org's trail.
        await auditMembership(tx, org.id, "member.remove", userId, {}, meta);
        if ((await deleteMember(tx, org.id, userId)) !== 1) throw new AppError("forbidden", "You cannot remove this member.");
      });
    } catch (e) {
      throw pgErrorToAppError(e);
    }
  }

  /**
   * Invites an e-mail address with a role (owners and admins; only owners invite owners). Returns the
   * secret token once: the link is /invite/<token>. An earlier pending invitation of the same address
   * is revoked, so one link works at a time.
   */
  async invite(p: Principal, orgSlug: string, email: string, role: OrgRole, meta: RequestMeta = {}) {
    if (p.claims.fm_token) throw new AppError("forbidden", "API tokens cannot invite members.");
    const token = "inv_" + crypto.randomBytes(32).toString("base64url");
    const address = email.trim().toLowerCase();
    try {
      return await this.as(p, async (tx) => {
        const org = await resolveOrg(tx, orgSlug, "admin");
        if ((await listMembers(tx, org.id)).some((m) => m.email.toLowerCase() === address))
          throw new AppError("conflict", `${address} is already a member.`);
        await revokeInvitations(tx, org.id, p.userId, { email: address });
        const expiresAt = new Date(Date.now() + INVITATION_DAYS * 86_400_000);
        const row = await insertInvitation(tx, {
          orgId: org.id,
          email: address,
          role,
          tokenHash: hashInviteToken(token),
          invitedBy: p.userId,
          expiresAt,
        });
        await recordAudit(tx, {
          orgId: org.id,
          action: "member.invite",
          target: ["invitation", row.id],
          details: { email: address, role },
          meta,
        });
        return { token, id: row.id, email: address, role, expiresAt: row.expires_at };
      });
    } catch (e) {
      throw pgErrorToAppError(e, { forbidden: "Only owners and admins can invite members, and only owners can invite owners." });
    }
  }

  /** Invitations not yet accepted or revoked (expired ones included, marked by their date). Admins only. */
  async listInvitations(p: Principal, orgSlug: string): Promise<Invitation[]> {
    return this.as(p, async (tx) => listPendingInvitations(tx, (await resolveOrg(tx, orgSlug, "admin")).id));
  }

  /** Withdraws a pending invitation: its link stops working. */
  async revokeInvitation(p: Principal, orgSlug: string, id: string, meta: RequestMeta = {}) {
    try {
      await this.as(p, async (tx) => {
        const org = await resolveOrg(tx, orgSlug, "admin");
        if ((await revokeInvitations(tx, org.id, p.userId, { id })) !== 1) throw new AppError("not_found", "No such pending invitation.");
        await recordAudit(tx, { orgId: org.id, action: "member.invite_revoke", target: ["invitation", id], details: {}, meta });
      });
    } catch (e) {
      throw pgErrorToAppError(e, { forbidden: "You cannot withdraw this invitation." });
    }
  }

  /** What an invitation link offers (no sign-in needed: the token is the capability); undefined when unknown. */
  async previewInvitation(token: string): Promise<InvitationPreview | undefined> {
    if (!INVITE_TOKEN_RE.test(token)) return undefined;
    return withAnon(this.deps.db, (tx) => previewInvitation(tx, hashInviteToken(token)));
  }

  /** The signed-in invitee joins the organization with the invited role. */
  async acceptInvitation(p: Principal, token: string, meta: RequestMeta = {}) {
    if (!INVITE_TOKEN_RE.test(token)) throw new AppError("not_found", "This invitation link is not valid.");
    try {
      return await this.as(p, async (tx) => {
        const joined = await acceptInvitation(tx, hashInviteToken(token));
        await recordAudit(tx, {
          orgId: joined.org_id,
          action: "member.join",
          target: ["membership", p.userId],
          details: { role: joined.role, already_member: joined.already_member },
          meta,
        });
        return { org: joined.org_slug, role: joined.role, alreadyMember: joined.already_member };
      });
    } catch (e) {
      const err = e as { code?: string; message?: string };
      // The function's own messages are written for the invitee.
      if (err?.code === "42501") throw new AppError("forbidden", err.message ?? "You cannot accept this invitation.");
      throw pgErrorToAppError(e, { notFound: "This invitation link is not valid." });
    }
  }
}
