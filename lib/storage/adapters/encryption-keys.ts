import { createHash } from "node:crypto";

// Master keys for encryption at rest: parsed once by lib/config.ts, used by adapters/encrypted.ts.
// Pure (no I/O, no app imports) so the configuration can depend on it.

export interface MasterKey {
  /** 16 hex digits derived from the key (never the key itself): recorded in each object's header. */
  id: string;
  key: Buffer;
}

export interface EncryptionKeys {
  /** Wraps every new object's data key. */
  current: MasterKey;
  /** Also accepted for reading (during and after a rotation, until rotate-key has finished). */
  previous?: MasterKey;
}

/** The id recorded in headers for a master key: a hash, so it says nothing about the key. */
export function masterKeyId(key: Buffer): string {
  return createHash("sha256").update("fairmind-storage-master-key-id:").update(key).digest("hex").slice(0, 16);
}

/** Parses a base64 (or base64url) master key; exactly 32 bytes or a loud error naming the variable. */
export function parseMasterKey(value: string, name = "STORAGE_ENCRYPTION_KEY"): MasterKey {
  const text = value.trim();
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(text)) throw new Error(`${name} is not base64. Make one with: openssl rand -base64 32`);
  const key = Buffer.from(text.replace(/-/g, "+").replace(/_/g, "/"), "base64");
  if (key.length !== 32)
    throw new Error(`${name} must be 32 bytes in base64 (it decodes to ${key.length}). Make one with: openssl rand -base64 32`);
  return { id: masterKeyId(key), key };
}

/** Whether encryption at rest is switched on in this environment (STORAGE_ENCRYPTION_KEY set). */
export function isEncryptionConfigured(env: Record<string, string | undefined>): boolean {
  return Boolean(env.STORAGE_ENCRYPTION_KEY?.trim());
}

/** The master keys from STORAGE_ENCRYPTION_KEY (+ STORAGE_ENCRYPTION_KEY_PREVIOUS); throws when unset or malformed. */
export function loadEncryptionKeys(env: Record<string, string | undefined>): EncryptionKeys {
  const value = env.STORAGE_ENCRYPTION_KEY?.trim();
  if (!value) throw new Error("STORAGE_ENCRYPTION_KEY is not set.");
  const current = parseMasterKey(value, "STORAGE_ENCRYPTION_KEY");
  const prev = env.STORAGE_ENCRYPTION_KEY_PREVIOUS?.trim();
  const previous = prev ? parseMasterKey(prev, "STORAGE_ENCRYPTION_KEY_PREVIOUS") : undefined;
  return { current, previous: previous && previous.id !== current.id ? previous : undefined };
}
