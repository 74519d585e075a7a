import { sql, type InferResult } from "kysely";
import { all, first, qb, run } from "../query";
import type { OrgRole } from "../schema.gen";
import type { Queryable } from "../types";

// Every account has a profile (trigger on auth.users), so the join is inner.
const members = () =>
  qb
    .selectFrom("memberships as m")
    .innerJoin("profiles as pr", "pr.id", "m.user_id")
    .select(["m.user_id", "pr.email", "pr.display_name", "m.role", "m.created_at"]);
export type MemberRow = InferResult<ReturnType<typeof members>>[number];

/** Members of an org with their e-mail, owners first. */
export async function listMembers(tx: Queryable, orgId: string): Promise<MemberRow[]> {
  return all(
    tx,
    members()
      .where("m.org_id", "=", orgId)
      .orderBy(sql`public.role_rank(m.role)`, "desc")
      .orderBy("pr.email"),
  );
}

/** Adds an existing account by e-mail (SECURITY DEFINER function: it may look the e-mail up); the user's id. */
export async function addMemberByEmail(tx: Queryable, orgId: string, email: string, role: OrgRole): Promise<string> {
  const row = await first(
    tx,
    qb.selectNoFrom(sql<string>`public.add_member_by_email(${orgId}::uuid, ${email}, ${role}::public.org_role)`.as("user_id")),
  );
  return row!.user_id;
}

export async function updateMemberRole(tx: Queryable, orgId: string, userId: string, role: OrgRole): Promise<number> {
  return run(tx, qb.updateTable("memberships").set({ role }).where("org_id", "=", orgId).where("user_id", "=", userId));
}

export async function deleteMember(tx: Queryable, orgId: string, userId: string): Promise<number> {
  return run(tx, qb.deleteFrom("memberships").where("org_id", "=", orgId).where("user_id", "=", userId));
}
