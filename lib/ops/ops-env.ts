import "server-only";
import { parseConfig, type AppConfig } from "@/lib/config";
import type { Database } from "@/lib/db/types";
import { isAppError } from "@/lib/errors";
import { createPlatform } from "@/lib/platform/platform";
import type { Platform } from "@/lib/platform/types";
import type { BlobStore } from "@/lib/storage/blob-store";
import { createSupabaseBlobStore } from "@/lib/storage/adapters/supabase";

// The one ops context every admin command shares: the configuration, the platform, a database
// connection of its own, and the blob stores. Commands run outside the app (tsx), read the same
// environment, and must fail fast — never hang, never corrupt — when the app holds the embedded
// database.

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

export interface OpsContext {
  config: AppConfig;
  platform: Platform;
  db: Database;
  close(): Promise<void>;
}

/** Environment problems (no database, locked, unreachable) are usage errors: exit 2 with what to do. */
function asUsageError(e: unknown): unknown {
  return isAppError(e) && e.code === "unavailable" ? new UsageError(e.message) : e;
}

/**
 * Opens the ops context: the configured database (a connection of its own, answering within
 * `timeoutMs`), brought up to date first with `migrate` (never in supabase mode: `supabase db push`
 * owns that schema).
 */
export async function openOpsContext(
  opts: { env?: Env; migrate?: boolean; timeoutMs?: number; allowCreate?: boolean } = {},
): Promise<OpsContext> {
  const config = loadOpsConfig(opts.env);
  const base = createPlatform(config);
  // allowCreate (the seed): open it the way the app does, creating an embedded database if there is none.
  const db = await (
    opts.allowCreate ? base.database() : base.openAdminDatabase({ migrate: opts.migrate, timeoutMs: opts.timeoutMs })
  ).catch((e) => {
    throw asUsageError(e);
  });
  const platform = createPlatform(config, { database: db });
  return { config, platform, db, close: () => db.close() };
}

/** A store's failure to exist (no service role key, …) as a usage error. */
export function opsStore(get: () => BlobStore): BlobStore {
  try {
    return get();
  } catch (e) {
    throw asUsageError(e);
  }
}

/** The migration target: Supabase Storage as the service role (SUPABASE_URL + SUPABASE_SERVICE_ROLE_KEY), admin tools only. */
export function serviceSupabaseStore(env: Env, bucket: string): BlobStore {
  const url = env.SUPABASE_URL?.trim();
  const key = env.SUPABASE_SERVICE_ROLE_KEY?.trim();
  if (!url || !key) throw new UsageError("This needs SUPABASE_URL and SUPABASE_SERVICE_ROLE_KEY in the environment.");
  return createSupabaseBlobStore({ url, anonKey: key, accessToken: key, bucket });
}
