// The database of the real-Supabase lane, shaped like a hosted project's (see bootstrap.sql), and our
// schema applied to it the hosted way: `supabase db push` as a non-superuser `postgres` stand-in that
// does not own storage.objects.
//
//   npx tsx scripts/supabase-lane/hosted-db.ts bootstrap   # before the Storage server's first start
//   npx tsx scripts/supabase-lane/hosted-db.ts reset       # a fresh app schema (drops public!)
//   npx tsx scripts/supabase-lane/hosted-db.ts push [--no-bypassrls] [--emulate-policy-grants]
//
// Env: SUPABASE_TEST_DB_URL (a superuser URL of that database), SUPABASE_TEST_HOSTED_ROLE (default
// sblane_postgres). The lane (test/supabase) calls the same functions.
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import pg from "pg";

export const DEFAULT_HOSTED_ROLE = "sblane_postgres";
const ROOT = path.resolve(import.meta.dirname, "../..");
const IDENT = /^[a-z_][a-z0-9_]{0,62}$/;

export interface LaneDb {
  /** Superuser URL: setup only. */
  superUrl: string;
  /** The stand-in for hosted `postgres`. */
  hostedRole: string;
  /** The same database as hostedRole (trust auth on this machine, or the password in SUPABASE_TEST_HOSTED_DB_URL). */
  hostedUrl: string;
  database: string;
}

/** Reads the lane's database settings from the environment. */
export function laneDbFromEnv(env: NodeJS.ProcessEnv = process.env): LaneDb {
  const superUrl = env.SUPABASE_TEST_DB_URL;
  if (!superUrl) throw new Error("SUPABASE_TEST_DB_URL is not set");
  const hostedRole = env.SUPABASE_TEST_HOSTED_ROLE ?? DEFAULT_HOSTED_ROLE;
  if (!IDENT.test(hostedRole)) throw new Error(`SUPABASE_TEST_HOSTED_ROLE '${hostedRole}' is not a plain identifier`);
  const u = new URL(superUrl);
  const database = decodeURIComponent(u.pathname.slice(1));
  if (!IDENT.test(database)) throw new Error(`database name '${database}' is not a plain identifier`);
  let hostedUrl = env.SUPABASE_TEST_HOSTED_DB_URL;
  if (!hostedUrl) {
    const h = new URL(superUrl);
    h.username = hostedRole;
    h.password = "";
    hostedUrl = h.toString();
  }
  return { superUrl, hostedRole, hostedUrl, database };
}

export async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url, application_name: "sblane" });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** Creates the database when missing and gives it what a Supabase project has (bootstrap.sql). */
export async function bootstrapDatabase(db: LaneDb): Promise<void> {
  const admin = new URL(db.superUrl);
  admin.pathname = "/postgres";
  await withClient(admin.toString(), async (c) => {
    const { rows } = await c.query("select 1 from pg_database where datname = $1", [db.database]);
    if (!rows[0]) await c.query(`create database "${db.database}"`);
  });
  const sql = fs.readFileSync(path.join(import.meta.dirname, "bootstrap.sql"), "utf8");
  await withClient(db.superUrl, async (c) => {
    await c.query("select set_config('sblane.hosted_role', $1, false)", [db.hostedRole]);
    await c.query(sql);
  });
}

/**
 * A fresh app schema: drops public (our tables, functions, and with them the storage policies and
 * the auth.users trigger that depend on them) and the CLI's migration history, then restores
 * Supabase's grants. storage.* and auth.users rows are Storage's and Auth's: left alone.
 */
export async function resetAppSchema(db: LaneDb): Promise<void> {
  await withClient(db.superUrl, async (c) => {
    await c.query(
      `drop schema if exists supabase_migrations cascade; drop schema if exists public cascade; create schema public authorization "${db.hostedRole}"`,
    );
  });
  await bootstrapDatabase(db);
  // Hosted projects grant the storage tables to postgres (Storage migration 0049 does it for `postgres`).
  await withClient(db.superUrl, async (c) => {
    const { rows } = await c.query("select to_regclass('storage.objects') is not null as ready");
    if (rows[0]?.ready) await c.query(`grant all on storage.buckets, storage.objects to "${db.hostedRole}" with grant option`);
  });
}

