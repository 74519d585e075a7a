import { randomBytes } from "node:crypto";
import { createReadStream, createWriteStream, constants as fsConstants } from "node:fs";
import fs from "node:fs/promises";
import path from "node:path";
import { pipeline } from "node:stream";
import { pipeline as pipelineAsync } from "node:stream/promises";
import { AppError, isAppError } from "@/lib/errors";
import type { BlobBody, BlobStat, ByteRange, GetResult, PutOptions, PutResult } from "../blob-store";
import { checkPutOptions, createHashingStream, discardBody, toAbortAppError, toNodeReadable } from "../hash-stream";
import { mustBeValidKey } from "../object-key";
import type { EncryptionKeys } from "./encryption-keys";
import type { LocalBlobStore } from "./local";
import {
  CIPHER_CHUNK,
  ChunkDecryptor,
  ChunkEncryptor,
  cipherSizeOf,
  ENCRYPTION_CHUNK_SIZE,
  ENCRYPTION_HEADER_SIZE,
  encryptionError,
  FIXED,
  fixedPart,
  type Header,
  looksEncrypted,
  NONCE_PREFIX,
  parseHeader,
  plaintextSizeOf,
  sealSlot,
  SLOT,
  unwrap,
} from "./encryption-format";
import { mustBeValidRange, resolveRange } from "./range";

// The encrypted local store; the on-disk format (header, slots, chunks) is in ./encryption-format.ts.
// ---------------------------------------------------------------------------------------------

export interface EncryptedBlobStore extends LocalBlobStore {
  readonly encrypted: true;
  /** Id of the master key new objects are wrapped with. */
  readonly keyId: string;
  /** The master key id and slot sequence of a stored object (reads only its header). */
  describeObject(key: string): Promise<{ keyId: string; seq: number; plaintextSize: number }>;
  /**
   * Re-wraps one object's data key with the current master key (header only, the body is never
   * rewritten). "current" when nothing was left to do. Crash-safe and safe beside readers.
   */
  rewrapObject(key: string): Promise<"rewrapped" | "current">;
  /** Encrypts an object that was stored before encryption was switched on (atomic replace). */
  encryptExistingObject(key: string): Promise<"encrypted" | "already">;
}

