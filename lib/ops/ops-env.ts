import "server-only";
import fs from "node:fs";
import path from "node:path";
import { parseConfig, type AppConfig } from "@/lib/config";
import { migrate } from "@/lib/db/migrate";
import { openPGlite } from "@/lib/db/pglite";
import { openPostgres } from "@/lib/db/postgres";
import type { Database } from "@/lib/db/types";
import type { BlobStore } from "@/lib/storage/blob-store";
import { createEncryptedBlobStore, isEncryptionConfigured, loadEncryptionKeys } from "@/lib/storage/adapters/encrypted";
import { createLocalBlobStore } from "@/lib/storage/adapters/local";
import { createSupabaseBlobStore } from "@/lib/storage/adapters/supabase";

// How the admin commands find the database and the bytes. They run outside the app (tsx), read the
// same environment, and must fail fast — never hang, never corrupt — when the app holds the
// embedded database.

export type Env = Record<string, string | undefined>;

/** Exit codes shared by every ops command. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/** A bad invocation or an environment we refuse to run in: exit 2, with a message saying what to do. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/**
 * The app configuration for an ops command. SUPABASE_URL + SUPABASE_SERVICE_ROLE_KEY alone (without
 * the rest of supabase mode) name a migration target, not the app's mode: the database and the
 * local bytes are then those of the embedded or postgres mode.
 */
export function loadOpsConfig(env: Env = process.env): AppConfig {
  const fullSupabase = Boolean(env.SUPABASE_URL?.trim() && env.NEXT_PUBLIC_SUPABASE_ANON_KEY?.trim() && env.DATABASE_URL?.trim());
  try {
    const config = parseConfig(fullSupabase ? env : { ...env, SUPABASE_URL: undefined });
    return { ...config, seedDemo: "never" };
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

const LOCKED = /already open in another process/;

/**
 * Opens the configured database for an admin command. Embedded: refuses a directory that holds no
 * database, and turns the lock error into what to do. Postgres: answers within `timeoutMs` or fails.
 * `migrate` brings the schema up to date first (not in supabase mode: `supabase db push` does that).
 */
export async function openOpsDatabase(config: AppConfig, opts: { migrate?: boolean; timeoutMs?: number } = {}): Promise<Database> {
  let db: Database;
  if (config.mode === "embedded") {
    if (!fs.existsSync(path.join(config.dbDir, "PG_VERSION"))) {
      throw new UsageError(
        `No embedded database in ${config.dbDir}. Set DATA_DIR to the app's data directory (or DATABASE_URL for postgres mode).`,
      );
    }
    try {
      db = await openPGlite(config.dbDir);
    } catch (e) {
      const message = (e as Error).message;
      if (LOCKED.test(message)) {
        throw new UsageError(
          `${message.replace(/ Stop the other process.*$/, "")}\n` +
            `The embedded database serves one process at a time. Stop the app, or run against DATABASE_URL (postgres mode), then retry.`,
        );
      }
      throw e;
    }
  } else {
    db = openPostgres(config.databaseUrl!, { max: 4 });
    await mustAnswer(db, config.databaseUrl!, opts.timeoutMs);
  }
  if (opts.migrate && config.mode !== "supabase") {
    try {
      await migrate(db);
    } catch (e) {
      await db.close().catch(() => {});
      throw e;
    }
  }
  return db;
}

/** Fails fast (UsageError, exit 2) when a Postgres server does not answer: never hang. */
export async function mustAnswer(db: Database, url: string, timeoutMs = 15_000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      db.query("select 1"),
      new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs / 1000} s`)), timeoutMs))),
    ]);
  } catch (e) {
    void db.close().catch(() => {});
    throw new UsageError(
      `Cannot reach the database at ${safeHost(url)}: ${(e as Error).message}. Check the URL and that the server is up.`,
    );
  } finally {
    clearTimeout(timer);
  }
}

function safeHost(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || 5432}${u.pathname}`;
  } catch {
    return "(unparseable DATABASE_URL)";
  }
}

/** A Supabase Storage client acting as the service role (admin tools only). */
export function serviceSupabaseStore(env: Env, bucket: string): BlobStore {
  const url = env.SUPABASE_URL?.trim();
  const key = env.SUPABASE_SERVICE_ROLE_KEY?.trim();
  if (!url || !key) throw new UsageError("This needs SUPABASE_URL and SUPABASE_SERVICE_ROLE_KEY in the environment.");
  return createSupabaseBlobStore({ url, anonKey: key, accessToken: key, bucket });
}

/** The stored bytes exactly as they are at rest (ciphertext when encryption is on): backups. */
export function rawObjectStore(config: AppConfig, env: Env = process.env): BlobStore {
  if (config.mode === "supabase") return serviceSupabaseStore(env, config.bucket);
  return createLocalBlobStore({ rootDir: config.storageDir, bucket: config.bucket });
}

/** The bytes as the app sees them (decrypted when STORAGE_ENCRYPTION_KEY is set): purge, migration. */
export function appObjectStore(config: AppConfig, env: Env = process.env): BlobStore {
  if (config.mode === "supabase") return serviceSupabaseStore(env, config.bucket);
  const local = createLocalBlobStore({ rootDir: config.storageDir, bucket: config.bucket });
  return isEncryptionConfigured(env) ? createEncryptedBlobStore(local, loadEncryptionKeys(env)) : local;
}

/** The local store as the app sees it, whatever the mode (migration source). */
export function localAppObjectStore(config: AppConfig, env: Env = process.env): BlobStore {
  const local = createLocalBlobStore({ rootDir: config.storageDir, bucket: config.bucket });
  return isEncryptionConfigured(env) ? createEncryptedBlobStore(local, loadEncryptionKeys(env)) : local;
}
