import "server-only";
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import type { Database } from "./types";

const ROOT = path.resolve(process.cwd(), "supabase");

export interface MigrationFile {
  name: string;
  sql: string;
  checksum: string;
}

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

/**
 * Applies the local shim (what Supabase provides) and then every pending migration, each in its own
 * transaction, recorded in fairmind.schema_migrations. Idempotent; safe with several processes on one
 * Postgres server (advisory lock). Never used in supabase mode: there `supabase db push` applies them.
 */
export async function migrate(db: Database, opts: { root?: string; shim?: boolean } = {}): Promise<string[]> {
  const root = opts.root ?? ROOT;
  const applied: string[] = [];
  await db.transaction(async (tx) => {
    if (db.kind === "postgres") await tx.query("select pg_advisory_xact_lock(72707369)");
    await tx.exec(`
      create schema if not exists fairmind;
      create table if not exists fairmind.schema_migrations (
        name text primary key, checksum text not null, applied_at timestamptz not null default now()
      );`);
    if (opts.shim !== false) {
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
    const { rows: done } = await tx.query<{ name: string; checksum: string }>("select name, checksum from fairmind.schema_migrations");
    const doneByName = new Map(done.map((r) => [r.name, r.checksum]));
    for (const m of listMigrations(root)) {
      const prior = doneByName.get(m.name);
      if (prior) {
        // IMPORTANT: an applied migration is history; edit by adding a new one.
        if (prior !== m.checksum) throw new Error(`Migration ${m.name} changed after it was applied; add a new migration instead.`);
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
