import { createReadStream } from "node:fs";
import http from "node:http";
import https from "node:https";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStream as NodeWebReadableStream } from "node:stream/web";
import type { SupabaseClient } from "@supabase/supabase-js";
import { DefaultHttpStack, Upload } from "tus-js-client";
import { AppError } from "@/lib/errors";
import { createNodeSupabaseClient } from "@/lib/supabase/node-client";
import type { BlobBody, BlobStat, BlobStore, ByteRange, GetResult, PutOptions, PutResult } from "../blob-store";
import { checkPutOptions, createHashingStream, discardBody, toAbortAppError, toNodeReadable, type HashingStream } from "../hash-stream";
import { contentTypeFor, RESUMABLE_CHUNK_BYTES, RESUMABLE_THRESHOLD_BYTES } from "../limits";
import { mustBeValidKey, mustBeValidPrefix } from "../object-key";
import { mustBeValidRange, parseContentRange, rangeHeader, resolveRange } from "./range";
import { fromTusError, mapSupabaseError, MESSAGES, parseSupabaseErrorBody } from "./supabase-errors";
import { TusStreamSource } from "./tus-stream-source";

/*
 * Supabase Storage, acting as the signed-in user (their access token), so Supabase's own RLS on
 * storage.objects decides what they may read and write.
 *
 * How put() stays atomic without a rename: Supabase creates the object only once the whole body
 * has arrived (standard upload) or the last tus chunk is accepted. The hashing stream withholds the
 * most recent chunk until size and SHA-256 are verified, so a body that fails any check (length,
 * checksum, maxBytes, abort) never reaches the server complete: the request is cut off, the tus
 * upload is terminated, and no object appears. x-upsert: false makes an existing key a 409, and we
 * never delete after a rejection (the object there is not ours). What stays ambiguous is a
 * connection lost after the last byte went out: the object may or may not exist. For that the
 * service's pending version row is the source of truth: it deletes the key when it abandons the
 * upload, and an object without a ready row is an orphan for the clean-up job.
 *
 * IMPORTANT (measured): an upload Supabase rejects before reading the body can leave a kept-alive
 * socket stuck for about a minute. Uploads therefore use node:http with a fresh connection that is
 * closed afterwards (agent: false, Connection: close), never the shared fetch pool.
 */

export interface SupabaseBlobStoreOptions {
  url: string;
  anonKey: string;
  accessToken: string;
  bucket: string;
  /** Used by the SDK calls and ranged downloads (not uploads, see above). */
  fetch?: typeof fetch;
  /** Uploads with a known size above this go through tus. */
  resumableThresholdBytes?: number;
}

const CACHE_CONTROL_SECONDS = "3600";
const UPLOAD_IDLE_TIMEOUT_MS = 120_000;
const PING_TIMEOUT_MS = 5_000;
const LIST_PAGE = 1000;
const TUS_RETRY_DELAYS = [0, 1000, 3000, 5000];

// ---------------------------------------------------------------------------------------------

const encodeKey = (key: string) => key.split("/").map(encodeURIComponent).join("/");

