import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { migrate, listMigrations } from "./migrate";
import { DB_KINDS, openTestDatabase, type TestDatabase } from "@/test/db";

describe.each(DB_KINDS)("migrations on %s", (kind) => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await openTestDatabase(kind);
  });
  afterAll(() => t.cleanup());

  it("records every migration and re-running applies nothing", async () => {
    const { rows } = await t.db.query<{ name: string }>("select name from fairmind.schema_migrations order by name");
    expect(rows.map((r) => r.name)).toEqual(["local/shim.sql", ...listMigrations().map((m) => m.name)].sort());
    expect(await migrate(t.db)).toEqual([]);
  });

  it("enables row-level security on every table in public and storage.objects", async () => {
    const { rows } = await t.db.query<{ relname: string; relrowsecurity: boolean }>(
      `select c.relname, c.relrowsecurity from pg_class c join pg_namespace n on n.oid = c.relnamespace
       where c.relkind = 'r' and (n.nspname = 'public' or (n.nspname = 'storage' and c.relname = 'objects'))`,
    );
    expect(rows.length).toBeGreaterThanOrEqual(9);
    expect(rows.filter((r) => !r.relrowsecurity).map((r) => r.relname)).toEqual([]);
  });

  it("leaves no policy with a name Postgres cut to 63 bytes (a later `alter policy … rename` must fix a long one)", async () => {
    const written = new Set<string>();
    for (const m of listMigrations())
      for (const x of m.sql.matchAll(/create policy "([^"]+)"/gi)) if (Buffer.byteLength(x[1]!) > 63) written.add(x[1]!);
    const { rows } = await t.db.query<{ name: string }>("select policyname as name from pg_policies");
    const cut = rows.filter((r) => [...written].some((long) => long.startsWith(r.name))).map((r) => r.name);
    expect(cut).toEqual([]);
  });

  it("creates the private ai-models bucket", async () => {
    const { rows } = await t.db.query<{ public: boolean }>("select public from storage.buckets where id = 'ai-models'");
    expect(rows).toEqual([{ public: false }]);
  });

  it("refuses a migration that changed after it was applied", async () => {
    await t.db.query("update fairmind.schema_migrations set checksum = repeat('0', 64) where name <> 'local/shim.sql'");
    await expect(migrate(t.db)).rejects.toThrow(/changed after it was applied/);
  });
});
