import "server-only";
import { getConfig } from "@/lib/config";
import { getDb } from "@/lib/db/client";
import type { EncryptedBlobStore } from "@/lib/storage/adapters/encrypted";
import { createBlobStore } from "@/lib/storage/create-blob-store";
import { localStore } from "@/lib/storage/service";
import pkg from "@/package.json";

export interface Health {
  status: "ok" | "degraded";
  mode: "embedded" | "postgres" | "supabase";
  version: string;
  database: { ok: boolean; kind?: string; detail?: string; latency_ms?: number };
  storage: { ok: boolean; backend: "local" | "supabase"; bucket: string; encrypted: boolean; key_id?: string; detail?: string };
}

const withTimeout = <T>(p: Promise<T>, ms: number) =>
  Promise.race([p, new Promise<never>((_, rej) => setTimeout(() => rej(new Error(`no answer within ${ms} ms`)), ms))]);

/** Mode and reachability of the database and the blob store. Configured means required: failures show. */
export async function checkHealth(): Promise<Health> {
  const config = getConfig();
  const database: Health["database"] = { ok: false };
  try {
    const t = performance.now();
    const db = await withTimeout(getDb(), 15_000);
    await withTimeout(db.query("select 1"), 5_000);
    Object.assign(database, { ok: true, kind: db.kind, latency_ms: Math.round(performance.now() - t) });
  } catch (e) {
    database.detail = (e as Error).message;
  }
  const backend = config.mode === "supabase" ? "supabase" : "local";
  const storage: Health["storage"] = { ok: false, backend, bucket: config.bucket, encrypted: false };
  try {
    const store =
      backend === "local"
        ? localStore(config)
        : createBlobStore({
            kind: "supabase",
            url: config.supabase!.url,
            anonKey: config.supabase!.anonKey,
            accessToken: config.supabase!.anonKey,
            bucket: config.bucket,
          });
    const enc = store as Partial<EncryptedBlobStore>;
    if (enc.encrypted) Object.assign(storage, { encrypted: true, key_id: enc.keyId });
    const r = await withTimeout(store.ping(), 5_000);
    storage.ok = r.ok;
    // Only say why when it is down: a healthy answer need not tell anonymous callers server paths.
    if (!r.ok && r.detail) storage.detail = r.detail;
  } catch (e) {
    storage.detail = (e as Error).message;
  }
  return { status: database.ok && storage.ok ? "ok" : "degraded", mode: config.mode, version: pkg.version, database, storage };
}
