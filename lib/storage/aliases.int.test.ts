import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { DB_KINDS, openTestDatabase, type TestDatabase } from "@/test/db";
import { errorCode as code, makeWorld, type World } from "@/test/world";

describe.each(DB_KINDS)("aliases on %s", (kind) => {
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

  it("moves aliases and keeps their history", async () => {
    const w = await world();
    const aliases = w.services.aliases;
    await w.upload("member", "credit_risk", "2.1");
    await w.upload("member", "credit_risk", "2.2");
    await aliases.setAlias(w.users.member, w.orgs.a.slug, "credit_risk", "production", "2.1");
    const moved = await aliases.setAlias(w.users.member, w.orgs.a.slug, "credit_risk", "production", "2.2");
    expect(moved).toEqual({ alias: "production", version: "2.2", previous: "2.1" });
    expect(await code(aliases.setAlias(w.users.viewer, w.orgs.a.slug, "credit_risk", "production", "2.1"))).toBe("forbidden");
    expect(await code(aliases.setAlias(w.users.member, w.orgs.a.slug, "credit_risk", "Bad Alias", "2.1"))).toBe("invalid_input");
    const history = await aliases.aliasHistory(w.users.viewer, w.orgs.a.slug, "credit_risk");
    expect(history.map((h) => [h.alias, h.from_version, h.to_version])).toEqual([
      ["production", "2.1", "2.2"],
      ["production", null, "2.1"],
    ]);
    const model = await w.services.catalog.getModel(w.users.viewer, w.orgs.a.slug, "credit_risk");
    expect(model.aliases.map((a) => [a.alias, a.version])).toEqual([["production", "2.2"]]);
  });

  it("never points an alias at a quarantined version", async () => {
    const w = await world();
    await w.upload("member", "evil", "1.0", "malicious_os_system.pkl");
    expect(await code(w.services.aliases.setAlias(w.users.owner, w.orgs.a.slug, "evil", "production", "1.0"))).toBe("conflict");
  });

  it("records every one of many concurrent moves, in order, with an unbroken chain", async () => {
    const w = await world();
    for (const v of ["1.0", "1.1", "1.2", "1.3"]) await w.upload("member", "race", v);
    const targets = Array.from({ length: 16 }, (_, i) => ["1.0", "1.1", "1.2", "1.3"][i % 4]!);
    const moves = await Promise.all(
      targets.map((v) => w.services.aliases.setAlias(w.users.member, w.orgs.a.slug, "race", "production", v)),
    );
    const history = (await w.services.aliases.aliasHistory(w.users.viewer, w.orgs.a.slug, "race")).reverse();
    // Every answer that changed the alias is one history entry, and each entry starts where the previous ended.
    expect(history).toHaveLength(moves.filter((m) => m.previous !== m.version).length);
    for (let i = 1; i < history.length; i++) expect(history[i]!.from_version).toBe(history[i - 1]!.to_version);
    expect(history[0]!.from_version).toBeNull();
    const current = await w.services.catalog.getModel(w.users.viewer, w.orgs.a.slug, "race");
    expect(current.aliases[0]!.version).toBe(history.at(-1)!.to_version);
  });
});
