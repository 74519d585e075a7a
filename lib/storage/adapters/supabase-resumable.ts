import http from "node:http";
import https from "node:https";
import { pipeline } from "node:stream/promises";
import { AppError, isAppError } from "@/lib/errors";
import type { ResumableSession } from "../blob-store";
import { mapSupabaseError, parseSupabaseErrorBody } from "./supabase-errors";
import { CACHE_CONTROL_SECONDS } from "./supabase-upload";

// Supabase Storage's resumable (tus 1.0) endpoint, driven one request at a time by our own tus
// endpoint: each chunk a client sends us is streamed on to Storage as it arrives (hashed and inspected
// on the way, lib/http/tus-supabase-store.ts), so the bytes reach Storage once. Every request carries
// a token valid now (Storage checks it on each chunk; a long upload outlives any one token).

const TUS = { "tus-resumable": "1.0.0" };
const IDLE_TIMEOUT_MS = 120_000;

const b64 = (s: string) => Buffer.from(s, "utf8").toString("base64");

async function failure(res: Response): Promise<AppError> {
  return mapSupabaseError(parseSupabaseErrorBody(res.status, await res.text().catch(() => "")));
}

export function createResumableSession(opts: {
  storageUrl: string;
  bucket: string;
  anonKey: string;
  token: () => Promise<string>;
  fetch: typeof fetch;
}): ResumableSession {
  const endpoint = `${opts.storageUrl}/upload/resumable`;
  const headers = async () => ({ ...TUS, authorization: `Bearer ${await opts.token()}`, apikey: opts.anonKey });
  // Storage answers with its own absolute Location; only URLs under its endpoint are ever called.
  const mustBeOurs = (url: string) => {
    if (!url.startsWith(`${endpoint}/`)) throw new AppError("internal", "Not a resumable upload of this Storage server.");
    return url;
  };

  return {
    async create(key, size, contentType) {
      const metadata = { bucketName: opts.bucket, objectName: key, contentType, cacheControl: CACHE_CONTROL_SECONDS };
      const res = await opts
        .fetch(endpoint, {
          method: "POST",
          headers: {
            ...(await headers()),
            "upload-length": String(size),
            "upload-metadata": Object.entries(metadata)
              .map(([k, v]) => `${k} ${b64(v)}`)
              .join(","),
            "x-upsert": "false",
          },
        })
        .catch((e: unknown) => {
          throw mapSupabaseError(e);
        });
      if (res.status !== 201) throw await failure(res);
      await res.body?.cancel().catch(() => {});
      const location = res.headers.get("location");
      if (!location) throw new AppError("unavailable", "Supabase Storage created a resumable upload without saying where it is.");
      return mustBeOurs(new URL(location, endpoint).toString());
    },

    async offset(url) {
      const res = await opts.fetch(mustBeOurs(url), { method: "HEAD", headers: await headers() }).catch((e: unknown) => {
        throw mapSupabaseError(e);
      });
      if (res.status === 404 || res.status === 410) return undefined;
      if (!res.ok) throw await failure(res);
      const n = Number(res.headers.get("upload-offset"));
      if (!Number.isSafeInteger(n) || n < 0)
        throw new AppError("unavailable", "Supabase Storage answered a resumable upload without its offset.");
      return n;
    },

    async append(url, offset, body, length, signal) {
      const target = new URL(mustBeOurs(url));
      // A fresh connection per chunk, closed afterwards (see supabase-upload.ts: a rejection before the
      // body is read can leave a kept-alive socket stuck).
      const req = (target.protocol === "https:" ? https : http).request(target, {
        method: "PATCH",
        agent: false,
        timeout: IDLE_TIMEOUT_MS,
        headers: {
          ...(await headers()),
          "upload-offset": String(offset),
          "content-type": "application/offset+octet-stream",
          connection: "close",
          ...(length !== undefined ? { "content-length": String(length) } : {}),
        },
      });
      req.on("timeout", () => req.destroy(new AppError("unavailable", "Supabase Storage stopped responding during the upload.")));
      const answer = new Promise<{ status: number; text: string; offset: string | undefined }>((resolve, reject) => {
        req.once("error", reject);
        req.once("response", (res) => {
          let text = "";
          res.setEncoding("utf8");
          res.on("data", (c: string) => (text.length < 65_536 ? (text += c) : undefined));
          const done = () => resolve({ status: res.statusCode ?? 0, text, offset: res.headers["upload-offset"] as string | undefined });
          res.once("end", done);
          res.once("close", done);
        });
      });
      answer.catch(() => {});
      try {
        await pipeline(body, req, signal ? { signal } : {});
      } catch (e) {
        // An answer that arrived (a refusal before the body was read) says more than the broken pipe.
        const a = await Promise.race([answer, new Promise<undefined>((r) => setTimeout(() => r(undefined), 2000))]).catch(() => undefined);
        if (a && a.status >= 300) throw mapSupabaseError(parseSupabaseErrorBody(a.status, a.text));
        throw isAppError(e) ? e : new AppError("unavailable", "The upload to Supabase Storage was interrupted.", undefined, { cause: e });
      }
      const a = await answer.catch((e: unknown) => {
        throw new AppError("unavailable", "Supabase Storage did not confirm the chunk.", undefined, { cause: e });
      });
      if (a.status !== 204 && a.status !== 200) throw mapSupabaseError(parseSupabaseErrorBody(a.status, a.text));
      const next = Number(a.offset);
      if (!Number.isSafeInteger(next))
        throw new AppError("unavailable", "Supabase Storage accepted a chunk without saying the new offset.");
      return next;
    },

    async terminate(url) {
      const res = await opts.fetch(mustBeOurs(url), { method: "DELETE", headers: await headers() }).catch(() => undefined);
      await res?.body?.cancel().catch(() => {});
    },
  };
}
