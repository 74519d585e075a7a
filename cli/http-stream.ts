import fs from "node:fs";
import http from "node:http";
import https from "node:https";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import crypto from "node:crypto";
import { CliError, EXIT, networkError } from "./errors";

// Streamed transfers over node:http(s): a file body with an exact Content-Length (fetch cannot set
// one on a stream), and downloads written to disk chunk by chunk while hashing.

function send(url: URL, opts: http.RequestOptions): Promise<{ req: http.ClientRequest; res: Promise<http.IncomingMessage> }> {
  const mod = url.protocol === "https:" ? https : http;
  const req = mod.request(url, opts);
  const res = new Promise<http.IncomingMessage>((resolve, reject) => {
    req.on("response", resolve);
    req.on("error", (e) => reject(networkError(e, url.origin) ?? e));
  });
  return Promise.resolve({ req, res });
}

async function readBody(res: http.IncomingMessage): Promise<string> {
  let s = "";
  for await (const c of res) s += c;
  return s;
}

/** A server error answer as a CliError with its code and message. */
async function errorOf(res: http.IncomingMessage): Promise<CliError> {
  const text = await readBody(res);
  try {
    const b = JSON.parse(text) as { error?: { code?: string; message?: string; details?: unknown } };
    if (b.error)
      return new CliError(b.error.message ?? `HTTP ${res.statusCode}`, EXIT.server, b.error.code, res.statusCode, b.error.details);
  } catch {
    /* not JSON */
  }
  return new CliError(`HTTP ${res.statusCode} ${res.statusMessage ?? ""}`.trim(), EXIT.server, `http_${res.statusCode}`, res.statusCode);
}

/** PUTs a file as the raw body, streamed, and returns the JSON answer. */
export async function putFile(
  url: URL,
  headers: Record<string, string>,
  abs: string,
  size: number,
  onBytes: (n: number) => void,
): Promise<unknown> {
  const { req, res } = await send(url, {
    method: "PUT",
    headers: { ...headers, "content-type": "application/octet-stream", "content-length": String(size) },
  });
  const body = fs.createReadStream(abs);
  body.on("data", (c) => onBytes((c as Buffer).length));
  const piped = pipeline(body, req).catch(() => undefined); // a refusal mid-body surfaces as the response below
  const r = await res;
  await piped;
  if ((r.statusCode ?? 0) >= 400) throw await errorOf(r);
  return JSON.parse(await readBody(r));
}

export interface FetchedFile {
  /** Bytes already on disk that were kept (a resumed download), 0 for a fresh one. */
  resumedFrom: number;
  sha256: string;
  bytes: number;
}

/**
 * Downloads `url` into `part`, resuming from its current length with Range/If-Range when the server
 * allows, hashing the kept prefix and the new bytes into one SHA-256.
 */
export async function fetchToFile(
  url: URL,
  headers: Record<string, string>,
  part: string,
  etag: string | null,
  onBytes: (n: number) => void,
): Promise<FetchedFile> {
  let have = 0;
  try {
    have = fs.statSync(part).size;
  } catch {
    /* a fresh download */
  }
  const rangeHeaders: Record<string, string> = have > 0 ? { range: `bytes=${have}-`, ...(etag ? { "if-range": etag } : {}) } : {};
  const { req, res } = await send(url, { method: "GET", headers: { ...headers, ...rangeHeaders } });
  req.end();
  const r = await res;
  const status = r.statusCode ?? 0;
  if (status === 416 && have > 0) {
    // The part file is already whole (or longer than the file): start over.
    r.resume();
    fs.rmSync(part, { force: true });
    return fetchToFile(url, headers, part, etag, onBytes);
  }
  if (status >= 400) throw await errorOf(r);
  const resumed = status === 206 && have > 0;
  const hash = crypto.createHash("sha256");
  if (resumed) {
    // The kept prefix is hashed from disk; it counts as progress already made.
    for await (const c of fs.createReadStream(part)) hash.update(c as Buffer);
    onBytes(have);
  }
  let bytes = resumed ? have : 0;
  const tap = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      bytes += chunk.length;
      onBytes(chunk.length);
      cb(null, chunk);
    },
  });
  try {
    await pipeline(r, tap, fs.createWriteStream(part, { flags: resumed ? "a" : "w" }));
  } catch (e) {
    throw networkError(e, url.origin) ?? e;
  }
  return { resumedFrom: resumed ? have : 0, sha256: hash.digest("hex"), bytes };
}
