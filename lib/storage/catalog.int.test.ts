import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { DB_KINDS, openTestDatabase, type TestDatabase } from "@/test/db";
import { errorCode as code, makeWorld, type World } from "@/test/world";

describe.each(DB_KINDS)("catalog on %s", (kind) => {
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

  it("soft-deletes a version: gone from downloads, kept in the record, bytes kept until purge", async () => {
    const w = await world();
    await w.upload("member", "temp", "1.0");
    const catalog = w.services.catalog;
    expect(await code(catalog.deleteVersion(w.users.viewer, w.orgs.a.slug, "temp", "1.0"))).toBe("forbidden");
    await catalog.deleteVersion(w.users.member, w.orgs.a.slug, "temp", "1.0");
    const v = await catalog.getVersion(w.users.viewer, w.orgs.a.slug, "temp", "1.0");
    expect(v.status).toBe("deleted");
    expect(await code(w.services.downloads.openDownload(w.users.owner, w.orgs.a.slug, "temp", "1.0"))).toBe("not_found");
    expect(await w.store.stat(await w.keyOf(v))).not.toBeNull();
    expect(await code(w.upload("member", "temp", "1.0"))).toBe("conflict");
  });

  it("lists with search, filters and keyset pagination that never repeats or skips", async () => {
    const w = await world();
    const catalog = w.services.catalog;
    await w.upload("member", "credit_risk", "2.1");
    await w.upload("member", "evil", "1.0", "malicious_os_system.pkl");
    for (let i = 0; i < 7; i++)
      await catalog.createModel(w.users.member, w.orgs.a.slug, {
        name: `Paged ${i}`,
        task_type: i % 2 ? "regression" : "nlp",
        description: "",
        tags: i === 3 ? ["special"] : [],
      });
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await catalog.listModels(w.users.viewer, w.orgs.a.slug, { q: "paged", limit: 3, sort: "name", cursor });
      seen.push(...page.items.map((m) => m.slug));
      cursor = page.next_cursor ?? undefined;
    } while (cursor);
    expect(seen).toEqual(Array.from({ length: 7 }, (_, i) => `paged_${i}`));
    expect((await catalog.listModels(w.users.viewer, w.orgs.a.slug, { tag: "special" })).items.map((m) => m.slug)).toEqual(["paged_3"]);
    expect((await catalog.listModels(w.users.viewer, w.orgs.a.slug, { q: "paged", type: "regression" })).items).toHaveLength(3);
    expect((await catalog.listModels(w.users.viewer, w.orgs.a.slug, { verdict: "dangerous" })).items.map((m) => m.slug)).toEqual(["evil"]);
    // What the inspector found is searchable: the pickle's top-level class, the format.
    expect((await catalog.listModels(w.users.viewer, w.orgs.a.slug, { q: "sklearn pipeline" })).items.map((m) => m.slug)).toContain(
      "credit_risk",
    );
    expect((await catalog.listModels(w.users.viewer, w.orgs.a.slug, { q: "pickle" })).items.length).toBeGreaterThan(0);
  });

  it("reverses a sort with dir, pages it without repeats, and counts what the filters match", async () => {
    const w = await world();
    const catalog = w.services.catalog;
    for (let i = 0; i < 5; i++)
      await catalog.createModel(w.users.member, w.orgs.a.slug, {
        name: `Sorted ${i}`,
        task_type: i % 2 ? "regression" : "nlp",
        description: "",
        tags: [],
      });
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await catalog.listModels(w.users.viewer, w.orgs.a.slug, { q: "sorted", limit: 2, sort: "name", dir: "desc", cursor });
      seen.push(...page.items.map((m) => m.slug));
      cursor = page.next_cursor ?? undefined;
    } while (cursor);
    expect(seen).toEqual(["sorted_4", "sorted_3", "sorted_2", "sorted_1", "sorted_0"]);
    const oldestFirst = await catalog.listModels(w.users.viewer, w.orgs.a.slug, { q: "sorted", sort: "created", dir: "asc" });
    expect(oldestFirst.items.map((m) => m.slug)).toEqual(["sorted_0", "sorted_1", "sorted_2", "sorted_3", "sorted_4"]);
    expect(await catalog.countModels(w.users.viewer, w.orgs.a.slug, { q: "sorted" })).toBe(5);
    expect(await catalog.countModels(w.users.viewer, w.orgs.a.slug, { q: "sorted", type: "regression" })).toBe(2);
    expect(await catalog.countModels(w.users.viewer, w.orgs.a.slug, { q: "nothing-like-this" })).toBe(0);
    // RLS decides the count too: a stranger to the org cannot count it, and their own org has none of these.
    expect(await code(catalog.countModels(w.users.outsider, w.orgs.a.slug, { q: "sorted" }))).toBe("not_found");
    expect(await catalog.countModels(w.users.outsider, w.orgs.b.slug, { q: "sorted" })).toBe(0);
  });

  it.each([
    ["garbage", "updated"],
    [Buffer.from(JSON.stringify([1, "not-a-uuid"])).toString("base64url"), "updated"],
    [Buffer.from(JSON.stringify(["not a date", "00000000-0000-0000-0000-000000000000"])).toString("base64url"), "updated"],
    [Buffer.from(JSON.stringify(["x", "00000000-0000-0000-0000-000000000000"])).toString("base64url"), "size"],
    [Buffer.from(JSON.stringify([{}, "00000000-0000-0000-0000-000000000000"])).toString("base64url"), "name"],
  ] as const)("answers a malformed cursor %j (sort %s) with 400, never a database error", async (cursor, sort) => {
    const w = await world();
    expect(await code(w.services.catalog.listModels(w.users.viewer, w.orgs.a.slug, { cursor, sort }))).toBe("bad_request");
  });

  it("only the uploader or an admin deletes a version; viewers never", async () => {
    const w = await world();
    await w.upload("member", "credit_risk", "2.1");
    expect(await code(w.services.catalog.deleteVersion(w.users.viewer, w.orgs.a.slug, "credit_risk", "2.1"))).toBe("forbidden");
    expect(await code(w.services.catalog.deleteVersion(w.users.both, w.orgs.a.slug, "credit_risk", "2.1"))).toBe("forbidden");
    await w.services.catalog.deleteVersion(w.users.admin, w.orgs.a.slug, "credit_risk", "2.1");
  });
});
