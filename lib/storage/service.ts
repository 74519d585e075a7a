import "server-only";
import { SignJWT } from "jose";
import type { Principal } from "@/lib/auth/principal";
import { getConfig, type AppConfig } from "@/lib/config";
import type { Database } from "@/lib/db/types";
import { AppError } from "@/lib/errors";
import type { BlobStore } from "./blob-store";
import type { LocalBlobStore } from "./adapters/local";
import { isEncryptionConfigured, loadEncryptionKeys } from "./adapters/encrypted";
import { createBlobStore } from "./create-blob-store";
import { ModelStorage } from "./model-storage";

const STATE = globalThis as unknown as { __fairmindStorage?: ModelStorage; __fairmindLocalStore?: BlobStore };

/** The blob store that acts for `p`: the shared local store, or Supabase Storage with p's access token. */
export async function blobStoreForPrincipal(config: AppConfig, p: Principal): Promise<BlobStore> {
  if (config.mode !== "supabase") return localStore(config);
  return createBlobStore({
    kind: "supabase",
    url: config.supabase!.url,
    anonKey: config.supabase!.anonKey,
    accessToken: await supabaseTokenFor(config, p),
    bucket: config.bucket,
  });
}

/** The local blob store of a configuration: encrypted at rest when STORAGE_ENCRYPTION_KEY is set. */
export function createConfiguredLocalStore(config: AppConfig): LocalBlobStore {
  const encryption = isEncryptionConfigured(process.env) ? loadEncryptionKeys(process.env) : undefined;
  return createBlobStore({ kind: "local", rootDir: config.storageDir, bucket: config.bucket, encryption });
}

/** The process-wide local store (created once: the temp sweep and key parsing happen once). */
export function localStore(config: AppConfig): BlobStore {
  if (!STATE.__fairmindLocalStore) {
    const store = createConfiguredLocalStore(config);
    // Temp files older than an hour are what a crash left mid-upload (uploads in flight are younger).
    store.sweepTemp(3600_000).then(
      (n) => n && console.log(`[fairmind] removed ${n} temporary upload file(s) left by an earlier crash`),
      (e: Error) => console.error("[fairmind] temp sweep failed:", e.message),
    );
    STATE.__fairmindLocalStore = store;
  }
  return STATE.__fairmindLocalStore;
}

/**
 * Supabase Storage must see the user, so it applies its own RLS. Sessions carry their access token;
 * API-token requests get a 5-minute token for the same user, signed with the project's JWT secret
 * (only possible when SUPABASE_JWT_SECRET is configured).
 */
async function supabaseTokenFor(config: AppConfig, p: Principal): Promise<string> {
  if (p.accessToken) return p.accessToken;
  const secret = config.supabase?.jwtSecret;
  if (!secret)
    throw new AppError("unavailable", "API tokens need SUPABASE_JWT_SECRET in supabase mode; sign in with /api/v1/auth/sign-in instead.");
  return new SignJWT({ role: "authenticated", email: p.email, aud: "authenticated" })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setSubject(p.userId)
    .setIssuedAt()
    .setExpirationTime("5m")
    .sign(new TextEncoder().encode(secret));
}

/** A ModelStorage over an explicit database and config (tests, scripts). */
export function createModelStorage(config: AppConfig, db?: Database, resolveStore?: (p: Principal) => BlobStore): ModelStorage {
  return new ModelStorage({
    config,
    db,
    localStore: () => localStore(config),
    blobStoreFor:
      resolveStore ??
      (() => {
        if (config.mode !== "supabase") return localStore(config);
        throw new Error("supabase mode: use getModelStorageFor(principal)");
      }),
  });
}

/** The process ModelStorage (local modes share one blob store). */
export function getModelStorage(): ModelStorage {
  STATE.__fairmindStorage ??= createModelStorage(getConfig());
  return STATE.__fairmindStorage;
}

/** In supabase mode the blob store depends on the caller's token, so resolve it first. */
export async function getModelStorageFor(p: Principal): Promise<ModelStorage> {
  const config = getConfig();
  if (config.mode !== "supabase") return getModelStorage();
  const store = await blobStoreForPrincipal(config, p);
  return createModelStorage(config, undefined, () => store);
}
