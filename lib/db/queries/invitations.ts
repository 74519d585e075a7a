import { sql } from "kysely";
import { all, first, qb, run } from "../query";
import type { OrgRole } from "../schema.gen";
import type { Queryable } from "../types";

export interface InvitationRow {
  id: string;
  email: string;
  role: OrgRole;
  created_at: Date;
  expires_at: Date;
  invited_by_email: string | null;
  expired: boolean;
}

export interface InvitationPreview {
  org_name: string;
  org_slug: string;
  email: string;
  role: OrgRole;
  expires_at: Date;
  status: "pending" | "accepted" | "revoked" | "expired";
}

/** Pending (not accepted, not revoked) invitations of an org, newest first; expired ones included. */
export async function listPendingInvitations(tx: Queryable, orgId: string): Promise<InvitationRow[]> {
  return all(
    tx,
    qb
      .selectFrom("org_invitations as i")
      .leftJoin("profiles as p", "p.id", "i.invited_by")
      .select(["i.id", "i.email", "i.role", "i.created_at", "i.expires_at", "p.email as invited_by_email"])
      .select(sql<boolean>`i.expires_at <= now()`.as("expired"))
      .where("i.org_id", "=", orgId)
      .where("i.accepted_at", "is", null)
      .where("i.revoked_at", "is", null)
      .orderBy("i.created_at", "desc")
      .limit(200),
  );
}

export async function insertInvitation(
  tx: Queryable,
  i: { orgId: string; email: string; role: OrgRole; tokenHash: string; invitedBy: string; expiresAt: Date },
): Promise<{ id: string; expires_at: Date }> {
  const row = await first(
    tx,
    qb
      .insertInto("org_invitations")
      .values({ org_id: i.orgId, email: i.email, role: i.role, token_hash: i.tokenHash, invited_by: i.invitedBy, expires_at: i.expiresAt })
      .returning(["id", "expires_at"]),
  );
  return row!;
}

/** Revokes pending invitations (one by id, or every pending one for an address); how many. */
export async function revokeInvitations(
  tx: Queryable,
  orgId: string,
  by: string,
  which: { id: string } | { email: string },
): Promise<number> {
  let q = qb
    .updateTable("org_invitations")
    .set({ revoked_at: sql`now()`, revoked_by: by })
    .where("org_id", "=", orgId)
    .where("accepted_at", "is", null)
    .where("revoked_at", "is", null);
  q = "id" in which ? q.where("id", "=", which.id) : q.where(sql`lower(email)`, "=", which.email.toLowerCase());
  return run(tx, q);
}

export async function previewInvitation(tx: Queryable, tokenHash: string): Promise<InvitationPreview | undefined> {
  const { rows } = await tx.query<InvitationPreview>("select * from public.invitation_preview($1)", [tokenHash]);
  return rows[0];
}

export async function acceptInvitation(
  tx: Queryable,
  tokenHash: string,
): Promise<{ org_id: string; org_slug: string; role: OrgRole; already_member: boolean }> {
  const { rows } = await tx.query<{ org_id: string; org_slug: string; role: OrgRole; already_member: boolean }>(
    "select * from public.accept_org_invitation($1)",
    [tokenHash],
  );
  return rows[0]!;
}
