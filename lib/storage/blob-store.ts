import type { Readable } from "node:stream";

/** Bytes in: a Node stream or a web stream (request bodies). */
export type BlobBody = Readable | ReadableStream<Uint8Array>;

export interface PutOptions {
  contentType?: string;
  /** When known (Content-Length, tus Upload-Length): a body of any other length is rejected. */
  expectedSize?: number;
  /** Hex SHA-256 the client claims; a mismatch is rejected and nothing is kept. */
  expectedSha256?: string;
  /** Hard cap; the stream is aborted as soon as it is exceeded. */
  maxBytes?: number;
  signal?: AbortSignal;
  /** Called with each chunk as it streams past (inspection, progress); must not hold on to chunks. */
  onChunk?: (chunk: Uint8Array) => void;
}

export interface PutResult {
  key: string;
  size: number;
  sha256: string;
}

export interface BlobStat {
  key: string;
  size: number;
  contentType?: string;
  updatedAt?: Date;
}

/** Inclusive byte range, like HTTP Range. `end` defaults to the last byte. */
export interface ByteRange {
  start: number;
  end?: number;
}

export interface GetResult {
  stream: Readable;
  /** Total size of the object. */
  size: number;
  start: number;
  /** Inclusive. */
  end: number;
  contentType?: string;
}

/**
 * Where model bytes live. Adapters: local disk, Supabase Storage. Every adapter passes the same
 * contract suite (lib/storage/adapters/blob-store.contract.ts).
 *
 * Rules every adapter keeps:
 * - put() is atomic and never overwrites: on any failure nothing is left at `key`; an existing key
 *   is AppError("conflict").
 * - Keys are validated with mustBeValidKey() before any I/O.
 * - Missing objects are AppError("not_found").
 */
export interface BlobStore {
  readonly kind: "local" | "supabase";
  readonly bucket: string;
  put(key: string, body: BlobBody, opts?: PutOptions): Promise<PutResult>;
  /**
   * Stores a complete file already on this machine (a finished resumable upload), with put()'s
   * checks. The local store hard-links it into place after one verifying read instead of copying;
   * the caller removes `file` afterwards.
   */
  putFile(key: string, file: string, opts?: PutOptions): Promise<PutResult>;
  get(key: string, opts?: { range?: ByteRange }): Promise<GetResult>;
  stat(key: string): Promise<BlobStat | null>;
  /**
   * Removes the object. Idempotent: true when an object was removed, false when there was none the
   * caller could see (Supabase Storage answers the same for a missing object and for one its policies
   * hide from the caller — callers that expected one must not take false for success).
   */
  delete(key: string): Promise<boolean>;
  list(prefix: string): AsyncIterable<BlobStat>;
  /** A short-lived URL that downloads the object without our server (supabase); undefined when the backend has none. */
  createSignedUrl?(key: string, expiresInSeconds: number, opts?: { downloadName?: string }): Promise<string>;
  /** Reachability for /api/health. */
  ping(): Promise<{ ok: boolean; detail?: string }>;
}
