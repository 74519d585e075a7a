import "server-only";
import { getConfig, type AppConfig } from "@/lib/config";
import { migrate } from "./migrate";
import { openPGlite } from "./pglite";
import { openPostgres } from "./postgres";
import type { Claims, Database, Queryable } from "./types";

type Tx = Queryable;

const STATE = globalThis as unknown as { __fairmindDb?: Promise<Database> };

/** Opens the configured database and brings its schema up to date. */
export async function openDatabase(config: AppConfig): Promise<Database> {
  const db = config.mode === "embedded" ? await openPGlite(config.dbDir) : openPostgres(config.databaseUrl!);
  if (config.mode !== "supabase") {
    try {
      await migrate(db);
      if (config.mode === "embedded" && config.seedDemo === "auto") {
        // First start of the embedded default: create the demo (README lists the accounts).
        const demo = await import("@/lib/demo/seed");
        if (await demo.needsDemo(db)) {
          console.log("[fairmind] first start: creating the demo organizations, users and models…");
          await demo.seedDemo(db, config, (m) => console.log(m));
          await demo.markDemoSeeded(db);
          console.log(
            `[fairmind] demo ready: sign in as alice@demo.org (password ${demo.DEMO_PASSWORD}); the README lists every demo account.`,
          );
        }
      }
    } catch (e) {
      console.error("[fairmind] could not open the database:", (e as Error).message);
      await db.close().catch(() => {});
      throw e;
    }
  }
  return db;
}

/** The process-wide database (one per process; survives Next's dev reloads). */
export function getDb(): Promise<Database> {
  STATE.__fairmindDb ??= openDatabase(getConfig()).catch((e) => {
    STATE.__fairmindDb = undefined;
    throw e;
  });
  return STATE.__fairmindDb;
}

/** Replaces the process database (tests, scripts that open their own). */
export function setDb(db: Database | undefined) {
  STATE.__fairmindDb = db ? Promise.resolve(db) : undefined;
}

/**
 * Runs `fn` in a transaction as role `authenticated` with the verified claims, exactly as Supabase's
 * own servers do — so RLS policies, not TypeScript, decide what the user sees and changes.
 * Every query made on behalf of a user goes through here.
 */
export async function withUser<T>(claims: Claims, fn: (tx: Tx) => Promise<T>, db?: Database): Promise<T> {
  const database = db ?? (await getDb());
  return database.transaction(async (tx) => {
    // fairmind.via marks the transaction as the app server's (see migration 000300): the Data API
    // cannot set it, so only this path may finish uploads and write audit events for a user.
    await tx.query(
      "select set_config('role', 'authenticated', true), set_config('request.jwt.claims', $1, true), set_config('fairmind.via', 'server', true)",
      [JSON.stringify(claims)],
    );
    return fn(tx);
  });
}

/** Runs `fn` as role `anon` (no user yet: resolving an API token, like Supabase Auth would). */
export async function withAnon<T>(fn: (tx: Tx) => Promise<T>, db?: Database): Promise<T> {
  const database = db ?? (await getDb());
  return database.transaction(async (tx) => {
    await tx.query("select set_config('role', 'anon', true), set_config('request.jwt.claims', '{\"role\":\"anon\"}', true)");
    return fn(tx);
  });
}

/**
 * IMPORTANT: bypasses RLS. For migrations, seeding, the local auth server (auth.users) and admin
 * tools only — never to serve data to a user request.
 */
export async function withService<T>(fn: (tx: Tx) => Promise<T>, db?: Database): Promise<T> {
  const database = db ?? (await getDb());
  return database.transaction(fn);
}
