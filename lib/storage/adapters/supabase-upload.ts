import { createHash } from "node:crypto";
import http from "node:http";
import https from "node:https";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { DefaultHttpStack, Upload } from "tus-js-client";
import { AppError, isAppError } from "@/lib/errors";
import type { BlobStat, GetResult, PutOptions } from "../blob-store";
import { toAbortAppError, type HashingStream } from "../hash-stream";
import { RESUMABLE_CHUNK_BYTES } from "../limits";
import { fromTusError, mapSupabaseError, MESSAGES, parseSupabaseErrorBody } from "./supabase-errors";
import { TusStreamSource } from "./tus-stream-source";

// The upload half of the Supabase adapter (supabase.ts explains the atomicity it relies on).
//
// IMPORTANT (measured): an upload Supabase rejects before reading the body can leave a kept-alive
// socket stuck for about a minute. Uploads therefore use node:http with a fresh connection that is
// closed afterwards (agent: false, Connection: close), never the shared fetch pool.

export const CACHE_CONTROL_SECONDS = "3600";
const UPLOAD_IDLE_TIMEOUT_MS = 120_000;
const TUS_RETRY_DELAYS = [0, 1000, 3000, 5000];

export const encodeKey = (key: string) => key.split("/").map(encodeURIComponent).join("/");

export interface UploaderContext {
  storageUrl: string;
  bucket: string;
  anonKey: string;
  /** A token valid now (asked again before every request). */
  token: () => Promise<string>;
  stat(key: string): Promise<BlobStat | null>;
  get(key: string): Promise<GetResult>;
}

