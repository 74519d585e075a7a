// Our schema on a database shaped like a hosted Supabase project's, on the real Postgres server (issue
// 9 §4, §11): `supabase db push` (the real CLI) as a `postgres` that is not a superuser and does not
// own storage.objects — with and without BYPASSRLS, with and without Supabase's policy grants — then
// postgres mode's own runner on that database. The real-Supabase lane repeats it with the storage
// tables the Storage server creates (test/supabase/hosted-install.lane.ts).
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { migrate, listMigrations } from "@/lib/db/migrate";
import { openPostgres } from "@/lib/db/postgres";
import {
  bootstrapDatabase,
  pushMigrations,
  shapeHostedRole,
  withClient,
  type HostedRoleShape,
  type LaneDb,
  type PushResult,
} from "@/scripts/supabase-lane/hosted-db";
import { PG_ADMIN_URL } from "../db";

const ROOT = path.resolve(import.meta.dirname, "../..");
// Its own stand-in for hosted `postgres` (roles are cluster-wide: the lane uses another).
const ROLE = "fm_hosted_install_test";

/** storage.buckets/objects and Storage's helpers, created by (so owned by) supabase_storage_admin. */
function storageTablesSql(): string {
  const shim = fs.readFileSync(path.join(ROOT, "supabase/local/shim.sql"), "utf8");
  const from = shim.indexOf("create table if not exists storage.buckets");
  if (from < 0) throw new Error("shim.sql no longer defines storage.buckets where this test looks for it");
  return shim.slice(from);
}

async function hostedDatabase(): Promise<LaneDb & { drop(): Promise<void> }> {
  const database = `fm_hosted_${process.pid}_${crypto.randomBytes(3).toString("hex")}`;
  const superUrl = new URL(PG_ADMIN_URL);
  superUrl.pathname = `/${database}`;
  const hostedUrl = new URL(superUrl);
  hostedUrl.username = ROLE;
  hostedUrl.password = "";
  const db: LaneDb = { superUrl: superUrl.toString(), hostedRole: ROLE, hostedUrl: hostedUrl.toString(), database };
  await bootstrapDatabase(db);
  await withClient(db.superUrl, async (c) => {
    await c.query("set role supabase_storage_admin");
    await c.query(storageTablesSql());
    await c.query("reset role");
    // Hosted projects grant the storage tables to postgres (Storage's migration 0049).
    await c.query(`grant all on storage.buckets, storage.objects to "${ROLE}" with grant option`);
  });
  return {
    ...db,
    async drop() {
      await withClient(PG_ADMIN_URL, (c) => c.query(`drop database if exists "${database}" with (force)`));
    },
  };
}

const ask = <T extends pg.QueryResultRow>(url: string, text: string) => withClient(url, async (c) => (await c.query<T>(text)).rows[0]!);

const VARIANTS: { name: string; shape: HostedRoleShape; policiesByPush: boolean }[] = [
  // Hosted projects: supautils lets postgres manage policies on storage.objects. Membership in the
  // owner is the closest plain-Postgres stand-in.
  { name: "BYPASSRLS, with Supabase's policy grants (hosted)", shape: { bypassrls: true, storageAdminMember: true }, policiesByPush: true },
  { name: "BYPASSRLS, without policy grants", shape: { bypassrls: true, storageAdminMember: false }, policiesByPush: false },
  { name: "neither BYPASSRLS nor policy grants", shape: { bypassrls: false, storageAdminMember: false }, policiesByPush: false },
];

describe.each(VARIANTS)("supabase db push as a non-superuser postgres that does not own storage.objects: $name", (variant) => {
  let db: Awaited<ReturnType<typeof hostedDatabase>>;
  let push: PushResult;

  beforeAll(async () => {
    db = await hostedDatabase();
    await shapeHostedRole(db, variant.shape);
    push = await pushMigrations(db);
    await shapeHostedRole(db, { ...variant.shape, storageAdminMember: false });
  }, 240_000);
  afterAll(async () => {
    await db?.drop();
  });

  it("the push succeeds and records every migration", async () => {
    expect({ ok: push.ok, error: push.error ?? null }, push.output.slice(-2000)).toEqual({ ok: true, error: null });
    const { n } = await ask<{ n: number }>(db.superUrl, "select count(*)::int as n from supabase_migrations.schema_migrations");
    expect(n).toBe(listMigrations().length);
    // The premise: storage.objects is not the pushing role's, and that role is no superuser.
    const who = await ask<{ owner: string; super: boolean }>(
      db.superUrl,
      `select pg_get_userbyid(c.relowner) as owner, r.rolsuper as super from pg_class c, pg_roles r
       where c.oid = 'storage.objects'::regclass and r.rolname = '${ROLE}'`,
    );
    expect(who).toEqual({ owner: "supabase_storage_admin", super: false });
  });

  it(`the storage policies are ${variant.policiesByPush ? "installed by the push" : "reported missing until supabase/storage-policies.sql runs"}`, async () => {
    const before = await ask<{ ok: boolean }>(db.hostedUrl, "select public.storage_policies_installed() as ok");
    expect(before.ok).toBe(variant.policiesByPush);
    if (!variant.policiesByPush) {
      // The one-time step of docs/supabase.md: the SQL editor (here: a superuser) runs the file.
      await withClient(db.superUrl, (c) => c.query(fs.readFileSync(path.join(ROOT, "supabase/storage-policies.sql"), "utf8")));
    }
    const after = await ask<{ ok: boolean; bucket: boolean }>(
      db.superUrl, // storage.buckets has RLS: without BYPASSRLS the pushing role sees no bucket at all
      "select public.storage_policies_installed() as ok, exists (select 1 from storage.buckets where id = public.model_bucket()) as bucket",
    );
    expect(after).toEqual({ ok: true, bucket: true });
  });

  it("postgres mode on that database: our runner recognises what the CLI applied and runs nothing again", async () => {
    const app = openPostgres(db.hostedUrl, { max: 1 });
    try {
      await migrate(app);
      const { rows } = await app.query<{ n: number }>("select count(*)::int as n from fairmind.schema_migrations");
      expect(rows[0]!.n).toBe(listMigrations().length);
      await migrate(app); // and again: nothing to do
    } finally {
      await app.close();
    }
  });
});
