import { createReadStream } from "node:fs";
import http from "node:http";
import https from "node:https";
import { Readable, Transform } from "node:stream";
import type { SupabaseClient } from "@supabase/supabase-js";
import { AppError } from "@/lib/errors";
import { createNodeSupabaseClient } from "@/lib/supabase/node-client";
import type { BlobBody, BlobStat, BlobStore, ByteRange, GetResult, PutOptions, PutResult } from "../blob-store";
import { checkPutOptions, createHashingStream, discardBody, toAbortAppError, toNodeReadable } from "../hash-stream";
import { contentTypeFor, RESUMABLE_THRESHOLD_BYTES } from "../limits";
import { mustBeValidKey, mustBeValidPrefix } from "../object-key";
import { mustBeValidRange, parseContentRange, rangeHeader, resolveRange } from "./range";
import { mapSupabaseError, MESSAGES, parseSupabaseErrorBody } from "./supabase-errors";
import { createResumableSession } from "./supabase-resumable";
import { createSupabaseUploader, encodeKey } from "./supabase-upload";

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
 * The uploads themselves live in supabase-upload.ts.
 */

export interface SupabaseBlobStoreOptions {
  url: string;
  anonKey: string;
  /**
   * The caller's access token, or a function that answers a currently valid one: Storage checks the
   * token on every request, so a long upload (many tus chunks) asks again before each.
   */
  accessToken: string | (() => Promise<string>);
  bucket: string;
  /** Used by the SDK calls and resumable sessions (not uploads' bodies nor downloads: node:http, see getObject). */
  fetch?: typeof fetch;
  /** Uploads with a known size above this go through tus. */
  resumableThresholdBytes?: number;
}

const PING_TIMEOUT_MS = 5_000;
const LIST_PAGE = 1000;
/** Until Storage answers a GET; then how long its body may stall (undici's default body timeout). */
const ANSWER_TIMEOUT_MS = 120_000;
const BODY_IDLE_TIMEOUT_MS = 300_000;

/**
 * A GET through node:http rather than fetch: the body stays a Node stream all the way to our
 * response (fetch's web stream, turned back into a Node stream, was most of a download's CPU on a
 * 2-core machine, next to Storage itself).
 */
function getObject(url: string, headers: Record<string, string>): Promise<http.IncomingMessage> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const req = (target.protocol === "https:" ? https : http).get(target, { headers, timeout: ANSWER_TIMEOUT_MS }, (res) => {
      req.setTimeout(BODY_IDLE_TIMEOUT_MS);
      resolve(res);
    });
    req.once("timeout", () => req.destroy(new AppError("unavailable", "Supabase Storage stopped responding.")));
    req.on("error", (e) => reject(mapSupabaseError(e)));
  });
}

/** An error answer's body (at most 64 KiB of it). */
async function readText(stream: Readable): Promise<string> {
  let text = "";
  stream.setEncoding("utf8");
  try {
    for await (const chunk of stream) {
      text += chunk as string;
      if (text.length > 65_536) break;
    }
  } catch {
    // What arrived is all there is.
  }
  stream.destroy();
  return text;
}

// ---------------------------------------------------------------------------------------------

/** A BlobStore on a Supabase Storage bucket, acting as the user whose access token it holds. Make one per request. */
export function createSupabaseBlobStore(opts: SupabaseBlobStoreOptions): BlobStore {
  const { anonKey, accessToken, bucket } = opts;
  const base = opts.url.replace(/\/+$/, "");
  const storageUrl = `${base}/storage/v1`;
  const doFetch = opts.fetch ?? globalThis.fetch;
  const threshold = opts.resumableThresholdBytes ?? RESUMABLE_THRESHOLD_BYTES;
  const token = typeof accessToken === "string" ? async () => accessToken : accessToken;
  const authHeaders = async () => ({ authorization: `Bearer ${await token()}`, apikey: anonKey });
  // The SDK's requests carry the token of the moment too.
  const sdkFetch: typeof fetch = async (input, init) => {
    const headers = new Headers(init?.headers);
    headers.set("authorization", `Bearer ${await token()}`);
    return doFetch(input, { ...init, headers });
  };

  // Lazily: most requests use one or two SDK calls, some none.
  let client: SupabaseClient | undefined;
  const files = () => {
    client ??= createNodeSupabaseClient(base, anonKey, { fetch: sdkFetch });
    return client.storage.from(bucket);
  };
  const uploader = createSupabaseUploader({ storageUrl, bucket, anonKey, token, stat: (k) => stat(k), get: (k) => get(k) });

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
      if (resumable) await uploader.uploadResumable(key, source, hasher, contentType, putOpts);
      else await uploader.uploadStandard(key, source, hasher, contentType, putOpts);
    } catch (e) {
      source.destroy();
      hasher.destroy();
      throw e;
    }
    if (!hasher.outcome) throw new AppError("internal", "The upload finished without being verified.");
    return { key, ...hasher.outcome };
  }

  async function get(key: string, getOpts: { range?: ByteRange } = {}): Promise<GetResult> {
    mustBeValidKey(key);
    const range = getOpts.range;
    if (range) mustBeValidRange(range);
    const res = await getObject(`${storageUrl}/object/authenticated/${encodeURIComponent(bucket)}/${encodeKey(key)}`, {
      ...(await authHeaders()),
      // identity: a compressed response would make Content-Length and ranges count other bytes.
      "accept-encoding": "identity",
      ...(range ? { range: rangeHeader(range) } : {}),
    });
    const status = res.statusCode ?? 0;
    if (status === 416) {
      res.resume();
      throw new AppError("range_not_satisfiable", MESSAGES.range_not_satisfiable!);
    }
    if (status < 200 || status >= 300) throw mapSupabaseError(parseSupabaseErrorBody(status, await readText(res)));
    const contentType = res.headers["content-type"];
    const stream: Readable = res;

    if (status === 206) {
      const cr = parseContentRange(res.headers["content-range"] ?? null);
      if (!cr) {
        stream.destroy();
        throw new AppError("unavailable", "Supabase Storage sent a partial response without a usable Content-Range.");
      }
      return { stream, size: cr.size, start: cr.start, end: cr.end, contentType };
    }
    let size = Number(res.headers["content-length"] ?? Number.NaN);
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

  async function del(key: string): Promise<boolean> {
    mustBeValidKey(key);
    // The bulk delete answers 200 with the rows it removed: [] both for a missing object and for one
    // the storage policies hide from this caller.
    const { data, error } = await files().remove([key]);
    if (error) {
      const err = mapSupabaseError(error);
      if (err.code !== "not_found") throw err;
      return false;
    }
    return (data ?? []).some((o) => o.name === key);
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
  const resumable = createResumableSession({ storageUrl, bucket, anonKey, token, fetch: doFetch });
  return { kind: "supabase", bucket, put, putFile, get, stat, delete: del, list, createSignedUrl, ping, resumable };
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