/** A BlobStore on a Supabase Storage bucket, acting as the user whose access token it holds. Make one per request. */
export function createSupabaseBlobStore(opts: SupabaseBlobStoreOptions): BlobStore {
  const { anonKey, accessToken, bucket } = opts;
  const base = opts.url.replace(/\/+$/, "");
  const storageUrl = `${base}/storage/v1`;
  const doFetch = opts.fetch ?? globalThis.fetch;
  const threshold = opts.resumableThresholdBytes ?? RESUMABLE_THRESHOLD_BYTES;
  const authHeaders = { authorization: `Bearer ${accessToken}`, apikey: anonKey };

  // Lazily: most requests use one or two SDK calls, some none.
  let client: SupabaseClient | undefined;
  const files = () => {
    client ??= createNodeSupabaseClient(base, anonKey, { accessToken, fetch: opts.fetch });
    return client.storage.from(bucket);
  };

  async function put(key: string, body: BlobBody, putOpts: PutOptions = {}): Promise<PutResult> {
    try {
      mustBeValidKey(key);
      checkPutOptions(putOpts);
      if (putOpts.signal?.aborted) throw toAbortAppError(putOpts.signal.reason, putOpts.signal);
    } catch (e) {
      discardBody(body);
      throw e;
    }
    const hasher = createHashingStream({ ...putOpts, holdBackLastChunk: true });
    const source = toNodeReadable(body);
    const contentType = putOpts.contentType ?? contentTypeFor(key);
    const resumable = putOpts.expectedSize !== undefined && putOpts.expectedSize > threshold;
    try {
      if (resumable) await uploadResumable(key, source, hasher, contentType, putOpts);
      else await uploadStandard(key, source, hasher, contentType, putOpts);
    } catch (e) {
      source.destroy();
      hasher.destroy();
      throw e;
    }
    if (!hasher.outcome) throw new AppError("internal", "The upload finished without being verified.");
    return { key, ...hasher.outcome };
  }

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
      ...authHeaders,
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
      if (err instanceof AppError) throw err;
      // A transport error (EPIPE, reset) often just means the server answered and closed first.
      const answer = await withTimeout(response, 2000).catch(() => undefined);
      if (answer && answer.status >= 300) throw mapSupabaseError(parseSupabaseErrorBody(answer.status, answer.text));
      throw new AppError("unavailable", "The upload to Supabase Storage was interrupted.", undefined, { cause: e });
    }
    let answer: { status: number; text: string };
    try {
      answer = await response;
    } catch (e) {
      throw new AppError("unavailable", "Supabase Storage did not confirm the upload.", undefined, { cause: e });
    }
    if (answer.status >= 300) throw mapSupabaseError(parseSupabaseErrorBody(answer.status, answer.text));
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
        headers: { ...authHeaders, "x-upsert": "false" },
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

  async function get(key: string, getOpts: { range?: ByteRange } = {}): Promise<GetResult> {
    mustBeValidKey(key);
    const range = getOpts.range;
    if (range) mustBeValidRange(range);
    let res: Response;
    try {
      res = await doFetch(`${storageUrl}/object/authenticated/${encodeURIComponent(bucket)}/${encodeKey(key)}`, {
        // identity: a compressed response would make Content-Length and ranges count other bytes.
        headers: { ...authHeaders, "accept-encoding": "identity", ...(range ? { range: rangeHeader(range) } : {}) },
      });
    } catch (e) {
      throw mapSupabaseError(e);
    }
    if (res.status === 416) {
      await res.body?.cancel().catch(() => {});
      throw new AppError("range_not_satisfiable", MESSAGES.range_not_satisfiable!);
    }
    if (!res.ok) throw mapSupabaseError(parseSupabaseErrorBody(res.status, await res.text().catch(() => "")));
    const contentType = res.headers.get("content-type") ?? undefined;
    const stream = res.body ? Readable.fromWeb(res.body as unknown as NodeWebReadableStream<Uint8Array>) : Readable.from([]);

    if (res.status === 206) {
      const cr = parseContentRange(res.headers.get("content-range"));
      if (!cr) {
        stream.destroy();
        throw new AppError("unavailable", "Supabase Storage sent a partial response without a usable Content-Range.");
      }
      return { stream, size: cr.size, start: cr.start, end: cr.end, contentType };
    }
    let size = Number(res.headers.get("content-length") ?? Number.NaN);
    if (!Number.isSafeInteger(size)) {
      const st = await stat(key).catch(() => null);
      if (!st) {
        stream.destroy();
        throw new AppError("unavailable", "Supabase Storage sent a response without a Content-Length.");
      }
      size = st.size;
    }
    if (!range) return { stream, size, start: 0, end: size - 1, contentType };
    // The server ignored the Range header: cut the requested bytes out of the full body.
    let resolved: { start: number; end: number };
    try {
      resolved = resolveRange(range, size);
    } catch (e) {
      stream.destroy();
      throw e;
    }
    return { stream: sliceStream(stream, resolved.start, resolved.end), size, ...resolved, contentType };
  }

  async function stat(key: string): Promise<BlobStat | null> {
    mustBeValidKey(key);
    const { data, error } = await files().info(key);
    if (error) {
      const err = mapSupabaseError(error);
      if (err.code === "not_found") return null;
      throw err;
    }
    return {
      key,
      size: Number(data.size ?? 0),
      contentType: data.contentType ?? undefined,
      updatedAt: data.lastModified ? new Date(data.lastModified) : data.createdAt ? new Date(data.createdAt) : undefined,
    };
  }

  async function del(key: string): Promise<void> {
    mustBeValidKey(key);
    // Idempotent: removing a missing object answers 200 with an empty list.
    const { error } = await files().remove([key]);
    if (error) {
      const err = mapSupabaseError(error);
      if (err.code !== "not_found") throw err;
    }
  }

  async function* list(prefix: string): AsyncIterable<BlobStat> {
    mustBeValidPrefix(prefix);
    let cursor: string | undefined;
    for (;;) {
      const { data, error } = await files().listV2({ prefix, limit: LIST_PAGE, with_delimiter: false, ...(cursor ? { cursor } : {}) });
      if (error) throw mapSupabaseError(error);
      for (const o of data.objects) {
        const key = o.key ?? o.name;
        if (!key.startsWith(prefix)) continue;
        const meta = (o.metadata ?? {}) as { size?: number; mimetype?: string };
        yield {
          key,
          size: Number(meta.size ?? 0),
          contentType: meta.mimetype,
          updatedAt: o.updated_at ? new Date(o.updated_at) : undefined,
        };
      }
      if (!data.hasNext || !data.nextCursor) return;
      cursor = data.nextCursor;
    }
  }

  async function createSignedUrl(key: string, expiresInSeconds: number, signOpts: { downloadName?: string } = {}): Promise<string> {
    mustBeValidKey(key);
    if (!Number.isSafeInteger(expiresInSeconds) || expiresInSeconds < 1)
      throw new AppError("bad_request", "Signed URLs need a lifetime of at least one second.");
    const { data, error } = await files().createSignedUrl(key, expiresInSeconds, { download: signOpts.downloadName ?? true });
    if (error) throw mapSupabaseError(error);
    return data.signedUrl;
  }

  async function ping(): Promise<{ ok: boolean; detail?: string }> {
    // A one-row list: works for any signed-in user (getBucket needs rights on storage.buckets).
    try {
      const { error } = await files().list("", { limit: 1 }, { signal: AbortSignal.timeout(PING_TIMEOUT_MS) });
      if (error) {
        const err = mapSupabaseError(error);
        return { ok: false, detail: `${err.code}: ${error.message}` };
      }
      return { ok: true, detail: `${base} bucket ${bucket}` };
    } catch (e) {
      return { ok: false, detail: (e as Error).message };
    }
  }

  const putFile = (key: string, file: string, putOpts?: PutOptions) => put(key, createReadStream(file), putOpts);
  return { kind: "supabase", bucket, put, putFile, get, stat, delete: del, list, createSignedUrl, ping };
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

/** Bytes start..end (inclusive) of a stream; the source is destroyed once they are through. */
function sliceStream(source: Readable, start: number, end: number): Readable {
  let pos = 0;
  let done = false;
  const out = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      if (done) return cb();
      const from = Math.max(start - pos, 0);
      const to = Math.min(end + 1 - pos, chunk.length);
      pos += chunk.length;
      if (to > from) this.push(chunk.subarray(from, to));
      if (pos > end) {
        done = true;
        this.push(null);
        source.destroy();
      }
      cb();
    },
  });
  source.on("error", (e) => out.destroy(e));
  return source.pipe(out);
}
