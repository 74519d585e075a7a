import "server-only";
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import type { Database, Queryable } from "./types";

const ROOT = path.resolve(process.cwd(), "supabase");

export interface MigrationFile {
  name: string;
  sql: string;
  checksum: string;
}

/**
 * Migrations edited after they shipped, with the checksums they shipped with: a database that
 * applied an older text is up to date (the edit changed how it installs, not what it builds).
 * IMPORTANT: only for edits that leave an applied database as the new text would; anything else is
 * a new migration.
 */
const AMENDED: Record<string, string[]> = {
  // The storage bucket and policies moved into a guarded block (installs where the migrating role
  // may not touch storage.objects: a hosted-style database).
  "20261130000100_initial_schema.sql": ["e086b35e0fe10a2b04be47463653b812ff92b77e01a26ca16ef067ced9ac2040"],
};

function readSql(file: string, name = path.basename(file)): MigrationFile {
  const sql = fs.readFileSync(file, "utf8");
  return { name, sql, checksum: crypto.createHash("sha256").update(sql).digest("hex") };
}

/** The migrations in supabase/migrations, in file-name (timestamp) order. */
export function listMigrations(root = ROOT): MigrationFile[] {
  const dir = path.join(root, "migrations");
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith(".sql"))
    .sort()
    .map((f) => readSql(path.join(dir, f)));
}

/** Migration versions the Supabase CLI recorded (`supabase db push`): its own table, when there is one. */
async function appliedBySupabaseCli(tx: Queryable): Promise<Set<string>> {
  const { rows } = await tx.query<{ t: string | null }>("select to_regclass('supabase_migrations.schema_migrations')::text as t");
  if (!rows[0]?.t) return new Set();
  const { rows: versions } = await tx.query<{ version: string }>("select version from supabase_migrations.schema_migrations");
  return new Set(versions.map((v) => v.version));
}

/**
 * Whether this is a Supabase project's database (or one shaped like it): Supabase Auth (GoTrue),
 * Supabase Storage or the Supabase CLI keep their own migration tables there. The local shim is then
 * not ours to apply: auth and storage belong to Supabase.
 */
async function isSupabaseManaged(tx: Queryable): Promise<boolean> {
  const { rows } = await tx.query<{ managed: boolean }>(
    `select (to_regclass('auth.schema_migrations') is not null or to_regclass('storage.migrations') is not null
             or to_regclass('supabase_migrations.schema_migrations') is not null) as managed`,
  );
  return Boolean(rows[0]?.managed);
}

/**
 * Applies the local shim (what Supabase provides) and then every pending migration, each in its own
 * transaction, recorded in fairmind.schema_migrations. Idempotent; safe with several processes on one
 * Postgres server (advisory lock). On a database whose schema `supabase db push` applied (postgres
 * mode on a Supabase project's database), the shim is skipped and the CLI's record counts as applied.
 */
export async function migrate(
  db: Database,
  /** only: apply just the migrations it accepts (a restore first rebuilds the schema an archive was made with). */
  opts: { root?: string; shim?: boolean; only?: (name: string) => boolean } = {},
): Promise<string[]> {
  const root = opts.root ?? ROOT;
  const applied: string[] = [];
  await db.transaction(async (tx) => {
    if (db.kind === "postgres") await tx.query("select pg_advisory_xact_lock(72707369)");
    await tx.exec(`
      create schema if not exists fairmind;
      create table if not exists fairmind.schema_migrations (
        name text primary key, checksum text not null, applied_at timestamptz not null default now()
      );`);
    if (opts.shim !== false && !(await isSupabaseManaged(tx))) {
      const shim = readSql(path.join(root, "local", "shim.sql"), "local/shim.sql");
      const { rows } = await tx.query<{ checksum: string }>("select checksum from fairmind.schema_migrations where name = $1", [shim.name]);
      if (rows[0]?.checksum !== shim.checksum) {
        await tx.exec(shim.sql);
        await tx.query(
          `insert into fairmind.schema_migrations (name, checksum) values ($1, $2)
           on conflict (name) do update set checksum = excluded.checksum, applied_at = now()`,
          [shim.name, shim.checksum],
        );
        applied.push(shim.name);
      }
    }
    const byCli = await appliedBySupabaseCli(tx);
    const { rows: done } = await tx.query<{ name: string; checksum: string }>("select name, checksum from fairmind.schema_migrations");
    const doneByName = new Map(done.map((r) => [r.name, r.checksum]));
    for (const m of listMigrations(root)) {
      if (opts.only && !opts.only(m.name)) continue;
      const prior = doneByName.get(m.name);
      if (prior) {
        if (prior === m.checksum) continue;
        if (AMENDED[m.name]?.includes(prior)) {
          await tx.query("update fairmind.schema_migrations set checksum = $2 where name = $1", [m.name, m.checksum]);
          continue;
        }
        // IMPORTANT: an applied migration is history; edit by adding a new one.
        throw new Error(`Migration ${m.name} changed after it was applied; add a new migration instead.`);
      }
      if (byCli.has(m.name.split("_")[0]!)) {
        // `supabase db push` applied it: record it as ours too, without running it again.
        await tx.query("insert into fairmind.schema_migrations (name, checksum) values ($1, $2)", [m.name, m.checksum]);
        continue;
      }
      try {
        await tx.exec(m.sql);
      } catch (e) {
        throw new Error(`Migration ${m.name} failed: ${(e as Error).message}`, { cause: e });
      }
      await tx.query("insert into fairmind.schema_migrations (name, checksum) values ($1, $2)", [m.name, m.checksum]);
      applied.push(m.name);
    }
  });
  return applied;
}