/** Wraps the local store: AES-256-GCM in 64 KiB authenticated chunks, a data key per object. */
export function createEncryptedBlobStore(inner: LocalBlobStore, keys: EncryptionKeys): EncryptedBlobStore {
  const filePath = (key: string) => {
    mustBeValidKey(key);
    return path.join(inner.dir, ...key.split("/"));
  };

  async function readHeader(key: string): Promise<{ header: Header; cipherSize: number }> {
    let got: GetResult;
    try {
      got = await inner.get(key, { range: { start: 0, end: ENCRYPTION_HEADER_SIZE - 1 } });
    } catch (e) {
      if (isAppError(e) && e.code === "range_not_satisfiable")
        throw encryptionError(key, "not_encrypted", "is empty on disk: not an encrypted object.");
      throw e;
    }
    const parts: Buffer[] = [];
    for await (const c of got.stream) parts.push(c as Buffer);
    return { header: parseHeader(Buffer.concat(parts), key), cipherSize: got.size };
  }

  async function put(key: string, body: BlobBody, opts: PutOptions = {}): Promise<PutResult> {
    try {
      mustBeValidKey(key);
      checkPutOptions(opts);
      if (opts.signal?.aborted) throw toAbortAppError(opts.signal.reason, opts.signal);
    } catch (e) {
      discardBody(body);
      throw e;
    }
    const dataKey = randomBytes(32);
    const fixed = fixedPart(randomBytes(NONCE_PREFIX));
    const header = Buffer.concat([fixed, sealSlot(fixed, key, keys.current, 1, dataKey), Buffer.alloc(SLOT)]);
    // Size, SHA-256, limits and onChunk apply to the plaintext; the inner store sees ciphertext.
    const hasher = createHashingStream({
      expectedSize: opts.expectedSize,
      expectedSha256: opts.expectedSha256,
      maxBytes: opts.maxBytes,
      onChunk: opts.onChunk,
    });
    const encryptor = new ChunkEncryptor(header, fixed, dataKey);
    // Any failure upstream destroys the encryptor with that error, which fails the inner put.
    pipeline(toNodeReadable(body), hasher, encryptor, () => {});
    await inner.put(key, encryptor, { contentType: opts.contentType, signal: opts.signal });
    if (!hasher.outcome) {
      await inner.delete(key);
      throw new AppError("internal", "The upload stream ended without being verified.");
    }
    return { key, size: hasher.outcome.size, sha256: hasher.outcome.sha256 };
  }

  async function get(key: string, opts: { range?: ByteRange } = {}): Promise<GetResult> {
    mustBeValidKey(key);
    if (opts.range) mustBeValidRange(opts.range);
    const { header, cipherSize } = await readHeader(key);
    const size = plaintextSizeOf(cipherSize);
    if (size === null)
      throw encryptionError(key, "integrity", `has an impossible size on disk (${cipherSize} bytes): it was truncated or extended.`);
    const { dataKey } = unwrap(header, key, keys);
    const { start, end } = opts.range ? resolveRange(opts.range, size) : { start: 0, end: size - 1 };
    const finalIndex = Math.max(0, Math.ceil(size / ENCRYPTION_CHUNK_SIZE) - 1);
    const finalPlainLength = size - finalIndex * ENCRYPTION_CHUNK_SIZE;
    // An empty object still has its (empty, final) chunk read and authenticated.
    const first = size === 0 ? 0 : Math.floor(start / ENCRYPTION_CHUNK_SIZE);
    const last = size === 0 ? 0 : Math.floor(end / ENCRYPTION_CHUNK_SIZE);
    const cipherStart = ENCRYPTION_HEADER_SIZE + first * CIPHER_CHUNK;
    const cipherEnd = Math.min(ENCRYPTION_HEADER_SIZE + (last + 1) * CIPHER_CHUNK, cipherSize) - 1;
    const got = await inner.get(key, { range: { start: cipherStart, end: cipherEnd } });
    const decryptor = new ChunkDecryptor(
      key,
      header.fixed,
      dataKey,
      first,
      last,
      finalIndex,
      finalPlainLength,
      start - first * ENCRYPTION_CHUNK_SIZE,
      end - start + 1,
    );
    pipeline(got.stream, decryptor, () => {});
    return { stream: decryptor, size, start, end, contentType: got.contentType };
  }

  async function stat(key: string): Promise<BlobStat | null> {
    const st = await inner.stat(key);
    if (!st) return null;
    const size = plaintextSizeOf(st.size);
    if (size === null) throw encryptionError(key, "integrity", `has an impossible size on disk (${st.size} bytes).`);
    return { ...st, size };
  }

  async function* list(prefix: string): AsyncIterable<BlobStat> {
    for await (const st of inner.list(prefix)) yield { ...st, size: plaintextSizeOf(st.size) ?? 0 };
  }

  async function describeObject(key: string) {
    const { header, cipherSize } = await readHeader(key);
    const { slot } = unwrap(header, key, keys);
    return { keyId: slot.keyId, seq: slot.seq, plaintextSize: plaintextSizeOf(cipherSize) ?? -1 };
  }

  async function rewrapObject(key: string): Promise<"rewrapped" | "current"> {
    const file = filePath(key);
    let fh: fs.FileHandle;
    try {
      fh = await fs.open(file, fsConstants.O_RDWR | fsConstants.O_NOFOLLOW);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") throw new AppError("not_found", "No such object.");
      throw e;
    }
    try {
      const buf = Buffer.alloc(ENCRYPTION_HEADER_SIZE);
      const { bytesRead } = await fh.read(buf, 0, ENCRYPTION_HEADER_SIZE, 0);
      const header = parseHeader(buf.subarray(0, bytesRead), key);
      const { dataKey, slot } = unwrap(header, key, keys);
      const other = slot.index === 0 ? 1 : 0;
      const offsetOf = (i: number) => FIXED + i * SLOT;
      if (slot.keyId === keys.current.id) {
        // Already on the current key; finish a rotation that crashed before wiping the old slot.
        if (header.rawSlots[other].some((b) => b !== 0)) {
          await fh.write(Buffer.alloc(SLOT), 0, SLOT, offsetOf(other));
          await fh.sync();
          return "rewrapped";
        }
        return "current";
      }
      const seq = Math.max(...header.slots.map((s) => s.seq)) + 1;
      await fh.write(sealSlot(header.fixed, key, keys.current, seq, dataKey), 0, SLOT, offsetOf(other));
      await fh.sync();
      // Only now is the old wrapping removed: until here a reader still had the old slot.
      await fh.write(Buffer.alloc(SLOT), 0, SLOT, offsetOf(slot.index));
      await fh.sync();
      return "rewrapped";
    } finally {
      await fh.close();
    }
  }

  async function encryptExistingObject(key: string): Promise<"encrypted" | "already"> {
    const file = filePath(key);
    const fh = await fs.open(file, fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW);
    let st: Awaited<ReturnType<fs.FileHandle["stat"]>>;
    try {
      const head = Buffer.alloc(8);
      const { bytesRead } = await fh.read(head, 0, 8, 0);
      if (looksEncrypted(head.subarray(0, bytesRead))) return "already";
      st = await fh.stat();
    } finally {
      await fh.close();
    }
    // Encrypt into the store's temp area (same file system), then rename over the plaintext.
    const tmpFile = path.join(inner.dir, ".tmp", `${Date.now()}-encrypt-${randomBytes(8).toString("hex")}`);
    await fs.mkdir(path.dirname(tmpFile), { recursive: true });
    try {
      const dataKey = randomBytes(32);
      const fixed = fixedPart(randomBytes(NONCE_PREFIX));
      const header = Buffer.concat([fixed, sealSlot(fixed, key, keys.current, 1, dataKey), Buffer.alloc(SLOT)]);
      await pipelineAsync(
        createReadStream(file),
        new ChunkEncryptor(header, fixed, dataKey),
        createWriteStream(tmpFile, { flags: "wx", mode: 0o640, flush: true }),
      );
      const written = await fs.stat(tmpFile);
      if (written.size !== cipherSizeOf(st.size))
        throw new Error(`${key}: the encrypted copy has an unexpected size; the original was kept.`);
      await fs.utimes(tmpFile, st.atime, st.mtime);
      await fs.rename(tmpFile, file);
      const dh = await fs.open(path.dirname(file), "r");
      await dh.sync().finally(() => dh.close());
      return "encrypted";
    } finally {
      await fs.rm(tmpFile, { force: true });
    }
  }

  async function ping() {
    const r = await inner.ping();
    return { ok: r.ok, detail: `${r.detail ?? ""} (encrypted at rest, master key id ${keys.current.id})`.trim() };
  }

  return {
    kind: "local",
    bucket: inner.bucket,
    dir: inner.dir,
    encrypted: true,
    keyId: keys.current.id,
    put,
    putFile: (key, file, opts) => put(key, createReadStream(file), opts),
    get,
    stat,
    delete: (key) => inner.delete(key),
    list,
    ping,
    sweepTemp: (ms) => inner.sweepTemp(ms),
    describeObject,
    rewrapObject,
    encryptExistingObject,
  };
}
