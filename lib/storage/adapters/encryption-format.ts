import { createCipheriv, createDecipheriv, createHash, randomBytes, timingSafeEqual } from "node:crypto";

import { Transform, type TransformCallback } from "node:stream";

import { AppError } from "@/lib/errors";

import type { EncryptionKeys, MasterKey } from "./encryption-keys";

/*
 * Encryption at rest for the local store: every object is
 *
 *   header (180 bytes) | chunk 0 | chunk 1 | … | final chunk
 *
 * Each chunk is AES-256-GCM over up to 64 KiB of plaintext (+ a 16-byte tag) under the object's own
 * random data key. Nonce = the object's random 8-byte prefix + the chunk counter; the AAD binds the
 * header's fixed part, the chunk index and a final-chunk flag, so reordering, truncation at a chunk
 * boundary and appending all fail authentication. Only the final chunk may be short, so the
 * plaintext size follows from the file size alone (stat and list never read the file) and a Range
 * read decrypts just the chunks it covers.
 *
 * The header holds the data key wrapped (AES-256-GCM) by a master key, in one of two slots, each
 * with a sequence number, the master key's id and a checksum. Key rotation writes the new wrapping
 * into the free slot, syncs, then wipes the old one: a crash or a concurrent reader always finds at
 * least one intact slot, and object bodies are never rewritten. The wrapping's AAD includes the
 * object key, so a file moved to another key does not decrypt.
 */

const MAGIC = Buffer.from("FMEC", "ascii");
const FORMAT_VERSION = 1;
/** Plaintext bytes per chunk (format version 1). */
export const ENCRYPTION_CHUNK_SIZE = 64 * 1024;
const TAG = 16;
export const CIPHER_CHUNK = ENCRYPTION_CHUNK_SIZE + TAG;
export const NONCE_PREFIX = 8;
export const FIXED = 20; // magic 4 | version 1 | reserved 1 | slots 1 | reserved 1 | chunk size 4 | nonce prefix 8
export const SLOT = 80; // seq 4 | key id 8 | nonce 12 | wrapped key 32 | tag 16 | checksum 8
const SLOT_BODY = SLOT - 8;
/** Bytes before the first chunk. */
export const ENCRYPTION_HEADER_SIZE = FIXED + 2 * SLOT;
const WRAP_AAD = Buffer.from("fairmind-wrap-v1", "ascii");

// ---------------------------------------------------------------------------------------------
// Layout helpers

/** Plaintext size of an encrypted object of `cipherSize` bytes; null when no valid object has that size. */
export function plaintextSizeOf(cipherSize: number): number | null {
  const body = cipherSize - ENCRYPTION_HEADER_SIZE;
  if (body < TAG) return null;
  const chunks = Math.ceil(body / CIPHER_CHUNK);
  const last = body - (chunks - 1) * CIPHER_CHUNK - TAG;
  if (last < 0 || (last === 0 && chunks > 1)) return null;
  return (chunks - 1) * ENCRYPTION_CHUNK_SIZE + last;
}

/** Size on disk of an object holding `plainSize` bytes. */
export function cipherSizeOf(plainSize: number): number {
  const chunks = Math.max(1, Math.ceil(plainSize / ENCRYPTION_CHUNK_SIZE));
  return ENCRYPTION_HEADER_SIZE + plainSize + chunks * TAG;
}

/** True when `head` starts like an encrypted object (magic + version). */
export function looksEncrypted(head: Uint8Array): boolean {
  return head.length >= 5 && Buffer.from(head.buffer, head.byteOffset, 4).equals(MAGIC) && head[4] === FORMAT_VERSION;
}

export interface Slot {
  index: 0 | 1;
  seq: number;
  keyId: string;
  nonce: Buffer;
  wrapped: Buffer;
  tag: Buffer;
}

export interface Header {
  fixed: Buffer;
  noncePrefix: Buffer;
  /** Valid (checksummed, non-empty) slots. */
  slots: Slot[];
  /** Raw slot bytes, to tell an empty slot from a torn one. */
  rawSlots: [Buffer, Buffer];
}

const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
};

export function fixedPart(noncePrefix: Buffer): Buffer {
  const b = Buffer.alloc(FIXED);
  MAGIC.copy(b, 0);
  b[4] = FORMAT_VERSION;
  b[6] = 2;
  b.writeUInt32BE(ENCRYPTION_CHUNK_SIZE, 8);
  noncePrefix.copy(b, 12);
  return b;
}

const checksum = (body: Buffer) => createHash("sha256").update(body).digest().subarray(0, 8);

function wrapAad(fixed: Buffer, seq: number, keyId: string, objectKey: string): Buffer {
  return Buffer.concat([WRAP_AAD, fixed, u32(seq), Buffer.from(keyId, "hex"), Buffer.from(objectKey, "utf8")]);
}

