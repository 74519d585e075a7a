import "server-only";
import { getConfig } from "@/lib/config";
import { AppError } from "@/lib/errors";
import type { BlobBody } from "@/lib/storage/blob-store";
import { apiCaller } from "./api";
import { rawRequestOf } from "./node-server";
import { extensionFromFileName, sanitizeFileName } from "@/lib/storage/object-key";
import { uploadMetadataSchema, type UploadMetadata } from "@/lib/validations/models";

/**
 * Reads an upload's headers and refuses what they already tell — too big (413), a file type we do
 * not store (415), bad metadata (422) — before a byte of the body is read.
 * X-Model-Metadata is JSON, or `base64:` + base64 JSON when it holds non-ASCII text.
 */
export function parseUploadHeaders(req: Request): {
  fileName: string;
  contentLength?: number;
  metadata: UploadMetadata;
  body: BlobBody;
} {
  const url = new URL(req.url);
  const rawName = url.searchParams.get("filename") ?? req.headers.get("x-file-name");
  if (!rawName)
    throw new AppError("invalid_input", "Say what the file is called: ?filename=model.pkl", { fields: { filename: "Required." } });
  const fileName = sanitizeFileName(rawName);
  extensionFromFileName(fileName);

  const lengthHeader = req.headers.get("content-length");
  let contentLength: number | undefined;
  if (lengthHeader !== null) {
    contentLength = Number(lengthHeader);
    if (!Number.isSafeInteger(contentLength) || contentLength < 0) throw new AppError("bad_request", "Invalid Content-Length.");
  }
  const max = getConfig().maxUploadBytes;
  if (contentLength !== undefined && contentLength > max) {
    throw new AppError("payload_too_large", `The file is ${contentLength} bytes; the limit is ${max} bytes.`, { limit: max });
  }
  if (contentLength === 0 || !req.body) throw new AppError("invalid_model_file", "The file is empty.");

  let metadata: UploadMetadata = {};
  const rawMeta = req.headers.get("x-model-metadata");
  if (rawMeta) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(rawMeta.startsWith("base64:") ? Buffer.from(rawMeta.slice(7), "base64").toString("utf8") : rawMeta);
    } catch {
      throw new AppError("bad_request", "X-Model-Metadata is not valid JSON.");
    }
    metadata = uploadMetadataSchema.parse(parsed);
  }
  const sha = req.headers.get("x-content-sha256");
  if (sha) metadata = uploadMetadataSchema.parse({ ...metadata, sha256: sha.toLowerCase() });
  // Node's own request stream when we have it (lib/http/node-server.ts): fewer layers per chunk.
  return { fileName, contentLength, metadata, body: rawRequestOf(req) ?? req.body };
}

/** The raw body of one file of a commit (PUT …/commits/{id}/files/{path}): its length checked first. */
export function parseFileBody(req: Request): { contentLength?: number; body: BlobBody } {
  const lengthHeader = req.headers.get("content-length");
  let contentLength: number | undefined;
  if (lengthHeader !== null) {
    contentLength = Number(lengthHeader);
    if (!Number.isSafeInteger(contentLength) || contentLength < 0) throw new AppError("bad_request", "Invalid Content-Length.");
  }
  const max = getConfig().maxUploadBytes;
  if (contentLength !== undefined && contentLength > max) {
    throw new AppError("payload_too_large", `The file is ${contentLength} bytes; the limit is ${max} bytes.`, { limit: max });
  }
  if (contentLength === 0 || !req.body) throw new AppError("invalid_model_file", "The file is empty.");
  return { contentLength, body: rawRequestOf(req) ?? req.body };
}

/**
 * Records an upload refused from its headers alone (415 type, 422 empty or bad metadata) in the
 * organization's audit trail, when the caller is a signed-in member; then the caller rethrows.
 */
export async function recordRefusedUpload(req: Request, where: { org: string; model: string; version: string }, e: unknown) {
  try {
    const { principal, services, meta } = await apiCaller(req);
    await services.uploads.commits.refusals.recordRefusal(principal, e, where, meta);
  } catch {
    // Not signed in (or not a member): nothing to record; the original error is what the client gets.
  }
}
