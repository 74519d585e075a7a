import "server-only";
import { isIP } from "node:net";
import path from "node:path";
import { z } from "zod";
import { loadEncryptionKeys, type EncryptionKeys } from "@/lib/storage/adapters/encryption-keys";

// Every environment variable the app reads is parsed here, once. The deployment mode is decided here
// and acted on only by lib/platform (the rest of the code asks the platform, never the mode).

/** Deployment mode: see README "Modes and configuration". */
export type Mode = "embedded" | "postgres" | "supabase";

const emptyToUndefined = (v: unknown) => (typeof v === "string" && v.trim() === "" ? undefined : v);
const optionalString = z.preprocess(emptyToUndefined, z.string().optional());
const optionalUrl = z.preprocess(emptyToUndefined, z.string().url().optional());
const withDefault = <T extends z.ZodType>(schema: T) => z.preprocess(emptyToUndefined, schema);

const envSchema = z.object({
  DATABASE_URL: optionalUrl,
  SUPABASE_URL: optionalUrl,
  SUPABASE_SERVICE_ROLE_KEY: optionalString,
  SUPABASE_JWT_SECRET: optionalString,
  NEXT_PUBLIC_SUPABASE_URL: optionalUrl,
  NEXT_PUBLIC_SUPABASE_ANON_KEY: optionalString,
  STORAGE_BUCKET: withDefault(
    z
      .string()
      .regex(/^[a-z0-9][a-z0-9._-]{1,62}$/)
      .default("ai-models"),
  ),
  DATA_DIR: withDefault(z.string().default(".data")),
  AUTH_SECRET: withDefault(z.string().min(32).optional()),
  MAX_UPLOAD_BYTES: withDefault(
    z.coerce
      .number()
      .int()
      .positive()
      .default(5 * 1024 ** 3),
  ),
  COST_STORAGE_PER_GB_MONTH: withDefault(z.coerce.number().nonnegative().default(0.021)),
  COST_EGRESS_PER_GB: withDefault(z.coerce.number().nonnegative().default(0.09)),
  SIGNED_URL_TTL_SECONDS: withDefault(
    z.coerce
      .number()
      .int()
      .min(10)
      .max(7 * 24 * 3600)
      .default(900),
  ),
  APP_URL: optionalUrl,
  SEED_DEMO: withDefault(z.enum(["auto", "never"]).default("auto")),
  RETENTION_DAYS: withDefault(z.coerce.number().int().min(0).max(36500).default(30)),
  PROTECTED_ALIASES: z.string().optional(),
  TRUSTED_PROXIES: z.string().optional(),
  WEBHOOKS_ALLOW_PRIVATE: withDefault(z.enum(["true", "false"]).default("false")),
  WEBHOOKS_DISPATCHER: withDefault(z.enum(["on", "off"]).default("on")),
  WEBHOOKS_RETRY_BASE_MS: withDefault(z.coerce.number().int().min(10).max(3_600_000).default(60_000)),
  WEBHOOKS_MAX_ATTEMPTS: withDefault(z.coerce.number().int().min(1).max(10).default(6)),
  WEBHOOKS_TIMEOUT_MS: withDefault(z.coerce.number().int().min(100).max(60_000).default(10_000)),
  WEBHOOKS_POLL_MS: withDefault(z.coerce.number().int().min(50).max(60_000).default(2_000)),
});

/** "10.0.0.1, 10.1.0.0/16, ::1": the reverse proxies whose X-Forwarded-For may be believed. */
function parseTrustedProxies(raw: string | undefined): string[] {
  const entries = (raw ?? "")
    .split(",")
    .map((e) => e.trim())
    .filter(Boolean);
  for (const e of entries) {
    const [addr, bits, extra] = e.split("/");
    const family = isIP(addr ?? "");
    const prefix = bits === undefined ? undefined : Number(bits);
    if (
      !family ||
      extra !== undefined ||
      (prefix !== undefined && !(Number.isInteger(prefix) && prefix >= 0 && prefix <= (family === 4 ? 32 : 128)))
    ) {
      invalid(`TRUSTED_PROXIES: ${JSON.stringify(e)} is not an IP address or CIDR range`);
    }
  }
  return entries;
}

