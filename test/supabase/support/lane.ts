// Helpers of the real-Supabase lane: the app's API, Storage straight through the gateway, tus,
// model files, and looks at the database. Every answer keeps status, headers and body, so a failing
// expectation shows exactly what the real server said.
import crypto from "node:crypto";
import http from "node:http";
import { inject } from "vitest";
import { withClient } from "../../../scripts/supabase-lane/hosted-db";
import type { LaneContext, LaneRole } from "./context";
import { LANE_SKIPPED } from "./env";
import { signAccessToken } from "./tokens";

export const lane = inject("lane");
/** Use as `describe.skipIf(!lane)(title(…), …)`: the skip names its reason. */
export const title = (t: string) => (lane ? t : `${t} — ${LANE_SKIPPED}`);
export const ctx = (): LaneContext => {
  if (!lane) throw new Error(LANE_SKIPPED);
  return lane;
};

export const CHUNK = 6 * 1024 * 1024;

export interface Answer {
  status: number;
  headers: Headers;
  text: string;
  body: Buffer;
  json: unknown;
}

/** What an answer looked like, for failure messages (bodies cut at 500 characters). */
export const show = (a: Answer) => `${a.status} ${a.text.slice(0, 500)}`;

const tokens = new Map<string, string>();
/** A fresh access token for a lane user (cached per role; `ttl` mints a new short-lived one). */
export async function tokenFor(role: LaneRole, opts: { ttlSeconds?: number } = {}): Promise<string> {
  const c = ctx();
  if (opts.ttlSeconds !== undefined)
    return signAccessToken(c.jwtSecret, c.users[role], { issuer: c.issuer, expiresInSeconds: opts.ttlSeconds });
  let t = tokens.get(role);
  if (!t) {
    t = await signAccessToken(c.jwtSecret, c.users[role], { issuer: c.issuer });
    tokens.set(role, t);
  }
  return t;
}

type Body = Buffer | string | ReadableStream<Uint8Array> | undefined;

/**
 * One request on its own connection (node:http, not fetch): a server that answers before reading
 * the whole body and closes the socket still gets its answer seen, as curl would see it.
 */
function send(url: string, init: { method?: string; headers?: Record<string, string>; body?: Body }): Promise<Answer> {
  const target = new URL(url);
  const headers: http.OutgoingHttpHeaders = { ...(init.headers ?? {}) };
  const body = init.body;
  if (typeof body === "string" || Buffer.isBuffer(body)) headers["content-length"] ??= String(Buffer.byteLength(body));
  return new Promise<Answer>((resolve, reject) => {
    const req = http.request(target, { method: init.method ?? "GET", headers, agent: false });
    let answered = false;
    req.on("response", (res) => {
      answered = true;
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      const done = () => {
        const buf = Buffer.concat(chunks);
        const text = buf.toString("utf8");
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        const h = new Headers();
        for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) h.set(k, Array.isArray(v) ? v.join(", ") : v);
        resolve({ status: res.statusCode ?? 0, headers: h, text, body: buf, json });
      };
      res.on("end", done);
      res.on("error", done);
    });
    req.on("error", (e) => {
      // EPIPE/ECONNRESET while sending after an early answer: the answer is what counts.
      if (!answered) reject(e);
    });
    if (body === undefined) req.end();
    else if (typeof body === "string" || Buffer.isBuffer(body)) req.end(body);
    else {
      void (async () => {
        try {
          for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
            if (!req.write(chunk)) await new Promise((r) => req.once("drain", r));
          }
          req.end();
        } catch (e) {
          req.destroy(e as Error);
        }
      })();
    }
  });
}

