import "server-only";
import type { Principal } from "@/lib/auth/principal";
import { withUser } from "@/lib/db/client";
import { pgErrorToAppError } from "@/lib/db/errors";
import type { Database, Queryable } from "@/lib/db/types";
import { AppError } from "@/lib/errors";
import type { RequestMeta } from "@/lib/storage/model-storage";
import type { OrgRole } from "@/lib/validations/models";

export interface Member {
  user_id: string;
  email: string;
  display_name: string | null;
  role: OrgRole;
  created_at: Date;
}

async function audit(tx: Queryable, orgId: string, action: string, meta: RequestMeta, targetId: string, details: Record<string, unknown>) {
  await tx.query("select public.record_audit_event($1, $2, 'membership', $3, null, null, null, $4, $5, $6)", [
    orgId,
    action,
    targetId,
    JSON.stringify(details),
    meta.ip ?? null,
    meta.userAgent ?? null,
  ]);
}

/** Creates an organization; its creator becomes the owner (trigger). Slug taken -> conflict. */
export async function createOrg(p: Principal, input: { slug: string; name: string }, meta: RequestMeta = {}, db?: Database) {
  if (p.claims.fm_token) throw new AppError("forbidden", "API tokens cannot create organizations.");
  try {
    return await withUser(
      p.claims,
      async (tx) => {
        await tx.query("insert into public.organizations (slug, name, created_by) values ($1, $2, auth.uid())", [input.slug, input.name]);
        const { rows } = await tx.query<{ id: string }>("select id from public.organizations where slug = $1", [input.slug]);
        await audit(tx, rows[0]!.id, "org.create", meta, rows[0]!.id, { slug: input.slug });
        return { id: rows[0]!.id, slug: input.slug };
      },
      db,
    );
  } catch (e) {
    throw pgErrorToAppError(e, { conflict: "That organization slug is taken. Pick another." });
  }
}

/** Members of an org with their e-mail (visible to every member). */
export async function listMembers(p: Principal, orgId: string, db?: Database): Promise<Member[]> {
  return withUser(
    p.claims,
    async (tx) => {
      const { rows } = await tx.query<Member>(
        `select m.user_id, pr.email, pr.display_name, m.role::text as role, m.created_at
       from public.memberships m left join public.profiles pr on pr.id = m.user_id
       where m.org_id = $1 order by public.role_rank(m.role) desc, pr.email`,
        [orgId],
      );
      return rows;
    },
    db,
  );
}

/** Adds an existing user by e-mail (owners and admins; only owners add owners). */
export async function addMember(p: Principal, orgId: string, email: string, role: OrgRole, meta: RequestMeta = {}, db?: Database) {
  try {
    await withUser(
      p.claims,
      async (tx) => {
        const { rows } = await tx.query<{ add_member_by_email: string }>("select public.add_member_by_email($1, $2, $3)", [
          orgId,
          email,
          role,
        ]);
        await audit(tx, orgId, "member.add", meta, rows[0]!.add_member_by_email, { email, role });
      },
      db,
    );
  } catch (e) {
    throw pgErrorToAppError(e, {
      forbidden: "Only owners and admins can add members, and only owners can add owners.",
      conflict: "This user is already a member.",
      notFound: "There is no account with that e-mail address. Ask them to sign up first.",
    });
  }
}

/** Changes a member's role. RLS: admins change non-owners; owners change anyone; one owner must remain. */
export async function changeMemberRole(p: Principal, orgId: string, userId: string, role: OrgRole, meta: RequestMeta = {}, db?: Database) {
  try {
    await withUser(
      p.claims,
      async (tx) => {
        const { rowCount } = await tx.query("update public.memberships set role = $3 where org_id = $1 and user_id = $2", [
          orgId,
          userId,
          role,
        ]);
        if (rowCount !== 1) throw new AppError("forbidden", "You cannot change this member's role.");
        await audit(tx, orgId, "member.role_change", meta, userId, { role });
      },
      db,
    );
  } catch (e) {
    throw pgErrorToAppError(e, { forbidden: "You cannot give or change that role." });
  }
}

/** Removes a member (admins; owners only by owners; anyone may leave). Takes effect on the next request. */
export async function removeMember(p: Principal, orgId: string, userId: string, meta: RequestMeta = {}, db?: Database) {
  try {
    await withUser(
      p.claims,
      async (tx) => {
        await audit(tx, orgId, "member.remove", meta, userId, {});
        const { rowCount } = await tx.query("delete from public.memberships where org_id = $1 and user_id = $2", [orgId, userId]);
        if (rowCount !== 1) throw new AppError("forbidden", "You cannot remove this member.");
      },
      db,
    );
  } catch (e) {
    throw pgErrorToAppError(e);
  }
}
