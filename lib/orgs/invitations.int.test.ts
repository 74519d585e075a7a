import crypto from "node:crypto";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { withService, withUser } from "@/lib/db/client";
import { DB_KINDS, openTestDatabase, type TestDatabase } from "@/test/db";
import { errorCode as code, makeWorld, type World } from "@/test/world";

describe.each(DB_KINDS)("invitations on %s", (kind) => {
  let t: TestDatabase;
  const worlds: World[] = [];
  const world = async () => {
    const w = await makeWorld(t.db);
    worlds.push(w);
    return w;
  };
  /** A new account (as sign-up makes one) and its principal. */
  const account = async (w: World, email: string) => {
    const id = crypto.randomUUID();
    await withService(t.db, (tx) => tx.query("insert into auth.users (id, email) values ($1, $2)", [id, email]));
    return w.principal(id, { email });
  };
  beforeAll(async () => {
    t = await openTestDatabase(kind);
  });
  afterEach(() => {
    for (const w of worlds.splice(0)) w.cleanup();
  });
  afterAll(async () => {
    await t?.cleanup();
  });

  it("an admin invites an address; its owner signs up, accepts and joins with the invited role", async () => {
    const w = await world();
    const org = w.orgs.a.slug;
    const email = `new-${crypto.randomBytes(3).toString("hex")}@example.com`;
    const inv = await w.services.orgs.invite(w.users.admin, org, email.toUpperCase(), "viewer");
    expect(inv.token).toMatch(/^inv_[A-Za-z0-9_-]{43}$/);
    expect(inv.email).toBe(email);
    expect(inv.expiresAt.getTime() - Date.now()).toBeGreaterThan(6.9 * 86_400_000);
    expect((await w.services.orgs.listInvitations(w.users.admin, org)).map((i) => [i.email, i.role])).toEqual([[email, "viewer"]]);
    // Before sign-in the link shows what it offers.
    expect(await w.services.orgs.previewInvitation(inv.token)).toMatchObject({ org_slug: org, email, role: "viewer", status: "pending" });
    expect(await w.services.orgs.previewInvitation("inv_" + "x".repeat(43))).toBeUndefined();
    expect(await w.services.orgs.previewInvitation("not a token")).toBeUndefined();

    // Someone else holding the link cannot use it.
    const stranger = await account(w, `stranger-${crypto.randomBytes(3).toString("hex")}@example.com`);
    expect(await code(w.services.orgs.acceptInvitation(stranger, inv.token))).toBe("forbidden");

    const invitee = await account(w, email);
    expect(await w.services.orgs.acceptInvitation(invitee, inv.token)).toEqual({ org, role: "viewer", alreadyMember: false });
    const members = await w.services.orgs.listMembers(invitee, org);
    expect(members.find((m) => m.email === email)?.role).toBe("viewer");
    // Used once only; no longer pending.
    expect(await code(w.services.orgs.acceptInvitation(invitee, inv.token))).toBe("conflict");
    expect(await w.services.orgs.previewInvitation(inv.token)).toMatchObject({ status: "accepted" });
    expect(await w.services.orgs.listInvitations(w.users.admin, org)).toEqual([]);
    const actions = (await w.services.audit.list(w.users.owner, org, { action: "member" })).items.map((e) => e.action);
    expect(actions).toEqual(expect.arrayContaining(["member.invite", "member.join"]));
  });

  it("only owners and admins invite, only owners invite owners; members and viewers see no invitations", async () => {
    const w = await world();
    const org = w.orgs.a.slug;
    expect(await code(w.services.orgs.invite(w.users.member, org, "x@example.com", "viewer"))).toBe("forbidden");
    expect(await code(w.services.orgs.invite(w.users.viewer, org, "x@example.com", "viewer"))).toBe("forbidden");
    expect(await code(w.services.orgs.invite(w.users.outsider, org, "x@example.com", "viewer"))).toBe("not_found");
    expect(await code(w.services.orgs.invite(w.users.admin, org, "x@example.com", "owner"))).toBe("forbidden");
    await w.services.orgs.invite(w.users.owner, org, "boss@example.com", "owner");
    expect(await code(w.services.orgs.listInvitations(w.users.member, org))).toBe("forbidden");
    // Even in plain SQL, a member reads no invitation (and so no token hash).
    const rows = await withUser(t.db, w.users.member.claims, (tx) =>
      tx.query("select * from public.org_invitations where org_id = $1", [w.orgs.a.id]),
    );
    expect(rows.rows).toEqual([]);
    // An admin cannot write a token hash of their choosing into another organization.
    const forged = withUser(t.db, w.users.admin.claims, (tx) =>
      tx.query("insert into public.org_invitations (org_id, email, role, token_hash, invited_by) values ($1, 'a@b.c', 'viewer', $2, $3)", [
        w.orgs.b.id,
        "0".repeat(64),
        w.users.admin.userId,
      ]),
    );
    await expect(forged).rejects.toMatchObject({ code: "42501" });
    // Existing members are not invited again.
    const memberEmail = (await w.services.orgs.listMembers(w.users.owner, org)).find((m) => m.role === "member")!.email;
    expect(await code(w.services.orgs.invite(w.users.admin, org, memberEmail, "admin"))).toBe("conflict");
  });

  it("a revoked, replaced or expired invitation no longer works", async () => {
    const w = await world();
    const org = w.orgs.a.slug;
    const email = `late-${crypto.randomBytes(3).toString("hex")}@example.com`;
    const invitee = await account(w, email);

    const first = await w.services.orgs.invite(w.users.admin, org, email, "member");
    const second = await w.services.orgs.invite(w.users.admin, org, email, "admin"); // replaces the first
    expect(await w.services.orgs.previewInvitation(first.token)).toMatchObject({ status: "revoked" });
    expect(await code(w.services.orgs.acceptInvitation(invitee, first.token))).toBe("conflict");

    await w.services.orgs.revokeInvitation(w.users.admin, org, second.id);
    expect(await code(w.services.orgs.revokeInvitation(w.users.admin, org, second.id))).toBe("not_found");
    await expect(w.services.orgs.acceptInvitation(invitee, second.token)).rejects.toMatchObject({ code: "conflict", message: /withdrawn/ });

    const third = await w.services.orgs.invite(w.users.admin, org, email, "member");
    await withService(t.db, (tx) =>
      tx.query(
        "update public.org_invitations set created_at = now() - interval '9 days', expires_at = now() - interval '2 days' where id = $1",
        [third.id],
      ),
    );
    expect(await w.services.orgs.previewInvitation(third.token)).toMatchObject({ status: "expired" });
    await expect(w.services.orgs.acceptInvitation(invitee, third.token)).rejects.toMatchObject({ code: "conflict", message: /expired/ });
    expect(await code(w.services.orgs.listMembers(invitee, org))).toBe("not_found");
  });

  it("an existing member who accepts keeps their role; API tokens cannot invite or accept", async () => {
    const w = await world();
    const org = w.orgs.a.slug;
    const email = `later-${crypto.randomBytes(3).toString("hex")}@example.com`;
    const user = await account(w, email);
    const inv = await w.services.orgs.invite(w.users.admin, org, email, "viewer");
    await withService(t.db, (tx) =>
      tx.query("insert into public.memberships (org_id, user_id, role) values ($1, $2, 'member')", [w.orgs.a.id, user.userId]),
    );
    expect(await w.services.orgs.acceptInvitation(user, inv.token)).toEqual({ org, role: "member", alreadyMember: true });
    const token = await w.tokenPrincipal("admin", "a", "admin");
    expect(await code(w.services.orgs.invite(token, org, "t@example.com", "viewer"))).toBe("forbidden");
  });
});
