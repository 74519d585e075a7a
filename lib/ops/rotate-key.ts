import path from "node:path";
import { isAppError } from "@/lib/errors";
import type { EncryptedBlobStore } from "@/lib/storage/adapters/encrypted";
import { takePidLock } from "./files";

export interface RotationReport {
  rewrapped: string[];
  current: string[];
  /** Stored in plaintext before encryption was switched on, and encrypted now (--encrypt-existing). */
  encrypted: string[];
  /** Still plaintext: the app cannot read these while encryption is on. */
  plaintext: string[];
  failed: { key: string; error: string }[];
  /** Objects per master key id, before the run (dry run: what would change). */
  byKeyId: Record<string, number>;
}

/**
 * Re-wraps every object's data key with the store's current master key (headers only; bodies are
 * never rewritten), optionally encrypting objects stored before encryption was switched on.
 * Resumable and idempotent: objects already on the current key are left alone. Safe while the app
 * runs, as long as the app holds both keys (see docs/operations.md).
 */
export async function rotateStoreKeys(
  store: EncryptedBlobStore,
  opts: { encryptExisting?: boolean; dryRun?: boolean; log?: (line: string) => void } = {},
): Promise<RotationReport> {
  const log = opts.log ?? (() => {});
  const release = takePidLock(path.join(path.dirname(store.dir), `.rotate-key-${store.bucket}.lock`), "rotate-key");
  const r: RotationReport = { rewrapped: [], current: [], encrypted: [], plaintext: [], failed: [], byKeyId: {} };
  try {
    const keys: string[] = [];
    for await (const s of store.list("")) keys.push(s.key);
    for (const key of keys) {
      try {
        let keyId: string;
        try {
          keyId = (await store.describeObject(key)).keyId;
        } catch (e) {
          if (isAppError(e) && e.details?.reason === "not_encrypted") {
            r.byKeyId.plaintext = (r.byKeyId.plaintext ?? 0) + 1;
            if (!opts.encryptExisting) {
              r.plaintext.push(key);
              continue;
            }
            if (!opts.dryRun) await store.encryptExistingObject(key);
            r.encrypted.push(key);
            log(`${opts.dryRun ? "would encrypt" : "encrypted"} ${key}`);
            continue;
          }
          throw e;
        }
        r.byKeyId[keyId] = (r.byKeyId[keyId] ?? 0) + 1;
        if (opts.dryRun) {
          (keyId === store.keyId ? r.current : r.rewrapped).push(key);
          continue;
        }
        const outcome = await store.rewrapObject(key);
        (outcome === "current" ? r.current : r.rewrapped).push(key);
        if (outcome === "rewrapped") log(`re-wrapped ${key}`);
      } catch (e) {
        r.failed.push({ key, error: (e as Error).message });
        log(`FAILED ${key}: ${(e as Error).message}`);
      }
    }
    return r;
  } finally {
    release();
  }
}
