import "server-only";
import { Readable } from "node:stream";
import { AppError } from "@/lib/errors";
import { LENGTH_HEADER } from "./node-server";
import { parseRange } from "@/lib/storage/http-range";
import type { Download } from "@/lib/storage/downloads";
import type { ModelVersion } from "@/lib/storage/types";

/** Range to ask the store for, from the request and the version's size (416 when unsatisfiable). */
export function requestedRange(req: Request, v: Pick<ModelVersion, "size_bytes" | "sha256">) {
  const ifRange = req.headers.get("if-range");
  if (ifRange && ifRange !== `"${v.sha256}"`) return undefined;
  const r = parseRange(req.headers.get("range"), v.size_bytes ?? 0);
  if (r === "unsatisfiable")
    throw new AppError("range_not_satisfiable", "The requested range is outside the file.", { size: v.size_bytes });
  return r ?? undefined;
}

/** The headers every download carries: ETag and X-Content-SHA256 are the file's SHA-256. */
export function downloadHeaders(v: Pick<ModelVersion, "sha256" | "size_bytes" | "content_type">, fileName: string): Headers {
  return new Headers({
    "accept-ranges": "bytes",
    etag: `"${v.sha256}"`,
    "x-content-sha256": v.sha256 ?? "",
    "content-type": "application/octet-stream",
    "content-disposition": `attachment; filename="${fileName.replace(/[^A-Za-z0-9._-]/g, "_")}"`,
    "cache-control": "private, no-store",
    "x-content-type-options": "nosniff",
  });
}

/** Sets the body's length (Content-Length reaches the client through LENGTH_HEADER: lib/http/node-server.ts). */
function setLength(headers: Headers, bytes: number) {
  headers.set("content-length", String(bytes));
  headers.set(LENGTH_HEADER, String(bytes));
}

/** A HEAD answer from the version row: the headers a GET would send, no bytes read, nothing recorded. */
export function downloadHeadResponse(v: ModelVersion, range: { start: number; end: number } | undefined): Response {
  const headers = downloadHeaders(v, v.object_key.split("/").pop()!);
  const size = v.size_bytes ?? 0;
  setLength(headers, range ? range.end - range.start + 1 : size);
  if (range) headers.set("content-range", `bytes ${range.start}-${range.end}/${size}`);
  return new Response(null, { status: range ? 206 : 200, headers });
}

/** Streams an opened download as a 200 or 206 response. */
export function downloadResponse(d: Download): Response {
  const headers = downloadHeaders(d.version, d.fileName);
  const partial = d.start !== 0 || d.end !== d.size - 1;
  setLength(headers, d.end - d.start + 1);
  if (partial) headers.set("content-range", `bytes ${d.start}-${d.end}/${d.size}`);
  return new Response(Readable.toWeb(d.stream) as ReadableStream<Uint8Array>, { status: partial ? 206 : 200, headers });
}
