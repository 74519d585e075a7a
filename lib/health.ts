import "server-only";
import type { Mode } from "@/lib/config";
import { getPlatform } from "@/lib/platform/platform";
import type { Platform } from "@/lib/platform/types";
import pkg from "@/package.json";

export interface Health {
  status: "ok" | "degraded";
  mode: Mode;
  version: string;
  database: { ok: boolean; kind?: string; detail?: string; latency_ms?: number };
  storage: {
    ok: boolean;
    backend: "local" | "supabase";
    bucket: string;
    encrypted: boolean;
    key_id?: string;
    detail?: string;
    /** Supabase mode: Storage enforces the storage.objects policies our migrations define; without them it must not serve. */
    policies?: { ok: boolean; detail?: string };
  };
}

/**
 * Supabase mode: are our storage.objects policies installed, for the bucket the app uses? Without them
 * Storage would refuse every user (or, with older policies, let members write any key).
 */
async function storagePolicies(platform: Platform): Promise<{ ok: boolean; detail?: string }> {
  const db = await platform.database();
  const { rows } = await db.query<{ installed: boolean; bucket: string }>(
    "select public.storage_policies_installed() as installed, public.model_bucket() as bucket",
  );
  const r = rows[0];
  if (!r?.installed)
    return {
      ok: false,
      detail:
        "The storage policies are missing on storage.objects: run supabase/storage-policies.sql once in the project's SQL editor (docs/supabase.md).",
    };
  if (r.bucket !== platform.config.bucket)
    return {
      ok: false,
      detail: `The storage policies guard bucket '${r.bucket}' but STORAGE_BUCKET is '${platform.config.bucket}': set public.storage_settings.bucket (docs/supabase.md).`,
    };
  return { ok: true };
}

/** What a failure may say to anyone who asks (health is public): no file paths, no process ids. */
export function publicDetail(message: string): string {
  return message
    .replace(/(?:[A-Za-z]:)?(?:\/[^\s:'"()]+)+/g, "<path>")
    .replace(/\bpid \d+/g, "another process")
    .slice(0, 300);
}

const withTimeout = <T>(p: Promise<T>, ms: number) =>
  Promise.race([p, new Promise<never>((_, rej) => setTimeout(() => rej(new Error(`no answer within ${ms} ms`)), ms))]);

let lastPolicyWarning: string | undefined;

/** Mode and reachability of the database and the blob store. Configured means required: failures show. */
export async function checkHealth(platform: Platform = getPlatform()): Promise<Health> {
  const { config } = platform;
  const database: Health["database"] = { ok: false };
  try {
    const t = performance.now();
    const db = await withTimeout(platform.database(), 15_000);
    await withTimeout(db.query("select 1"), 5_000);
    Object.assign(database, { ok: true, kind: db.kind, latency_ms: Math.round(performance.now() - t) });
  } catch (e) {
    database.detail = publicDetail((e as Error).message);
  }
  const backend = platform.uploads.backend;
  const storage: Health["storage"] = { ok: false, backend, bucket: config.bucket, encrypted: false };
  if (backend === "local" && config.encryption) Object.assign(storage, { encrypted: true, key_id: config.encryption.current.id });
  try {
    const r = await withTimeout(platform.blobs.probe().ping(), 5_000);
    storage.ok = r.ok;
    // Only say why when it is down: a healthy answer need not tell anonymous callers server paths.
    if (!r.ok && r.detail) storage.detail = publicDetail(r.detail);
  } catch (e) {
    storage.detail = publicDetail((e as Error).message);
  }
  if (backend === "supabase" && database.ok) {
    // Logged once per change, not on every probe of a load balancer.
    storage.policies = await withTimeout(storagePolicies(platform), 5_000).catch((e: Error) => ({
      ok: false,
      detail: publicDetail(e.message),
    }));
    if (storage.policies.ok) lastPolicyWarning = undefined;
    else {
      storage.ok = false;
      storage.detail ??= storage.policies.detail;
      if (storage.policies.detail !== lastPolicyWarning) console.error(`[fairmind] ${storage.policies.detail}`);
      lastPolicyWarning = storage.policies.detail;
    }
  }
  return { status: database.ok && storage.ok ? "ok" : "degraded", mode: platform.mode, version: pkg.version, database, storage };
}