/** The app's API with a bearer token (an access token or an fm_ API token). */
export async function api(
  path: string,
  opts: { token?: string; method?: string; json?: unknown; body?: Body; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  let body = opts.body;
  if (opts.json !== undefined) {
    headers["content-type"] = "application/json";
    body = JSON.stringify(opts.json);
  }
  return send(`${ctx().appUrl}${path}`, { method: opts.method ?? (body === undefined ? "GET" : "POST"), headers, body });
}

/** Supabase Storage's REST API through the gateway, as the holder of `token` (a user token or the service key). */
export async function storage(
  path: string,
  opts: { token: string; method?: string; json?: unknown; body?: Body; headers?: Record<string, string> },
): Promise<Answer> {
  const c = ctx();
  const headers: Record<string, string> = { apikey: c.anonKey, authorization: `Bearer ${opts.token}`, ...(opts.headers ?? {}) };
  let body = opts.body;
  if (opts.json !== undefined) {
    headers["content-type"] = "application/json";
    body = JSON.stringify(opts.json);
  }
  return send(`${c.storageBase}/storage/v1${path}`, { method: opts.method ?? (body === undefined ? "GET" : "POST"), headers, body });
}

export const encodeKey = (key: string) => key.split("/").map(encodeURIComponent).join("/");

/** Does the bucket hold `key`? Asked of Storage with the service key AND of storage.objects. */
export async function objectExists(key: string): Promise<{ api: boolean; row: boolean; apiAnswer: string }> {
  const c = ctx();
  const a = await storage(`/object/info/${c.bucket}/${encodeKey(key)}`, { token: c.serviceKey });
  const { rows } = await sql<{ n: number }>("select count(*)::int as n from storage.objects where bucket_id = $1 and name = $2", [
    c.bucket,
    key,
  ]);
  return { api: a.status === 200, row: (rows[0]?.n ?? 0) > 0, apiAnswer: show(a) };
}

/** Puts an object with the service key (bypasses our policies): a stand-in for bytes already there. */
export async function plantObject(key: string, data: Buffer): Promise<Answer> {
  const c = ctx();
  return storage(`/object/${c.bucket}/${encodeKey(key)}`, {
    token: c.serviceKey,
    body: data,
    headers: { "content-type": "application/octet-stream", "x-upsert": "false" },
  });
}

/** A superuser query on the lane's database (checks only; the app never gets this). */
export async function sql<R>(text: string, params: unknown[] = []): Promise<{ rows: R[] }> {
  return withClient(ctx().superDbUrl, async (c) => {
    const r = await c.query(text, params);
    return { rows: r.rows as R[] };
  });
}

// ---------------------------------------------------------------------------------------------
// Model files

/** A valid safetensors file of exactly `size` bytes with random tensor data (unique SHA-256). */
export function safetensors(size: number): Buffer {
  const nonce = crypto.randomBytes(8).toString("hex");
  for (let pad = 0; pad < 64; pad++) {
    const headerFor = (n: number) =>
      JSON.stringify({ __metadata__: { lane: nonce, pad: "x".repeat(pad) }, w: { dtype: "U8", shape: [n], data_offsets: [0, n] } });
    let dataLen = size - 8 - Buffer.byteLength(headerFor(size));
    for (let i = 0; i < 3; i++) dataLen = size - 8 - Buffer.byteLength(headerFor(dataLen));
    const header = Buffer.from(headerFor(dataLen));
    if (dataLen > 0 && 8 + header.length + dataLen === size) {
      const len = Buffer.alloc(8);
      len.writeBigUInt64LE(BigInt(header.length));
      return Buffer.concat([len, header, crypto.randomBytes(dataLen)]);
    }
  }
  throw new Error(`could not make a ${size}-byte safetensors file`);
}

/** Bytes the inspector refuses (a safetensors header length of ~10^15). */
export function junk(size: number): Buffer {
  const b = crypto.randomBytes(size);
  b.writeBigUInt64LE(10n ** 15n, 0);
  return b;
}

export const sha256 = (b: Buffer) => crypto.createHash("sha256").update(b).digest("hex");

let counter = 0;
/** A version number no other test of this run uses. */
export const nextVersion = () => `1.${++counter}.${Date.now() % 100000}`;

// ---------------------------------------------------------------------------------------------
// The app's upload flows

export const versionPath = (org: string, model: string, version: string) => `/api/v1/orgs/${org}/models/${model}/versions/${version}`;

/** PUT through the app (the pipeline path). */
export function putVersion(
  token: string,
  org: string,
  model: string,
  version: string,
  data: Buffer | ReadableStream<Uint8Array>,
  opts: { sha256?: string; length?: number } = {},
) {
  const headers: Record<string, string> = {
    "x-model-metadata": JSON.stringify({ task_type: "other" }),
    "content-type": "application/octet-stream",
  };
  if (opts.sha256) headers["x-content-sha256"] = opts.sha256;
  if (opts.length !== undefined) headers["content-length"] = String(opts.length);
  return api(`${versionPath(org, model, version)}?filename=model.safetensors`, { token, method: "PUT", body: data, headers });
}

export interface Reservation {
  id: string;
  object_key: string;
  upload: {
    protocol: string;
    endpoint: string;
    chunk_size: number;
    metadata: Record<string, string>;
    headers: Record<string, string>;
    complete_url: string;
  };
}

export async function reserve(
  token: string,
  org: string,
  model: string,
  version: string,
  size: number,
  metadata: Record<string, unknown> = {},
) {
  const a = await api("/api/v1/uploads/reservations", {
    token,
    json: { org, model, version, filename: "model.safetensors", size, metadata: { task_type: "other", ...metadata } },
  });
  return { answer: a, reservation: a.status === 201 ? (a.json as Reservation) : undefined };
}

export interface TusOutcome {
  ok: boolean;
  /** Every request made: what it was and what came back. */
  steps: { what: string; status: number; text: string }[];
  last: Answer;
}

const tusMetadata = (m: Record<string, string>) =>
  Object.entries(m)
    .map(([k, v]) => `${k} ${Buffer.from(v).toString("base64")}`)
    .join(",");

/**
 * tus 1.0 in 6 MiB chunks, as supabase-js and Uppy do: straight to Storage's resumable endpoint (the
 * default: metadata bucketName/objectName for `key`), or to any other tus endpoint with `metadata`
 * (the app's own, which streams on to Storage's). `tokenAt(i)` picks the token for request i
 * (0 = create), so a token can expire in the middle.
 */
export async function tusUpload(opts: {
  endpoint?: string;
  bucket?: string;
  key?: string;
  metadata?: Record<string, string>;
  data: Buffer;
  token: string | ((request: number) => Promise<string> | string);
  upsert?: boolean;
  beforeRequest?: (request: number) => Promise<void>;
}): Promise<TusOutcome> {
  const c = ctx();
  const endpoint = opts.endpoint ?? `${c.storageBase}/storage/v1/upload/resumable`;
  const tokenAt = async (i: number) => (typeof opts.token === "function" ? opts.token(i) : opts.token);
  const steps: TusOutcome["steps"] = [];
  const headers = async (i: number) => ({
    apikey: c.anonKey,
    authorization: `Bearer ${await tokenAt(i)}`,
    "tus-resumable": "1.0.0",
    "x-upsert": opts.upsert ? "true" : "false",
  });
  await opts.beforeRequest?.(0);
  const created = await send(endpoint, {
    method: "POST",
    headers: {
      ...(await headers(0)),
      "upload-length": String(opts.data.length),
      "upload-metadata": tusMetadata(
        opts.metadata ?? {
          bucketName: opts.bucket ?? c.bucket,
          objectName: opts.key ?? "",
          contentType: "application/octet-stream",
          cacheControl: "3600",
        },
      ),
    },
  });
  steps.push({ what: "POST create", status: created.status, text: created.text.slice(0, 500) });
  const location = created.headers.get("location");
  if (created.status !== 201 || !location) return { ok: false, steps, last: created };
  const uploadUrl = new URL(location, endpoint).toString();
  let offset = 0;
  let i = 1;
  let last = created;
  while (offset < opts.data.length) {
    await opts.beforeRequest?.(i);
    const chunk = opts.data.subarray(offset, Math.min(offset + CHUNK, opts.data.length));
    last = await send(uploadUrl, {
      method: "PATCH",
      headers: { ...(await headers(i)), "upload-offset": String(offset), "content-type": "application/offset+octet-stream" },
      body: Buffer.from(chunk),
    });
    steps.push({ what: `PATCH @${offset}`, status: last.status, text: last.text.slice(0, 500) });
    // Storage answers 204; the app's endpoint answers the last chunk with 200 and what it stored.
    if (last.status !== 204 && last.status !== 200) return { ok: false, steps, last };
    offset = Number(last.headers.get("upload-offset") ?? offset + chunk.length);
    i++;
  }
  return { ok: true, steps, last };
}

/** tus to the app's own resumable endpoint (which streams each chunk on to Storage's). */
export function tusThroughApp(token: string, metadata: Record<string, string>, data: Buffer) {
  return tusUpload({ endpoint: `${ctx().appUrl}/api/v1/uploads`, metadata, data, token });
}

/**
 * The reservations flow: reserve → tus → complete. `via: "app"` (what the reservation answers: the
 * app's own tus endpoint, streaming on to Storage) or `via: "storage"` (a client writing straight to
 * Storage under the reserved key, which the storage policies allow to the reserving user only).
 */
export async function reservationUpload(
  role: LaneRole,
  org: string,
  model: string,
  version: string,
  data: Buffer,
  metadata: Record<string, unknown> = {},
  via: "app" | "storage" = "app",
) {
  const token = await tokenFor(role);
  const { answer, reservation } = await reserve(token, org, model, version, data.length, metadata);
  if (!reservation) return { reserve: answer, tus: undefined, complete: undefined, reservation };
  const tus =
    via === "app"
      ? await tusUpload({ endpoint: reservation.upload.endpoint, metadata: reservation.upload.metadata, data, token })
      : await tusUpload({ key: reservation.object_key, data, token });
  const complete = await api(reservation.upload.complete_url, { token, json: { size: data.length } });
  return { reserve: answer, tus, complete, reservation };
}

// ---------------------------------------------------------------------------------------------
// Commits (a version of several files)

export interface CommitAnswer {
  id: string;
  files: {
    path: string;
    size: number;
    sha256: string;
    state: "stored" | "upload";
    deduplicated: boolean;
    upload?: { put_url: string; tus: { endpoint: string; metadata: Record<string, string> } };
  }[];
  upload_bytes: number;
  deduplicated_bytes: number;
  complete_url: string;
}

/** Announces a commit's files (path, size, SHA-256). */
export async function createCommit(token: string, org: string, model: string, version: string, files: Record<string, Buffer>) {
  const a = await api(`/api/v1/orgs/${org}/models/${model}/commits`, {
    token,
    json: {
      version,
      metadata: { task_type: "other" },
      files: Object.entries(files).map(([path, b]) => ({ path, size: b.length, sha256: sha256(b) })),
    },
  });
  return { answer: a, commit: a.status === 201 ? (a.json as CommitAnswer) : undefined };
}

/**
 * A folder through the app's resumable flow: announce the files, send those the organization does not
 * store yet through the app's tus endpoint (one tus upload per file), complete.
 */
export async function commitFolder(role: LaneRole, org: string, model: string, version: string, files: Record<string, Buffer>) {
  const token = await tokenFor(role);
  const { answer, commit } = await createCommit(token, org, model, version, files);
  if (!commit) return { create: answer, commit, uploads: [], complete: undefined };
  const uploads: { path: string; tus: TusOutcome }[] = [];
  for (const f of commit.files) {
    if (f.state !== "upload") continue;
    const tus = await tusUpload({
      endpoint: `${ctx().appUrl}${f.upload!.tus.endpoint}`,
      metadata: f.upload!.tus.metadata,
      data: files[f.path]!,
      token,
    });
    uploads.push({ path: f.path, tus });
  }
  const complete = await api(commit.complete_url, { token, method: "POST" });
  return { create: answer, commit, uploads, complete };
}

// ---------------------------------------------------------------------------------------------
// Looks at the database and the bucket

const VERSION_BLOBS = `select f.path, b.object_key, b.status from public.version_files f
  join public.blobs b on b.id = f.blob_id join public.model_versions v on v.id = f.version_id
  join public.models m on m.id = v.model_id join public.organizations o on o.id = v.org_id
  where o.slug = $1 and m.slug = $2 and v.version = $3 order by f.path`;

/** The object keys of a version's files (path -> key), read from its rows (blobs + version_files). */
export async function objectKeysOf(orgSlug: string, model: string, version: string): Promise<Record<string, string>> {
  const { rows } = await sql<{ path: string; object_key: string }>(VERSION_BLOBS, [orgSlug, model, version]);
  return Object.fromEntries(rows.map((r) => [r.path, r.object_key]));
}

/** The object key of a one-file version. */
export async function objectKeyOf(orgSlug: string, model: string, version: string): Promise<string | undefined> {
  return Object.values(await objectKeysOf(orgSlug, model, version))[0];
}

export async function versionStatus(orgSlug: string, model: string, version: string): Promise<string | undefined> {
  const { rows } = await sql<{ status: string }>(
    `select v.status from public.model_versions v join public.models m on m.id = v.model_id join public.organizations o on o.id = v.org_id
     where o.slug = $1 and m.slug = $2 and v.version = $3`,
    [orgSlug, model, version],
  );
  return rows[0]?.status;
}

/** Every object in the bucket under an organization's folder (storage.objects, Storage's own table). */
export async function bucketObjects(orgSlug: string): Promise<Set<string>> {
  const { rows } = await sql<{ name: string }>("select name from storage.objects where bucket_id = $1 and name like $2", [
    ctx().bucket,
    `${orgSlug}/%`,
  ]);
  return new Set(rows.map((r) => r.name));
}

/** What `work` left in the organization's folder: objects that were not there before. */
export async function newObjects(orgSlug: string, work: () => Promise<void>): Promise<string[]> {
  const before = await bucketObjects(orgSlug);
  await work();
  return [...(await bucketObjects(orgSlug))].filter((k) => !before.has(k));
}

/** A key in the organization's blob folder that no blob reserved (lib/storage/object-key.ts blobKey). */
export const unreservedKey = (orgSlug: string) => {
  const id = crypto.randomUUID();
  return `${orgSlug}/blobs/${id.slice(0, 2)}/${id}`;
};