export function sealSlot(fixed: Buffer, objectKey: string, master: MasterKey, seq: number, dataKey: Buffer): Buffer {
  const nonce = randomBytes(12);
  const c = createCipheriv("aes-256-gcm", master.key, nonce, { authTagLength: TAG });
  c.setAAD(wrapAad(fixed, seq, master.id, objectKey));
  const wrapped = Buffer.concat([c.update(dataKey), c.final()]);
  const body = Buffer.concat([u32(seq), Buffer.from(master.id, "hex"), nonce, wrapped, c.getAuthTag()]);
  return Buffer.concat([body, checksum(body)]);
}

export function parseHeader(buf: Buffer, objectKey: string): Header {
  if (buf.length < ENCRYPTION_HEADER_SIZE || !looksEncrypted(buf)) {
    throw encryptionError(
      objectKey,
      "not_encrypted",
      "is not an encrypted object (no valid header). Was it stored before encryption was switched on? See docs/operations.md (rotate-key --encrypt-existing).",
    );
  }
  if (buf.readUInt32BE(8) !== ENCRYPTION_CHUNK_SIZE || buf[6] !== 2)
    throw encryptionError(objectKey, "integrity", "has a damaged header (chunk size / slot count).");
  const fixed = Buffer.from(buf.subarray(0, FIXED));
  const rawSlots: [Buffer, Buffer] = [
    Buffer.from(buf.subarray(FIXED, FIXED + SLOT)),
    Buffer.from(buf.subarray(FIXED + SLOT, FIXED + 2 * SLOT)),
  ];
  const slots: Slot[] = [];
  rawSlots.forEach((raw, i) => {
    const body = raw.subarray(0, SLOT_BODY);
    const seq = raw.readUInt32BE(0);
    if (seq === 0 || !timingSafeEqual(checksum(body), raw.subarray(SLOT_BODY))) return;
    slots.push({
      index: i as 0 | 1,
      seq,
      keyId: raw.subarray(4, 12).toString("hex"),
      nonce: raw.subarray(12, 24),
      wrapped: raw.subarray(24, 56),
      tag: raw.subarray(56, 72),
    });
  });
  return { fixed, noncePrefix: fixed.subarray(12, 20), slots, rawSlots };
}

/** Unwraps the data key with the newest slot whose master key we hold. */
export function unwrap(header: Header, objectKey: string, keys: EncryptionKeys): { dataKey: Buffer; slot: Slot } {
  const masters = [keys.current, keys.previous].filter((k): k is MasterKey => Boolean(k));
  const slots = [...header.slots].sort((a, b) => b.seq - a.seq);
  if (slots.length === 0) throw encryptionError(objectKey, "integrity", "has a damaged header: no intact key slot.");
  let tried = false;
  for (const slot of slots) {
    const master = masters.find((m) => m.id === slot.keyId);
    if (!master) continue;
    tried = true;
    try {
      const d = createDecipheriv("aes-256-gcm", master.key, slot.nonce, { authTagLength: TAG });
      d.setAAD(wrapAad(header.fixed, slot.seq, slot.keyId, objectKey));
      d.setAuthTag(slot.tag);
      return { dataKey: Buffer.concat([d.update(slot.wrapped), d.final()]), slot };
    } catch {
      // try an older slot
    }
  }
  if (!tried) {
    throw encryptionError(
      objectKey,
      "wrong_key",
      `was encrypted with master key id ${slots.map((s) => s.keyId).join(" / ")}, but the configured key id is ${masters.map((m) => m.id).join(" / ")}. Set STORAGE_ENCRYPTION_KEY (or STORAGE_ENCRYPTION_KEY_PREVIOUS) to the key it was written with.`,
    );
  }
  throw encryptionError(
    objectKey,
    "integrity",
    "has a data key that does not authenticate: the header was tampered with, or the file was moved from another key.",
  );
}

function chunkNonce(prefix: Buffer, index: number): Buffer {
  return Buffer.concat([prefix, u32(index)]);
}

function chunkAad(fixed: Buffer, index: number, final: boolean): Buffer {
  const b = Buffer.alloc(FIXED + 9);
  fixed.copy(b, 0);
  b.writeBigUInt64BE(BigInt(index), FIXED);
  b[FIXED + 8] = final ? 1 : 0;
  return b;
}

export function encryptionError(objectKey: string, reason: "integrity" | "wrong_key" | "not_encrypted", what: string): AppError {
  const e = new AppError("internal", `Encrypted object ${objectKey} ${what}`, { key: objectKey, reason });
  console.error(`[encrypted-store] ${e.message}`);
  return e;
}

// ---------------------------------------------------------------------------------------------
// Streams

/** Plaintext in, header + sealed chunks out. */
export class ChunkEncryptor extends Transform {
  private pending: Buffer[] = [];
  private pendingLength = 0;
  private index = 0;
  private headerSent = false;

  constructor(
    private readonly header: Buffer,
    private readonly fixed: Buffer,
    private readonly dataKey: Buffer,
  ) {
    super({ readableHighWaterMark: 1024 * 1024 });
  }