export interface HostedRoleShape {
  bypassrls: boolean;
  /**
   * Hosted projects let `postgres` manage policies on storage.objects through the supautils
   * extension (`supautils.policy_grants`), which plain Postgres does not have. The closest stand-in
   * is membership in the table's owner, supabase_storage_admin — which grants MORE (any DDL on
   * storage.*), so it is only used to get on with the lane when the honest push failed.
   */
  storageAdminMember: boolean;
}

export async function shapeHostedRole(db: LaneDb, shape: HostedRoleShape): Promise<void> {
  await withClient(db.superUrl, async (c) => {
    await c.query(`alter role "${db.hostedRole}" nosuperuser ${shape.bypassrls ? "bypassrls" : "nobypassrls"}`);
    await c.query(
      `${shape.storageAdminMember ? "grant supabase_storage_admin to" : "revoke supabase_storage_admin from"} "${db.hostedRole}"`,
    );
  });
}

export interface PushResult {
  ok: boolean;
  exitCode: number | null;
  output: string;
  /** The first "ERROR: …" line of the CLI's output, when it failed. */
  error?: string;
}

/** `supabase db push --db-url <hosted role's URL>`: what a hosted project's deploy does. */
export async function pushMigrations(db: LaneDb, opts: { timeoutMs?: number } = {}): Promise<PushResult> {
  const bin = path.join(ROOT, "node_modules", ".bin", "supabase");
  return new Promise((resolve) => {
    const url = new URL(db.hostedUrl);
    // The CLI insists on TLS unless told otherwise; the local server has none.
    if (!url.searchParams.has("sslmode") && ["127.0.0.1", "localhost", "[::1]"].includes(url.hostname))
      url.searchParams.set("sslmode", "disable");
    const child = spawn(bin, ["db", "push", "--db-url", url.toString(), "--include-all", "--workdir", ROOT], {
      cwd: ROOT,
      env: { ...process.env, SUPABASE_TELEMETRY_DISABLED: "1", DO_NOT_TRACK: "1" },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr.on("data", (d: Buffer) => (output += d.toString()));
    // It asks "Do you want to push these migrations? [Y/n]".
    child.stdin.end("y\n");
    const timer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs ?? 120_000);
    child.on("close", (exitCode) => {
      clearTimeout(timer);
      const error = /ERROR:[^\n]*/.exec(output)?.[0];
      resolve({ ok: exitCode === 0, exitCode, output, ...(error ? { error } : {}) });
    });
  });
}

async function main() {
  const db = laneDbFromEnv();
  const [cmd, ...flags] = process.argv.slice(2);
  if (cmd === "bootstrap") {
    await bootstrapDatabase(db);
    console.log(`bootstrapped ${db.database} (hosted postgres stand-in: ${db.hostedRole})`);
  } else if (cmd === "reset") {
    await resetAppSchema(db);
    console.log(`fresh app schema in ${db.database}`);
  } else if (cmd === "push") {
    const shape = { bypassrls: !flags.includes("--no-bypassrls"), storageAdminMember: flags.includes("--emulate-policy-grants") };
    await shapeHostedRole(db, shape);
    const r = await pushMigrations(db);
    if (shape.storageAdminMember) await shapeHostedRole(db, { ...shape, storageAdminMember: false });
    process.stdout.write(r.output);
    process.exitCode = r.ok ? 0 : 1;
  } else {
    console.error("usage: hosted-db.ts bootstrap | reset | push [--no-bypassrls] [--emulate-policy-grants]");
    process.exitCode = 2;
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename)) {
  main().catch((e: unknown) => {
    console.error((e as Error).message);
    process.exitCode = 1;
  });
}
