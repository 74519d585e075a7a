import "server-only";
import type http from "node:http";
import { PassThrough, Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { AppError } from "@/lib/errors";
import { LENGTH_HEADER, rawResponseOf } from "./node-server";
import { createArchive, type ArchiveFormat } from "@/lib/storage/archive";
import { parseRange } from "@/lib/storage/http-range";
import type { Download } from "@/lib/storage/downloads";
import type { FileRow } from "@/lib/db/queries/files";
import type { ModelSummary, ModelVersion } from "@/lib/storage/types";
import type { Principal, RequestMeta } from "@/lib/auth/principal";
import type { Services } from "@/lib/services/services";

/** What a response describes before any byte is read: enough for HEAD, 304 and Range. */
export interface DownloadHead {
  etag: string;
  size: number;
  fileName: string;
  contentType: string;
  /** Archives are streamed whole: no ranges. */
  ranges: boolean;
}

/** The head of a one-file download. */
export function fileHead(f: Pick<FileRow, "path" | "sha256" | "size_bytes">): DownloadHead {
  return {
    etag: f.sha256 ?? "",
    size: Number(f.size_bytes ?? 0),
    fileName: f.path.slice(f.path.lastIndexOf("/") + 1),
    contentType: "application/octet-stream",
    ranges: true,
  };
}

/** The head of an archive download: its exact length, computed without reading a byte. */
export async function archiveHead(
  format: ArchiveFormat,
  model: Pick<ModelSummary, "slug">,
  v: Pick<ModelVersion, "version" | "sha256" | "created_at">,
  files: Pick<FileRow, "path" | "size_bytes">[],
): Promise<DownloadHead> {
  const root = `${model.slug}-${v.version}`;
  const a = await createArchive(
    format,
    root,
    files.map((f) => ({ path: f.path, size: Number(f.size_bytes) })),
    async () => new PassThrough(),
    v.created_at,
  );
  a.stream.destroy();
  return { etag: `${v.sha256}-${format}`, size: a.size, fileName: `${root}.${format}`, contentType: a.contentType, ranges: false };
}

/** Range to ask the store for, from the request (416 when unsatisfiable; ignored for archives and a stale If-Range). */
export function requestedRange(req: Request, head: DownloadHead) {
  if (!head.ranges) return undefined;
  const ifRange = req.headers.get("if-range");
  if (ifRange && ifRange !== `"${head.etag}"`) return undefined;
  const r = parseRange(req.headers.get("range"), head.size);
  if (r === "unsatisfiable") throw new AppError("range_not_satisfiable", "The requested range is outside the file.", { size: head.size });
  return r ?? undefined;
}

/** The headers every download carries: ETag and X-Content-SHA256 are the file's SHA-256 (an archive's: the version's, with its format). */
export function downloadHeaders(head: Pick<DownloadHead, "etag" | "fileName" | "contentType" | "ranges">): Headers {
  const ascii = head.fileName.replace(/[^A-Za-z0-9._-]/g, "_");
  const h = new Headers({
    etag: `"${head.etag}"`,
    "content-type": head.contentType,
    "content-disposition": `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(head.fileName)}`,
    // no-transform: Next's server gzips compressible types (application/x-tar, JSON configs…) on the
    // fly, which would break the Content-Length we send (clients saw the connection reset) and spend
    // CPU on gigabytes; model bytes go out as stored.
    "cache-control": "private, no-store, no-transform",
    "x-content-type-options": "nosniff",
  });
  if (head.ranges) {
    h.set("accept-ranges", "bytes");
    h.set("x-content-sha256", head.etag);
  } else h.set("accept-ranges", "none");
  return h;
}

/** Sets the body's length (Content-Length reaches the client through LENGTH_HEADER: lib/http/node-server.ts). */
function setLength(headers: Headers, bytes: number) {
  headers.set("content-length", String(bytes));
  headers.set(LENGTH_HEADER, String(bytes));
}

/** A HEAD answer: the headers a GET would send, no bytes read, nothing recorded. */
export function downloadHeadResponse(head: DownloadHead, range: { start: number; end: number } | undefined): Response {
  const headers = downloadHeaders(head);
  setLength(headers, range ? range.end - range.start + 1 : head.size);
  if (range) headers.set("content-range", `bytes ${range.start}-${range.end}/${head.size}`);
  return new Response(null, { status: range ? 206 : 200, headers });
}

/** 304 when the client already has exactly this (a ready version only: a quarantine must be seen). */
export function notModified(req: Request, head: DownloadHead, v: Pick<ModelVersion, "status">): Response | undefined {
  if (req.headers.get("if-none-match") === `"${head.etag}"` && v.status === "ready") {
    return new Response(null, { status: 304, headers: downloadHeaders(head) });
  }
  return undefined;
}

/**
 * A download's body. Next copies a web body into Node's response one chunk at a time (write, flush,
 * await drain): 0.55× a bare Node server in `npm run bench`. Behind our server (`res` known) the file
 * stream is piped straight into Node's response instead. Next still writes the status and headers
 * from the Response first; its first read of this placeholder body starts the pipe, and the body
 * closes once the file has been handed to the socket, so Next then ends the response as usual. A
 * client that hangs up destroys the file stream (its audit records what left); a read error destroys
 * the response, so the client sees a cut body, never a short one passed off as whole.
 */
function bodyOf(stream: Readable, res: http.ServerResponse | undefined): ReadableStream<Uint8Array> {
  if (!res) return Readable.toWeb(stream) as ReadableStream<Uint8Array>;
  // Next and the pipe each add a few 'close' listeners to the response: one fixed set, 11 in all,
  // which trips Node's leak warning (10). Not a leak: the response is this request's alone.
  res.setMaxListeners(Math.max(res.getMaxListeners(), 20));
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        await pipeline(stream, res, { end: false });
      } catch (e) {
        if (!res.destroyed) res.destroy(e as Error);
      }
      try {
        controller.close();
      } catch {
        // Next cancelled the body (the client went away) while the pipe ran.
      }
    },
    cancel() {
      stream.destroy();
    },
  });
}

