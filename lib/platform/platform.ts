import "server-only";
import { getConfig, type AppConfig } from "@/lib/config";
import type { Database } from "@/lib/db/types";
import { createLocalPlatform } from "./local";
import { createSupabasePlatform } from "./supabase";
import type { Platform } from "./types";

/** The platform of a configuration. `database` replaces the one it would open (tests, scripts). */
export function createPlatform(config: AppConfig, opts: { database?: Database } = {}): Platform {
  return config.mode === "supabase" ? createSupabasePlatform(config, opts) : createLocalPlatform(config, opts);
}

const STATE = globalThis as unknown as { __fairmindPlatform?: Platform };

/** The process platform (one per process; survives Next's dev reloads). */
export function getPlatform(): Platform {
  STATE.__fairmindPlatform ??= createPlatform(getConfig());
  return STATE.__fairmindPlatform;
}
