// Plain node:http clients for the soak: streamed bodies, paced bodies, answers that may never come.
import crypto from "node:crypto";
import fs from "node:fs";
import http from "node:http";

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  ms: number;
  /** The connection broke before a complete answer (reset, empty reply, cut stream). */
  aborted: boolean;
  error?: string;
}

interface Options {
  method?: string;
  headers?: Record<string, string>;
  body?: Buffer | string;
  agent?: http.Agent | false;
  timeoutMs?: number;
}

/** One request; never throws: network failures come back as status 0 with `error`. */
export function request(url: string, opts: Options = {}): Promise<Reply> {
  const u = new URL(url);
  const t = performance.now();
  return new Promise((resolve) => {
    let done = false;
    const finish = (r: Omit<Reply, "ms">) => {
      if (done) return;
      done = true;
      resolve({ ...r, ms: performance.now() - t });
    };
    const req = http.request({
      host: u.hostname,
      port: u.port,
      path: u.pathname + u.search,
      method: opts.method ?? "GET",
      headers: opts.headers,
      agent: opts.agent ?? false,
    });
    req.setTimeout(opts.timeoutMs ?? 120_000, () => req.destroy(new Error("timeout")));
    req.on("response", (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () =>
        finish({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), aborted: !res.complete }),
      );
      res.on("error", (e) =>
        finish({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), aborted: true, error: e.message }),
      );
      res.on("aborted", () =>
        finish({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), aborted: true, error: "aborted" }),
      );
      res.on("close", () =>
        finish({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks),
          aborted: !res.complete,
          error: res.complete ? undefined : "closed",
        }),
      );
    });
    req.on("error", (e) => finish({ status: 0, headers: {}, body: Buffer.alloc(0), aborted: true, error: e.message }));
    req.end(opts.body);
  });
}

export const json = <T = Record<string, unknown>>(r: Reply): T | undefined => {
  try {
    return JSON.parse(r.body.toString("utf8")) as T;
  } catch {
    return undefined;
  }
};

/**
 * Streams a file (or `size` bytes of a repeated buffer) as the body, optionally paced, optionally
 * calling `onSent` as bytes go out (to kill the server mid-upload). Resolves with the answer.
 */
export function streamBody(
  url: string,
  source: { file: string } | { buffer: Buffer; size: number },
  opts: {
    method?: string;
    headers?: Record<string, string>;
    chunk?: number;
    pauseMs?: number;
    /** Send the headers, then wait this long before the first body byte (the server acts on headers alone). */
    holdMs?: number;
    onSent?: (sent: number) => void;
    timeoutMs?: number;
  } = {},
): Promise<Reply & { sent: number }> {
  const u = new URL(url);
  const size = "file" in source ? fs.statSync(source.file).size : source.size;
  const chunk = opts.chunk ?? 1024 * 1024;
  const fd = "file" in source ? fs.openSync(source.file, "r") : undefined;
  const t = performance.now();
  let sent = 0;
  return new Promise((resolve) => {
    let done = false;
    let status = 0;
    const finish = (r: Omit<Reply, "ms">) => {
      if (done) return;
      done = true;
      if (fd !== undefined) fs.closeSync(fd);
      resolve({ ...r, ms: performance.now() - t, sent });
    };
    const req = http.request({
      host: u.hostname,
      port: u.port,
      path: u.pathname + u.search,
      method: opts.method ?? "PUT",
      agent: false,
      headers: { "content-length": String(size), ...opts.headers },
    });
    req.setTimeout(opts.timeoutMs ?? 300_000, () => req.destroy(new Error("timeout")));
    req.on("response", (res) => {
      status = res.statusCode ?? 0;
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => finish({ status, headers: res.headers, body: Buffer.concat(chunks), aborted: !res.complete }));
      res.on("error", (e) => finish({ status, headers: res.headers, body: Buffer.concat(chunks), aborted: true, error: e.message }));
    });
    req.on("error", (e) => finish({ status, headers: {}, body: Buffer.alloc(0), aborted: true, error: e.message }));
    const buf = Buffer.alloc(chunk);
    const pump = () => {
      if (done || status) return;
      if (sent >= size) return void req.end();
      const n = Math.min(chunk, size - sent);
      let piece: Buffer;
      if (fd !== undefined) {
        fs.readSync(fd, buf, 0, n, sent);
        piece = Buffer.from(buf.subarray(0, n));
      } else {
        const src = (source as { buffer: Buffer }).buffer;
        piece = n === src.length ? src : src.subarray(0, n);
      }
      sent += n;
      opts.onSent?.(sent);
      const next = () => (opts.pauseMs ? setTimeout(pump, opts.pauseMs) : setImmediate(pump));
      if (req.write(piece)) next();
      else req.once("drain", next);
    };
    if (opts.holdMs) {
      req.flushHeaders();
      setTimeout(pump, opts.holdMs);
    } else pump();
  });
}

/** Reads a download to the end (or its break), hashing as it goes. */
export function download(url: string, headers: Record<string, string>): Promise<Reply & { sha256: string }> {
  return request(url, { headers }).then((r) => ({ ...r, sha256: crypto.createHash("sha256").update(r.body).digest("hex") }));
}

export function percentile(xs: number[], p: number): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

export const b64 = (s: string) => Buffer.from(s).toString("base64");
export const tusMetadata = (m: Record<string, string>) =>
  Object.entries(m)
    .map(([k, v]) => `${k} ${b64(v)}`)
    .join(",");