/** Streams an opened download as a 200 or 206 response (`req` lets it write to Node's response directly). */
export function downloadResponse(d: Download, req?: Request): Response {
  const headers = downloadHeaders({ etag: d.etag, fileName: d.fileName, contentType: d.contentType, ranges: !!d.file });
  const partial = d.start !== 0 || d.end !== d.size - 1;
  setLength(headers, d.end - d.start + 1);
  if (partial) headers.set("content-range", `bytes ${d.start}-${d.end}/${d.size}`);
  return new Response(bodyOf(d.stream, req && rawResponseOf(req)), { status: partial ? 206 : 200, headers });
}

export interface DownloadRequest {
  org: string;
  model: string;
  version: string;
  path?: string;
  format?: ArchiveFormat;
  acknowledgeRisk?: boolean;
  via?: "link";
}

/**
 * GET and HEAD of a file or an archive, for the download routes and signed links alike: HEAD and a
 * conditional GET answer only what a GET would be allowed to (same checks, no bytes, no record).
 */
export async function serveDownload(
  req: Request,
  services: Services,
  principal: Principal,
  meta: RequestMeta,
  r: DownloadRequest,
): Promise<Response> {
  const target = r.format ? { format: r.format } : { path: r.path };
  const {
    model,
    version: v,
    files,
  } = await services.downloads.authorizeDownload(principal, r.org, r.model, r.version, {
    acknowledgeRisk: r.acknowledgeRisk,
    ...target,
  });
  const head = r.format ? await archiveHead(r.format, model, v, files) : fileHead(files[0]!);
  const fresh = notModified(req, head, v);
  if (fresh) return fresh;
  const range = requestedRange(req, head);
  if (req.method === "HEAD") return downloadHeadResponse(head, range);
  const d = await services.downloads.openDownload(
    principal,
    r.org,
    r.model,
    r.version,
    { range, acknowledgeRisk: r.acknowledgeRisk, ...(r.via ? { via: r.via } : {}), ...target },
    meta,
  );
  return downloadResponse(d, req);
}

/** ?format=zip|tar, or undefined; anything else is a 400. */
export function archiveFormatParam(url: URL): ArchiveFormat | undefined {
  const f = url.searchParams.get("format");
  if (f === null || f === "") return undefined;
  if (f === "zip" || f === "tar") return f;
  throw new AppError("bad_request", "format must be zip or tar.", { fields: { format: "Use zip or tar." } });
}
