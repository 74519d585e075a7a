import { createHash } from "node:crypto";
import { Readable, Transform, type TransformCallback, type Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStream as NodeWebReadableStream } from "node:stream/web";
import { AppError, isAppError } from "@/lib/errors";
import type { BlobBody, PutOptions } from "./blob-store";

export interface HashOutcome {
  size: number;
  /** Lower-case hex. */
  sha256: string;
}

export type HashingOptions = Pick<PutOptions, "expectedSize" | "expectedSha256" | "maxBytes" | "onChunk"> & {
  /**
   * Withhold the most recent chunk until the whole body is verified (size and SHA-256), so a
   * remote receiver never gets a complete body that we are about to reject.
   */
  holdBackLastChunk?: boolean;
};

/** A pass-through Transform that hashes and counts; `outcome` is set once the body verified. */
export interface HashingStream extends Transform {
  readonly outcome: HashOutcome | undefined;
}

const SHA256_HEX = /^[0-9a-fA-F]{64}$/;

/**
 * Validates PutOptions before any I/O: AppError("bad_request") on malformed values,
 * AppError("payload_too_large") when the announced size is already over the cap.
 */
export function checkPutOptions(opts: PutOptions = {}): void {
  const { expectedSize, maxBytes, expectedSha256 } = opts;
  if (expectedSize !== undefined && !(Number.isSafeInteger(expectedSize) && expectedSize >= 0)) {
    throw new AppError("bad_request", "The announced size must be a whole number of bytes.");
  }
  if (maxBytes !== undefined && !(Number.isSafeInteger(maxBytes) && maxBytes >= 0)) {
    throw new AppError("bad_request", "The size limit must be a whole number of bytes.");
  }
  if (expectedSha256 !== undefined && !SHA256_HEX.test(expectedSha256)) {
    throw new AppError("bad_request", "A SHA-256 is 64 hex digits.");
  }
  if (expectedSize !== undefined && maxBytes !== undefined && expectedSize > maxBytes) {
    throw tooLarge(maxBytes);
  }
}

const tooLarge = (maxBytes: number) =>
  new AppError("payload_too_large", `The file is larger than the limit of ${maxBytes} bytes.`, { limit: maxBytes });

/** Creates the hashing/limiting pass-through stream used by every adapter's put(). */
export function createHashingStream(opts: HashingOptions = {}): HashingStream {
  const { expectedSize, maxBytes, onChunk, holdBackLastChunk = false } = opts;
  const expectedSha256 = opts.expectedSha256?.toLowerCase();
  const hash = createHash("sha256");
  let size = 0;
  let held: Buffer | undefined;
  let outcome: HashOutcome | undefined;

  const stream = new Transform({
    transform(chunk: Buffer, _enc, cb: TransformCallback) {
      size += chunk.length;
      // Checked before the chunk goes anywhere: a body over the limit is cut off at once.
      if (maxBytes !== undefined && size > maxBytes) return cb(tooLarge(maxBytes));
      if (expectedSize !== undefined && size > expectedSize) {
        return cb(
          new AppError("length_mismatch", `The body is longer than the announced ${expectedSize} bytes.`, { expected: expectedSize }),
        );
      }
      hash.update(chunk);
      try {
        onChunk?.(chunk);
      } catch (e) {
        return cb(e as Error);
      }
      if (!holdBackLastChunk) return cb(null, chunk);
      const previous = held;
      held = chunk;
      cb(null, previous);
    },
    flush(cb: TransformCallback) {
      if (expectedSize !== undefined && size !== expectedSize) {
        return cb(
          new AppError("length_mismatch", `The body has ${size} bytes, not the announced ${expectedSize}.`, {
            expected: expectedSize,
            received: size,
          }),
        );
      }
      const sha256 = hash.digest("hex");
      if (expectedSha256 !== undefined && sha256 !== expectedSha256) {
        return cb(
          new AppError("checksum_mismatch", "The SHA-256 of the received bytes does not match the one announced.", {
            expected: expectedSha256,
            received: sha256,
          }),
        );
      }
      outcome = { size, sha256 };
      cb(null, held);
      held = undefined;
    },
  });
  Object.defineProperty(stream, "outcome", { get: () => outcome });
  return stream as HashingStream;
}

/** Any BlobBody as a Node Readable (web streams are adapted, not buffered). */
export function toNodeReadable(body: BlobBody): Readable {
  if (body instanceof Readable) return body;
  return Readable.fromWeb(body as unknown as NodeWebReadableStream<Uint8Array>);
}

/**
 * A request body that knows how to be abandoned without losing the answer (lib/http/node-server.ts
 * sets it on Node's request stream). Symbol.for: instrumentation and routes are separate bundles.
 */
export const ABANDON_BODY = Symbol.for("fairmind.abandonBody");

/** Releases a body we are not going to read (early rejection), so its source is not left hanging. */
export function discardBody(body: BlobBody): void {
  try {
    // TRAP: destroying Node's request stream destroys its socket, and the refusal (403, 409, 422…)
    // never reaches the client, who sees "socket hang up". Such a body is drained instead.
    const abandon = (body as { [ABANDON_BODY]?: () => void })[ABANDON_BODY];
    if (typeof abandon === "function") abandon();
    else if (body instanceof Readable) body.destroy();
    else if (!body.locked) void body.cancel().catch(() => {});
  } catch {
    // Nothing useful to do: the body is unusable either way.
  }
}

/** Turns an AbortError from stream.pipeline into our error type; everything else passes through. */
export function toAbortAppError(e: unknown, signal?: AbortSignal): unknown {
  if (isAppError(e)) return e;
  if (signal?.aborted || (e instanceof Error && e.name === "AbortError")) {
    return new AppError("bad_request", "The upload was cancelled before it finished.", { aborted: true }, { cause: e });
  }
  return e;
}

/**
 * Streams `body` into `destination` with backpressure, computing SHA-256 and size on the way and
 * enforcing expectedSize / maxBytes / expectedSha256 / signal. On any failure every stream in the
 * chain is destroyed and the promise rejects (AppError for our checks); the caller discards what
 * the destination received.
 */
export async function pipeWithHash(
  body: BlobBody,
  destination: Writable,
  opts: HashingOptions & { signal?: AbortSignal } = {},
): Promise<HashOutcome> {
  checkPutOptions(opts);
  const hasher = createHashingStream(opts);
  try {
    await pipeline(toNodeReadable(body), hasher, destination, opts.signal ? { signal: opts.signal } : {});
  } catch (e) {
    throw toAbortAppError(e, opts.signal);
  }
  if (!hasher.outcome) throw new AppError("internal", "The upload stream ended without being verified.");
  return hasher.outcome;
}
