// Our schema on a database shaped like a hosted Supabase project's: `supabase db push` as a
// `postgres` that is not a superuser and does not own storage.objects (supabase_storage_admin does).
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ctx, lane, show, sql, title, api } from "./support/lane";

const MIGRATIONS = path.resolve(import.meta.dirname, "../../supabase/migrations");
const outcome = (r: { ok: boolean; error?: string; output: string }) => ({
  ok: r.ok,
  error: r.error ?? null,
  tail: r.output.trim().split("\n").slice(-12).join("\n"),
});

describe.skipIf(!lane)(title("the schema installs on a hosted-style database"), () => {
  it("supabase db push succeeds as a non-superuser postgres with BYPASSRLS that does not own storage.objects (as on hosted projects)", () => {
    expect(outcome(ctx().install.bypassrls)).toMatchObject({ ok: true, error: null });
  });

  it("supabase db push succeeds as a non-superuser postgres without BYPASSRLS", () => {
    expect(outcome(ctx().install.noBypassrls)).toMatchObject({ ok: true, error: null });
  });

  it("storage.objects belongs to supabase_storage_admin, not to the role that pushed (the premise of the two tests above)", async () => {
    const { rows } = await sql<{ owner: string }>(
      "select pg_get_userbyid(relowner) as owner from pg_class where oid = 'storage.objects'::regclass",
    );
    expect(rows[0]?.owner).toBe("supabase_storage_admin");
    const { rows: r2 } = await sql<{ super: boolean; member: boolean }>(
      "select rolsuper as super, pg_has_role($1, 'supabase_storage_admin', 'member') as member from pg_roles where rolname = $1",
      [ctx().hostedRole],
    );
    expect(r2[0]).toEqual({ super: false, member: false });
  });

  it("every migration is recorded in supabase_migrations.schema_migrations", async () => {
    const files = fs
      .readdirSync(MIGRATIONS)
      .filter((f) => f.endsWith(".sql"))
      .map((f) => f.split("_")[0])
      .sort();
    const { rows } = await sql<{ version: string }>("select version from supabase_migrations.schema_migrations order by version");
    expect(rows.map((r) => r.version)).toEqual(files);
  });

  it("no policy in the installed schema carries a name Postgres cut to 63 bytes (long ones were renamed)", async () => {
    const long = new Set<string>();
    for (const f of fs.readdirSync(MIGRATIONS).filter((x) => x.endsWith(".sql"))) {
      for (const m of fs.readFileSync(path.join(MIGRATIONS, f), "utf8").matchAll(/create policy "([^"]+)"/gi)) {
        if (Buffer.byteLength(m[1]!) > 63) long.add(m[1]!);
      }
    }
    const { rows } = await sql<{ name: string }>("select policyname as name from pg_policies");
    expect(rows.filter((r) => [...long].some((l) => l.startsWith(r.name))).map((r) => r.name)).toEqual([]);
  });

  it("the storage policies the app relies on exist on storage.objects, and /api/health is ok", async () => {
    const { rows } = await sql<{ cmd: string }>("select cmd from pg_policies where schemaname = 'storage' and tablename = 'objects'");
    expect(rows.map((r) => r.cmd)).toEqual(expect.arrayContaining(["SELECT", "INSERT", "DELETE"]));
    const h = await api("/api/health");
    expect(h.status, show(h)).toBe(200);
  });
});
