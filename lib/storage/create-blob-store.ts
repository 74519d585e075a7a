import type { BlobStore } from "./blob-store";
import { createLocalBlobStore, type LocalBlobStore } from "./adapters/local";
import { createEncryptedBlobStore } from "./adapters/encrypted";
import type { EncryptionKeys } from "./adapters/encryption-keys";
import { createSupabaseBlobStore } from "./adapters/supabase";

export type BlobStoreConfig =
  | { kind: "local"; rootDir: string; bucket: string; encryption?: EncryptionKeys }
  | { kind: "supabase"; url: string; anonKey: string; accessToken: string | (() => Promise<string>); bucket: string };

/** The BlobStore for a configuration. Supabase stores act for one user (their access token): make one per request. */
export function createBlobStore(opts: { kind: "local"; rootDir: string; bucket: string; encryption?: EncryptionKeys }): LocalBlobStore;
export function createBlobStore(opts: BlobStoreConfig): BlobStore;
export function createBlobStore(opts: BlobStoreConfig): BlobStore {
  switch (opts.kind) {
    case "local": {
      const local = createLocalBlobStore({ rootDir: opts.rootDir, bucket: opts.bucket });
      // Encryption at rest wraps the local store (AES-256-GCM chunks; see adapters/encrypted.ts).
      return opts.encryption ? createEncryptedBlobStore(local, opts.encryption) : local;
    }
    case "supabase":
      return createSupabaseBlobStore({ url: opts.url, anonKey: opts.anonKey, accessToken: opts.accessToken, bucket: opts.bucket });
  }
}
