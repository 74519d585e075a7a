import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { withUser } from "@/lib/db/client";
import { DB_KINDS, openTestDatabase, type TestDatabase } from "@/test/db";
import { errorCode as code, makeWorld, type World } from "@/test/world";

// Protected aliases are enforced by the database (trigger on model_aliases), so the service, the
// REST API and a direct SQL write by a signed-in member all get the same refusal.
describe.each(DB_KINDS)("protected aliases on %s", (kind) => {
  let t: TestDatabase;
  const worlds: World[] = [];
  const world = async () => {
    const w = await makeWorld(t.db);
    worlds.push(w);
    return w;
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

  it("lets only owners and admins protect an alias, and every member see the list", async () => {
    const w = await world();
    const org = w.orgs.a.slug;
    expect(await code(w.services.aliases.setProtected(w.users.member, org, "production", true))).toBe("forbidden");
    expect(await code(w.services.aliases.setProtected(w.users.outsider, org, "production", true))).toBe("not_found");
    expect(await w.services.aliases.setProtected(w.users.admin, org, "production", true)).toEqual(["production"]);
    expect(await w.services.aliases.listProtected(w.users.viewer, org)).toEqual(["production"]);
    expect(await w.services.aliases.listProtected(w.users.both, w.orgs.b.slug)).toEqual([]);
    const audit = await w.services.audit.list(w.users.viewer, org, { action: "alias.protect" });
    expect(audit.items.map((e) => e.details)).toEqual([{ alias: "production" }]);
  });

  it("refuses a member's move of a protected alias, through the service and in plain SQL", async () => {
    const w = await world();
    const org = w.orgs.a.slug;
    await w.upload("member", "credit_risk", "2.1");
    await w.upload("member", "credit_risk", "2.2");
    // Unprotected: members move it.
    await w.services.aliases.setAlias(w.users.member, org, "credit_risk", "production", "2.1");
    await w.services.aliases.setProtected(w.users.owner, org, "production", true);

    const refused = w.services.aliases.setAlias(w.users.member, org, "credit_risk", "production", "2.2");
    await expect(refused).rejects.toMatchObject({ code: "forbidden", message: expect.stringMatching(/protected alias.*admins/) });
    // A member's token, a member writing SQL directly (the Data API path): refused by the trigger.
    const token = await w.tokenPrincipal("owner", "a", "member");
    expect(await code(w.services.aliases.setAlias(token, org, "credit_risk", "production", "2.2"))).toBe("forbidden");
    const direct = withUser(t.db, w.users.member.claims, (tx) =>
      tx.query(
        "update public.model_aliases set version_id = (select id from public.model_versions where version = '2.2' and org_id = $1) where alias = 'production' and org_id = $1",
        [w.orgs.a.id],
      ),
    );
    await expect(direct).rejects.toMatchObject({ code: "42501" });
    const remove = withUser(t.db, w.users.member.claims, (tx) =>
      tx.query("delete from public.model_aliases where alias = 'production' and org_id = $1", [w.orgs.a.id]),
    );
    await expect(remove).rejects.toMatchObject({ code: "42501" });
    // A member may not unprotect it either.
    expect(await code(w.services.aliases.setProtected(w.users.member, org, "production", false))).toBe("forbidden");

    // Other aliases stay free to move; admins move the protected one.
    await w.services.aliases.setAlias(w.users.member, org, "credit_risk", "staging", "2.2");
    expect(await w.services.aliases.setAlias(w.users.admin, org, "credit_risk", "production", "2.2")).toMatchObject({ previous: "2.1" });
    const model = await w.services.catalog.getModel(w.users.viewer, org, "credit_risk");
    expect(model.aliases.map((a) => [a.alias, a.version])).toEqual([
      ["production", "2.2"],
      ["staging", "2.2"],
    ]);
    // A member cannot retire the version production points at (that would move production too).
    expect(await code(w.services.catalog.deleteVersion(w.users.member, org, "credit_risk", "2.2"))).toBe("forbidden");
    // Lifting the protection lets members move it again.
    await w.services.aliases.setProtected(w.users.admin, org, "production", false);
    expect(await w.services.aliases.setAlias(w.users.member, org, "credit_risk", "production", "2.1")).toMatchObject({ previous: "2.2" });
  });

  it("is per organization: the same name elsewhere is not protected", async () => {
    const w = await world();
    await w.services.aliases.setProtected(w.users.outsider, w.orgs.b.slug, "production", true);
    await w.upload("member", "m", "1.0");
    expect(await w.services.aliases.setAlias(w.users.member, w.orgs.a.slug, "m", "production", "1.0")).toMatchObject({ previous: null });
  });

  it("new organizations start with production protected", async () => {
    const w = await world();
    const slug = `fresh_${w.orgs.a.slug.slice(-6)}`;
    await w.services.orgs.createOrg(w.users.member, { slug, name: "Fresh" });
    expect(await w.services.aliases.listProtected(w.users.member, slug)).toEqual(["production"]);
  });
});
