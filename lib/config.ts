import "server-only";
import path from "node:path";
import { z } from "zod";

/** Deployment mode: see docs in README "Configuration". */
export type Mode = "embedded" | "postgres" | "supabase";

const emptyToUndefined = (v: unknown) => (typeof v === "string" && v.trim() === "" ? undefined : v);
const optionalString = z.preprocess(emptyToUndefined, z.string().optional());
const optionalUrl = z.preprocess(emptyToUndefined, z.string().url().optional());

const envSchema = z.object({
  DATABASE_URL: optionalUrl,
  SUPABASE_URL: optionalUrl,
  SUPABASE_SERVICE_ROLE_KEY: optionalString,
  SUPABASE_JWT_SECRET: optionalString,
  NEXT_PUBLIC_SUPABASE_URL: optionalUrl,
  NEXT_PUBLIC_SUPABASE_ANON_KEY: optionalString,
  STORAGE_BUCKET: z.preprocess(
    emptyToUndefined,
    z
      .string()
      .regex(/^[a-z0-9][a-z0-9._-]{1,62}$/)
      .default("ai-models"),
  ),
  DATA_DIR: z.preprocess(emptyToUndefined, z.string().default(".data")),
  AUTH_SECRET: z.preprocess(emptyToUndefined, z.string().min(32).optional()),
  MAX_UPLOAD_BYTES: z.preprocess(
    emptyToUndefined,
    z.coerce
      .number()
      .int()
      .positive()
      .default(5 * 1024 ** 3),
  ),
  COST_STORAGE_PER_GB_MONTH: z.preprocess(emptyToUndefined, z.coerce.number().nonnegative().default(0.021)),
  COST_EGRESS_PER_GB: z.preprocess(emptyToUndefined, z.coerce.number().nonnegative().default(0.09)),
  SIGNED_URL_TTL_SECONDS: z.preprocess(
    emptyToUndefined,
    z.coerce
      .number()
      .int()
      .min(10)
      .max(7 * 24 * 3600)
      .default(900),
  ),
  APP_URL: optionalUrl,
  SEED_DEMO: z.preprocess(emptyToUndefined, z.enum(["auto", "never"]).default("auto")),
});

export type AppConfig = {
  mode: Mode;
  databaseUrl?: string;
  dataDir: string;
  dbDir: string;
  storageDir: string;
  bucket: string;
  authSecret?: string;
  maxUploadBytes: number;
  cost: { storagePerGbMonth: number; egressPerGb: number };
  signedUrlTtlSeconds: number;
  seedDemo: "auto" | "never";
  appUrl?: string;
  supabase?: { url: string; anonKey: string; serviceRoleKey?: string; jwtSecret?: string };
};

/** Parses an environment into the app's configuration; throws a readable error on bad values. */
export function parseConfig(env: Record<string, string | undefined>): AppConfig {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const fields = parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
    throw new Error(`Invalid configuration: ${fields}`);
  }
  const e = parsed.data;
  const dataDir = path.resolve(e.DATA_DIR);
  const supabaseUrl = e.SUPABASE_URL ?? undefined;
  let supabase: AppConfig["supabase"];
  if (supabaseUrl) {
    // IMPORTANT: configured means required — never fall back to the local store silently.
    const anonKey = e.NEXT_PUBLIC_SUPABASE_ANON_KEY;
    if (!anonKey) throw new Error("Invalid configuration: SUPABASE_URL is set but NEXT_PUBLIC_SUPABASE_ANON_KEY is missing");
    if (!e.DATABASE_URL)
      throw new Error("Invalid configuration: supabase mode needs DATABASE_URL (the project's Postgres connection string)");
    supabase = { url: supabaseUrl, anonKey, serviceRoleKey: e.SUPABASE_SERVICE_ROLE_KEY, jwtSecret: e.SUPABASE_JWT_SECRET };
  }
  const mode: Mode = supabase ? "supabase" : e.DATABASE_URL ? "postgres" : "embedded";
  return {
    mode,
    databaseUrl: e.DATABASE_URL,
    dataDir,
    dbDir: path.join(dataDir, "db"),
    storageDir: path.join(dataDir, "storage"),
    bucket: e.STORAGE_BUCKET,
    authSecret: e.AUTH_SECRET,
    maxUploadBytes: e.MAX_UPLOAD_BYTES,
    cost: { storagePerGbMonth: e.COST_STORAGE_PER_GB_MONTH, egressPerGb: e.COST_EGRESS_PER_GB },
    signedUrlTtlSeconds: e.SIGNED_URL_TTL_SECONDS,
    seedDemo: e.SEED_DEMO,
    appUrl: e.APP_URL,
    supabase,
  };
}

let cached: AppConfig | undefined;

/** The process configuration, parsed once from process.env. */
export function getConfig(): AppConfig {
  cached ??= parseConfig(process.env);
  return cached;
}