  /** Seals `plain` as the next chunk into `out` at `at`; returns the bytes written. */
  private seal(plain: Buffer, final: boolean, out: Buffer, at: number): number {
    const c = createCipheriv("aes-256-gcm", this.dataKey, chunkNonce(this.fixed.subarray(12, 20), this.index), { authTagLength: TAG });
    c.setAAD(chunkAad(this.fixed, this.index, final));
    this.index++;
    let n = c.update(plain).copy(out, at);
    n += c.final().copy(out, at + n);
    n += c.getAuthTag().copy(out, at + n);
    return n;
  }

  private sendHeader() {
    if (!this.headerSent) {
      this.headerSent = true;
      this.push(this.header);
    }
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback) {
    this.sendHeader();
    this.pending.push(chunk);
    this.pendingLength += chunk.length;
    // Strictly more than a chunk: the last full chunk may turn out to be the final one.
    if (this.pendingLength > ENCRYPTION_CHUNK_SIZE) {
      const all = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending, this.pendingLength);
      const count = Math.ceil(all.length / ENCRYPTION_CHUNK_SIZE) - 1;
      // One output buffer per input chunk: fewer, larger writes downstream.
      const out = Buffer.allocUnsafe(count * CIPHER_CHUNK);
      let written = 0;
      for (let i = 0; i < count; i++) {
        written += this.seal(all.subarray(i * ENCRYPTION_CHUNK_SIZE, (i + 1) * ENCRYPTION_CHUNK_SIZE), false, out, written);
      }
      this.push(out);
      const rest = all.subarray(count * ENCRYPTION_CHUNK_SIZE);
      this.pending = [rest];
      this.pendingLength = rest.length;
    }
    cb();
  }

  override _flush(cb: TransformCallback) {
    this.sendHeader();
    const plain = Buffer.concat(this.pending, this.pendingLength);
    const out = Buffer.allocUnsafe(plain.length + TAG);
    this.seal(plain, true, out, 0);
    this.push(out);
    this.pending = [];
    cb();
  }
}

/** Sealed chunks first..last in, the plaintext bytes [skip, skip + take) of them out. */
export class ChunkDecryptor extends Transform {
  private buffered: Buffer[] = [];
  private bufferedLength = 0;
  private index: number;
  private skip: number;
  private remaining: number;

  constructor(
    private readonly objectKey: string,
    private readonly fixed: Buffer,
    private readonly dataKey: Buffer,
    first: number,
    private readonly last: number,
    private readonly finalIndex: number,
    private readonly finalPlainLength: number,
    skip: number,
    take: number,
  ) {
    super();
    this.index = first;
    this.skip = skip;
    this.remaining = take;
  }

  private expected(): number {
    return this.index === this.finalIndex ? this.finalPlainLength + TAG : CIPHER_CHUNK;
  }

  private open(sealed: Buffer): Buffer {
    const final = this.index === this.finalIndex;
    try {
      const d = createDecipheriv("aes-256-gcm", this.dataKey, chunkNonce(this.fixed.subarray(12, 20), this.index), { authTagLength: TAG });
      d.setAAD(chunkAad(this.fixed, this.index, final));
      d.setAuthTag(sealed.subarray(sealed.length - TAG));
      const plain = d.update(sealed.subarray(0, sealed.length - TAG));
      d.final(); // GCM: no bytes, only the tag check
      return plain;
    } catch {
      throw encryptionError(
        this.objectKey,
        "integrity",
        `failed authentication at chunk ${this.index}: the stored file is corrupted or was tampered with.`,
      );
    }
  }

  private drain(): void {
    const parts: Buffer[] = [];
    while (this.index <= this.last && this.bufferedLength >= this.expected()) {
      const need = this.expected();
      const all = this.buffered.length === 1 ? this.buffered[0]! : Buffer.concat(this.buffered, this.bufferedLength);
      const plain = this.open(all.subarray(0, need));
      this.buffered = [all.subarray(need)];
      this.bufferedLength = all.length - need;
      this.index++;
      const from = Math.min(this.skip, plain.length);
      this.skip -= from;
      const part = plain.subarray(from, from + Math.min(this.remaining, plain.length - from));
      this.remaining -= part.length;
      if (part.length) parts.push(part);
    }
    // Nothing is pushed before every chunk in it authenticated; one push per input chunk.
    if (parts.length) this.push(parts.length === 1 ? parts[0] : Buffer.concat(parts));
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback) {
    this.buffered.push(chunk);
    this.bufferedLength += chunk.length;
    try {
      this.drain();
      cb();
    } catch (e) {
      cb(e as Error);
    }
  }

  override _flush(cb: TransformCallback) {
    try {
      this.drain();
    } catch (e) {
      return cb(e as Error);
    }
    if (this.index <= this.last || this.bufferedLength > 0) {
      return cb(encryptionError(this.objectKey, "integrity", `is truncated: chunk ${this.index} is incomplete.`));
    }
    cb();
  }
}
