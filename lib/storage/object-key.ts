import { z } from "zod";
import { AppError } from "@/lib/errors";
import { ALLOWED_EXTENSIONS, isAllowedExtension, type AllowedExtension } from "./limits";

// Object keys are built by the server from validated parts (never from a client file name), and
// every adapter checks them again with mustBeValidKey() before touching a disk or a network.

export const orgSlugSchema = z.string().regex(/^[a-z0-9][a-z0-9_-]{1,62}$/, "Use 2–63 lowercase letters, digits, '_' or '-'.");
export const modelSlugSchema = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,99}$/, "Use lowercase letters, digits, '_' or '-' (max 100).");
/**
 * MAJOR[.MINOR[.PATCH]] with an optional pre-release (`1.0.0-rc.1`, `2-beta`); no leading zeros.
 * Pre-release identifiers are non-empty, so a version never ends in "." or contains "..".
 */
export const versionSchema = z
  .string()
  .max(64)
  .regex(
    /^(0|[1-9]\d*)(\.(0|[1-9]\d*)){0,2}(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$/,
    "Use MAJOR[.MINOR[.PATCH]] with an optional -pre-release, e.g. 2.1 or 1.0.0-rc.1.",
  );

export const MAX_KEY_BYTES = 1024;
/** Longest path segment most file systems accept (NAME_MAX). */
const MAX_SEGMENT_BYTES = 255;

const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f]/;
const KEY_CHARS = /^[A-Za-z0-9._\/-]+$/;

const encoder = new TextEncoder();

function rejectKey(reason: string): never {
  throw new AppError("bad_request", `Invalid object key: ${reason}.`, { reason });
}

/**
 * Throws AppError("bad_request") unless `key` is a safe relative object key: segments of
 * [A-Za-z0-9._-] separated by "/", no empty, "." or ".." segments, no segment starting or ending
 * with "." (hidden files, the local store's .tmp, Windows' trailing-dot trimming), no control
 * characters, backslashes, percent-encoding or non-ASCII look-alikes, at most 1024 bytes.
 */
export function mustBeValidKey(key: string): void {
  if (typeof key !== "string" || key.length === 0) rejectKey("empty");
  if (encoder.encode(key).length > MAX_KEY_BYTES) rejectKey(`longer than ${MAX_KEY_BYTES} bytes`);
  if (CONTROL_CHARS.test(key)) rejectKey("control character");
  if (key.includes("\\")) rejectKey("backslash");
  if (key.includes("%")) rejectKey("percent-encoding");
  if (key.normalize("NFC") !== key) rejectKey("not NFC-normalised");
  if (key.startsWith("/")) rejectKey("absolute path");
  // IMPORTANT: the allow-list is what stops Unicode look-alikes ("．．", "∕", "\u2024\u2024").
  if (!KEY_CHARS.test(key)) rejectKey("character outside [A-Za-z0-9._-/]");
  for (const segment of key.split("/")) {
    if (segment === "") rejectKey("empty path segment");
    if (segment === "." || segment === "..") rejectKey("relative path segment");
    if (segment.startsWith(".")) rejectKey("segment starts with '.'");
    if (segment.endsWith(".")) rejectKey("segment ends with '.'");
    if (segment.length > MAX_SEGMENT_BYTES) rejectKey(`path segment longer than ${MAX_SEGMENT_BYTES} bytes`);
  }
}

/** True when mustBeValidKey(key) would not throw. */
export function isValidKey(key: string): boolean {
  try {
    mustBeValidKey(key);
    return true;
  } catch {
    return false;
  }
}

/** The allowed extension of a file name, lower-cased; AppError("unsupported_media_type") otherwise. */
export function extensionFromFileName(fileName: string): AllowedExtension {
  const m = /\.([A-Za-z0-9]+)$/.exec(fileName.trim());
  const ext = m?.[1]?.toLowerCase();
  if (!ext || !isAllowedExtension(ext)) {
    throw new AppError("unsupported_media_type", `Model files must end in one of: ${ALLOWED_EXTENSIONS.map((e) => `.${e}`).join(", ")}.`, {
      allowed: [...ALLOWED_EXTENSIONS],
    });
  }
  return ext;
}

export interface ObjectKeyParts {
  orgSlug: string;
  modelSlug: string;
  version: string;
  ext: string;
}

const keyPartsSchema = z.object({
  orgSlug: orgSlugSchema,
  modelSlug: modelSlugSchema,
  version: versionSchema,
  ext: z.enum(ALLOWED_EXTENSIONS),
});

/**
 * `<org_slug>/<model_slug>_v<version>.<ext>`, e.g. `demo_org/credit_risk_v2.1.pkl`. Unambiguous:
 * versions contain no "_", so the last "_v" splits model from version. AppError("invalid_input")
 * with field errors when a part is invalid.
 */
export function buildObjectKey(parts: ObjectKeyParts): string {
  const parsed = keyPartsSchema.safeParse(parts);
  if (!parsed.success) {
    const fields: Record<string, string> = {};
    for (const issue of parsed.error.issues) fields[issue.path.join(".") || "_"] ??= issue.message;
    throw new AppError("invalid_input", "The object key cannot be built from these values.", { fields });
  }
  const { orgSlug, modelSlug, version, ext } = parsed.data;
  const key = `${orgSlug}/${modelSlug}_v${version}.${ext}`;
  mustBeValidKey(key);
  return key;
}

const BLOB_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * `<org_slug>/blobs/<first two hex digits>/<blob id>`: where a blob's bytes live. The organization's
 * folder first (the storage policies key on it); the id, not the content hash, so that two uploads of
 * the same bytes never race for one key; two hex digits of fan-out keep directories small on disk.
 */
export function blobKey(orgSlug: string, blobId: string): string {
  if (!orgSlugSchema.safeParse(orgSlug).success || !BLOB_ID.test(blobId))
    throw new AppError("internal", "Cannot build a blob key from these values.");
  const key = `${orgSlug}/blobs/${blobId.slice(0, 2)}/${blobId}`;
  mustBeValidKey(key);
  return key;
}

/** Like mustBeValidKey for a list() prefix: "" (everything), a folder ("org/") or a partial name. */
export function mustBeValidPrefix(prefix: string): void {
  if (prefix === "") return;
  // A prefix is valid when some key could start with it; "x" completes "org/" and "org/model_v1.".
  mustBeValidKey(`${prefix}x`);
}

/** Keeps the client's file name for display only: never used in a path. */
export function sanitizeFileName(name: string): string {
  const base = name.normalize("NFC").split(/[\\/]/).pop() ?? "";
  const clean = base
    .replace(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g, "")
    .trim()
    .slice(0, 255)
    // A lone surrogate (sent, or made by the cut above) cannot be stored: shown as U+FFFD instead.
    .toWellFormed();
  if (!clean || clean === "." || clean === "..")
    throw new AppError("invalid_input", "Invalid file name.", { fields: { filename: "Give the file a name." } });
  return clean;
}