/** Standard (one POST) and resumable (tus) uploads to one bucket, as the caller. */
export function createSupabaseUploader(ctx: UploaderContext) {
  const { storageUrl, bucket, anonKey, token, stat, get } = ctx;
  const authHeaders = async () => ({ authorization: `Bearer ${await token()}`, apikey: anonKey });

  /** One POST to /object/<bucket>/<key>, streamed, on its own connection. */
  async function uploadStandard(
    key: string,
    source: Readable,
    hasher: HashingStream,
    contentType: string,
    putOpts: PutOptions,
  ): Promise<void> {
    const target = new URL(`${storageUrl}/object/${encodeURIComponent(bucket)}/${encodeKey(key)}`);
    const headers: http.OutgoingHttpHeaders = {
      ...(await authHeaders()),
      "content-type": contentType,
      "cache-control": `max-age=${CACHE_CONTROL_SECONDS}`,
      "x-upsert": "false",
      connection: "close",
    };
    if (putOpts.expectedSize !== undefined) headers["content-length"] = putOpts.expectedSize;
    const req = (target.protocol === "https:" ? https : http).request(target, {
      method: "POST",
      headers,
      agent: false,
      timeout: UPLOAD_IDLE_TIMEOUT_MS,
    });
    req.on("timeout", () => req.destroy(new AppError("unavailable", "Supabase Storage stopped responding during the upload.")));

    const response = readResponse(req);
    // A rejection can come before the body is read (RLS, 409, 413): stop sending at once.
    response.then(
      ({ status, text }) => {
        if (status >= 300 && !req.writableFinished) req.destroy(mapSupabaseError(parseSupabaseErrorBody(status, text)));
      },
      () => {},
    );
    req.on("error", () => {}); // surfaced through `response` and the pipeline below

    try {
      await pipeline(source, hasher, req, putOpts.signal ? { signal: putOpts.signal } : {});
    } catch (e) {
      const err = toAbortAppError(e, putOpts.signal);
      if (isAppError(err)) throw err;
      // A transport error (EPIPE, reset) often just means the server answered and closed first.
      const answer = await withTimeout(response, 2000).catch(() => undefined);
      const mapped = answer && answer.status >= 300 ? mapSupabaseError(parseSupabaseErrorBody(answer.status, answer.text)) : undefined;
      // A gateway in front of Storage loses the answer the same way and says 502: settle that too.
      if (mapped && mapped.code !== "unavailable") throw mapped;
      if (await settleLostAnswer(key, hasher, req.writableFinished)) return;
      throw mapped ?? new AppError("unavailable", "The upload to Supabase Storage was interrupted.", undefined, { cause: e });
    }
    let answer: { status: number; text: string };
    try {
      answer = await response;
    } catch (e) {
      if (await settleLostAnswer(key, hasher, true)) return;
      throw new AppError("unavailable", "Supabase Storage did not confirm the upload.", undefined, { cause: e });
    }
    if (answer.status >= 300) {
      const mapped = mapSupabaseError(parseSupabaseErrorBody(answer.status, answer.text));
      if (mapped.code === "unavailable" && (await settleLostAnswer(key, hasher, true))) return;
      throw mapped;
    }
  }

  /**
   * The connection broke and took Storage's answer with it. Measured on the real server: it may
   * answer 409 before reading the body and close its socket, and the reset that follows can discard
   * the answer before we read it (2 of 7 uploads of 1–5 MB). What is at the key tells what happened:
   * Storage creates an object only from a complete body, so when ours did not all go out, an object
   * there is someone else's (409). When it all went out, the object there is ours only if it has our
   * bytes (same size, then same SHA-256, read back: rare, and the only proof). No object: nothing is
   * known, `unavailable` stands — and the caller must not delete the key then.
   * Returns true when the upload is known to have succeeded.
   */
  async function settleLostAnswer(key: string, hasher: HashingStream, bodySent: boolean): Promise<boolean> {
    const there = await stat(key).catch(() => undefined);
    if (there === undefined || there === null) return false;
    const conflict = new AppError("conflict", MESSAGES.conflict!, { upstream: { status: 409, inferred: true } });
    const ours = hasher.outcome;
    if (!bodySent || !ours || there.size !== ours.size) throw conflict;
    const copy = await get(key).catch(() => undefined);
    if (!copy) return false;
    const hash = createHash("sha256");
    for await (const c of copy.stream) hash.update(c as Buffer);
    if (hash.digest("hex") !== ours.sha256) throw conflict;
    return true;
  }

  /** tus to <url>/storage/v1/upload/resumable in 6 MiB chunks (Supabase's required chunk size). */
  async function uploadResumable(
    key: string,
    source: Readable,
    hasher: HashingStream,
    contentType: string,
    putOpts: PutOptions,
  ): Promise<void> {
    let sourceError: unknown;
    // The hashing stream is what tus reads; its failures (length, checksum, limit) win over tus's wrapping.
    const feeding = pipeline(source, hasher).catch((e: unknown) => {
      sourceError ??= toAbortAppError(e, putOpts.signal);
    });

    await new Promise<void>((resolve, reject) => {
      let settled = false;
      const finish = (err?: unknown) => {
        if (settled) return;
        settled = true;
        putOpts.signal?.removeEventListener("abort", onAbort);
        if (err === undefined) return resolve();
        // Frees the partial upload on the server; the object is never created without its last chunk.
        void upload.abort(true).catch(() => {});
        reject(err);
      };
      const upload = new Upload(hasher as unknown as Buffer, {
        endpoint: `${storageUrl}/upload/resumable`,
        uploadSize: putOpts.expectedSize,
        chunkSize: RESUMABLE_CHUNK_BYTES,
        retryDelays: TUS_RETRY_DELAYS,
        headers: { apikey: anonKey, "x-upsert": "false" },
        // Every request of the upload (creation, each chunk, termination) with a token valid now.
        onBeforeRequest: async (req) => {
          req.setHeader("authorization", `Bearer ${await token()}`);
        },
        metadata: { bucketName: bucket, objectName: key, contentType, cacheControl: CACHE_CONTROL_SECONDS },
        uploadDataDuringCreation: false,
        storeFingerprintForResuming: false,
        removeFingerprintOnSuccess: true,
        // A fresh connection per request (see the trap above); Connection: close for the same reason.
        httpStack: new DefaultHttpStack({ agent: false, headers: { connection: "close" } }),
        fileReader: { openFile: async () => new TusStreamSource(hasher, putOpts.expectedSize!) },
        onShouldRetry: (err) => {
          if (sourceError !== undefined) return false;
          const status = err.originalResponse?.getStatus() ?? 0;
          return status === 0 || status >= 500 || status === 423;
        },
        onError: (err) => finish(sourceError ?? fromTusError(err)),
        onSuccess: () => finish(),
      });
      const onAbort = () => {
        hasher.destroy(toAbortAppError(putOpts.signal?.reason, putOpts.signal) as Error);
      };
      putOpts.signal?.addEventListener("abort", onAbort, { once: true });
      hasher.once("error", (e) => {
        sourceError ??= toAbortAppError(e, putOpts.signal);
        finish(sourceError);
      });
      upload.start();
    });
    await feeding;
    if (sourceError !== undefined) throw sourceError;
  }

  return { uploadStandard, uploadResumable };
}

/** Reads a response (status and up to 64 KiB of body) for a streaming request. */
function readResponse(req: http.ClientRequest): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    req.once("error", reject);
    req.once("response", (res) => {
      const chunks: Buffer[] = [];
      let n = 0;
      const done = () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") });
      res.on("data", (c: Buffer) => {
        if (n < 65_536) chunks.push(c);
        n += c.length;
      });
      res.once("end", done);
      // The server may close right after a rejection; what arrived is enough to map it.
      res.once("close", done);
      res.once("error", () => done());
    });
  });
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error("timeout")), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(t);
        reject(e);
      },
    );
  });
}