interface BaseConfig {
  dataDir: string;
  dbDir: string;
  storageDir: string;
  bucket: string;
  /** Signs local sessions and download links; generated into DATA_DIR when unset. */
  authSecret?: string;
  maxUploadBytes: number;
  cost: { storagePerGbMonth: number; egressPerGb: number };
  signedUrlTtlSeconds: number;
  seedDemo: "auto" | "never";
  appUrl?: string;
  /** Encryption at rest of the local store (STORAGE_ENCRYPTION_KEY[_PREVIOUS]); undefined when off. */
  encryption?: EncryptionKeys;
  retention: { days: number; protectedAliases: string[] };
  /** Reverse proxies (IPs, CIDRs) whose X-Forwarded-For is believed; empty: nobody's (the default). */
  trustedProxies: string[];
  /** Outgoing webhooks (docs/webhooks.md). */
  webhooks: WebhookSettings;
}

export interface WebhookSettings {
  /** Private, loopback and link-local targets allowed (tests, closed networks); refused by default. */
  allowPrivate: boolean;
  /** This process runs a dispatcher (several servers may each run one: they share the queue). */
  dispatcher: boolean;
  /** The first retry's delay; later ones are 5, 30, 120 and 360 times it (1 m, 5 m, 30 m, 2 h, 6 h). */
  retryBaseMs: number;
  maxAttempts: number;
  timeoutMs: number;
  pollMs: number;
}

export interface SupabaseSettings {
  url: string;
  anonKey: string;
  /** Admin tools only (seed, migrate:cloud, purge in supabase mode): never a user request. */
  serviceRoleKey?: string;
  /** Legacy JWT secret: local access-token checks, and Storage tokens for API-token callers. */
  jwtSecret?: string;
}

export type EmbeddedConfig = BaseConfig & { mode: "embedded" };
export type PostgresConfig = BaseConfig & { mode: "postgres"; databaseUrl: string };
export type SupabaseConfig = BaseConfig & { mode: "supabase"; databaseUrl: string; supabase: SupabaseSettings };
export type LocalConfig = EmbeddedConfig | PostgresConfig;
export type AppConfig = LocalConfig | SupabaseConfig;

function invalid(message: string): never {
  throw new Error(`Invalid configuration: ${message}`);
}

/** Parses an environment into the app's configuration; throws a readable error on bad values. */
export function parseConfig(env: Record<string, string | undefined>): AppConfig {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) invalid(parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; "));
  const e = parsed.data;
  const dataDir = path.resolve(e.DATA_DIR);
  let encryption: EncryptionKeys | undefined;
  try {
    encryption = env.STORAGE_ENCRYPTION_KEY?.trim() ? loadEncryptionKeys(env) : undefined;
  } catch (err) {
    invalid((err as Error).message);
  }
  const protectedAliases =
    e.PROTECTED_ALIASES === undefined
      ? ["production"]
      : e.PROTECTED_ALIASES.split(",")
          .map((a) => a.trim())
          .filter(Boolean);
  const base: BaseConfig = {
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
    encryption,
    retention: { days: e.RETENTION_DAYS, protectedAliases },
    trustedProxies: parseTrustedProxies(e.TRUSTED_PROXIES),
    webhooks: {
      allowPrivate: e.WEBHOOKS_ALLOW_PRIVATE === "true",
      dispatcher: e.WEBHOOKS_DISPATCHER === "on",
      retryBaseMs: e.WEBHOOKS_RETRY_BASE_MS,
      maxAttempts: e.WEBHOOKS_MAX_ATTEMPTS,
      timeoutMs: e.WEBHOOKS_TIMEOUT_MS,
      pollMs: e.WEBHOOKS_POLL_MS,
    },
  };
  if (e.SUPABASE_URL) {
    // IMPORTANT: configured means required — never fall back to the local store silently.
    if (!e.NEXT_PUBLIC_SUPABASE_ANON_KEY) invalid("SUPABASE_URL is set but NEXT_PUBLIC_SUPABASE_ANON_KEY is missing");
    if (!e.DATABASE_URL) invalid("supabase mode needs DATABASE_URL (the project's Postgres connection string)");
    return {
      ...base,
      mode: "supabase",
      databaseUrl: e.DATABASE_URL,
      supabase: {
        url: e.SUPABASE_URL,
        anonKey: e.NEXT_PUBLIC_SUPABASE_ANON_KEY,
        serviceRoleKey: e.SUPABASE_SERVICE_ROLE_KEY,
        jwtSecret: e.SUPABASE_JWT_SECRET,
      },
    };
  }
  return e.DATABASE_URL ? { ...base, mode: "postgres", databaseUrl: e.DATABASE_URL } : { ...base, mode: "embedded" };
}

let cached: AppConfig | undefined;

/** The process configuration, parsed once from process.env. */
export function getConfig(): AppConfig {
  cached ??= parseConfig(process.env);
  return cached;
}
