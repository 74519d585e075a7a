import "server-only";
import type { Principal, RequestMeta } from "@/lib/auth/principal";
import { pgErrorToAppError } from "@/lib/db/errors";
import { recordAudit } from "@/lib/db/queries/audit";
import { addMemberByEmail, deleteMember, listMembers, updateMemberRole, type MemberRow } from "@/lib/db/queries/members";
import { insertOrg } from "@/lib/db/queries/orgs";
import type { Queryable } from "@/lib/db/types";
import { AppError, ERRORS } from "@/lib/errors";
import { Service } from "@/lib/services/base";
import { resolveOrg } from "@/lib/services/resolve";
import type { OrgRole } from "@/lib/validations/models";

export type Member = MemberRow;

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
}
