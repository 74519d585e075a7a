import { DetailedError } from "tus-js-client";
import { AppError, isAppError, type ErrorCode } from "@/lib/errors";

// ---------------------------------------------------------------------------------------------
// Errors: one table from Supabase's error codes / status codes to ours.

/**
 * Supabase Storage answers errors as HTTP 400 with `{ statusCode: "404", code: "NoSuchKey",
 * error, message }`; older servers omit `code`. Keys are the `code`, the `error` name, or the
 * status (from the body's statusCode, else the HTTP status) — looked up in that order.
 */
export const SUPABASE_ERROR_CODES: Readonly<Record<string, ErrorCode>> = {
  NoSuchKey: "not_found",
  NoSuchBucket: "not_found",
  NoSuchUpload: "not_found",
  not_found: "not_found",
  "Bucket not found": "not_found",
  KeyAlreadyExists: "conflict",
  ResourceAlreadyExists: "conflict",
  Duplicate: "conflict",
  ResourceLocked: "conflict",
  InvalidJWT: "unauthorized",
  ExpiredToken: "unauthorized",
  AccessDenied: "forbidden",
  SignatureDoesNotMatch: "forbidden",
  InvalidSignature: "forbidden",
  EntityTooLarge: "payload_too_large",
  "Payload too large": "payload_too_large",
  InvalidMimeType: "unsupported_media_type",
  invalid_mime_type: "unsupported_media_type",
  InvalidRange: "range_not_satisfiable",
  invalid_range: "range_not_satisfiable",
  InvalidKey: "bad_request",
  InvalidBucketName: "bad_request",
  InvalidRequest: "bad_request",
  InvalidParameter: "bad_request",
  MissingParameter: "bad_request",
  MissingContentLength: "bad_request",
  InvalidUploadId: "bad_request",
  SlowDown: "rate_limited",
  TenantNotFound: "unavailable",
  DatabaseTimeout: "unavailable",
  DatabaseConnectionLimit: "unavailable",
  DatabaseReadOnly: "unavailable",
  LockTimeout: "unavailable",
  InternalError: "unavailable",
  DatabaseError: "unavailable",
  "400": "bad_request",
  "401": "unauthorized",
  "403": "forbidden",
  "404": "not_found",
  "409": "conflict",
  "412": "conflict",
  "413": "payload_too_large",
  "415": "unsupported_media_type",
  "416": "range_not_satisfiable",
  "423": "conflict",
  "429": "rate_limited",
};

export const MESSAGES: Partial<Record<ErrorCode, string>> = {
  not_found: "No such object.",
  conflict: "An object already exists at this key; stored objects are never overwritten.",
  unauthorized: "Supabase Storage did not accept the session. Sign in again.",
  forbidden: "Supabase Storage refused this for your account (storage policies).",
  payload_too_large: "The file is larger than the storage bucket allows.",
  unsupported_media_type: "The storage bucket does not accept this content type.",
  range_not_satisfiable: "The requested range is outside the object.",
  bad_request: "Supabase Storage rejected the request.",
  rate_limited: "Supabase Storage is rate limiting requests; try again shortly.",
  unavailable: "Supabase Storage is unavailable right now.",
};

const EXPIRED_JWT = /"exp" claim|jwt expired|token (?:is )?expired|ExpiredToken/i;
export const SESSION_EXPIRED = "Your session expired before Supabase Storage finished this request. Sign in again and retry.";

export interface SupabaseErrorShape {
  /** HTTP status of the response (Supabase uses 400 for most errors). */
  status?: number;
  /** The real status, as a string, from the JSON body. */
  statusCode?: string | number;
  code?: string;
  error?: string;
  message?: string;
}

/** Maps a Supabase Storage error (REST body, SDK error or transport failure) to an AppError. */
export function mapSupabaseError(e: unknown): AppError {
  if (isAppError(e)) return e;
  const shape = (e && typeof e === "object" ? e : {}) as SupabaseErrorShape & { __isStorageError?: boolean; name?: string };
  const keys = [
    shape.code,
    shape.error,
    shape.statusCode !== undefined ? String(shape.statusCode) : undefined,
    shape.status !== undefined ? String(shape.status) : undefined,
  ];
  let code: ErrorCode | undefined;
  for (const k of keys) {
    if (k && Object.hasOwn(SUPABASE_ERROR_CODES, k)) {
      code = SUPABASE_ERROR_CODES[k];
      break;
    }
  }
  const upstream = shape.statusCode ?? shape.status;
  // Storage verifies the caller's JWT on every request (each tus chunk too) and answers an expired one
  // as AccessDenied 403 with jose's message ('"exp" claim timestamp check failed'): not a policy refusal.
  if ((code === "forbidden" || code === "unauthorized") && EXPIRED_JWT.test(`${shape.message ?? ""} ${shape.error ?? ""}`)) {
    return new AppError(
      "unauthorized",
      SESSION_EXPIRED,
      { reason: "session_expired", upstream: { status: upstream, code: shape.code } },
      { cause: e },
    );
  }
  if (!code) {
    const numeric = Number(upstream);
    // 5xx, unknown shapes and transport failures (fetch failed, ECONNREFUSED, StorageUnknownError).
    code = Number.isFinite(numeric) && numeric >= 400 && numeric < 500 ? "bad_request" : "unavailable";
  }
  const details: Record<string, unknown> = { upstream: { status: upstream, code: shape.code ?? shape.error } };
  if (code === "unavailable" || code === "bad_request") console.error("[supabase-storage]", shape.message ?? e);
  return new AppError(code, MESSAGES[code] ?? "Supabase Storage failed.", details, { cause: e });
}

/** Parses an error response body (JSON or text) into the documented shape. */
export function parseSupabaseErrorBody(status: number, text: string): SupabaseErrorShape {
  try {
    const body = JSON.parse(text) as unknown;
    if (body && typeof body === "object") return { status, ...(body as SupabaseErrorShape) };
  } catch {
    // tus and gateways may answer plain text.
  }
  return { status, message: text.slice(0, 500) };
}

export function fromTusError(e: unknown): AppError {
  if (e instanceof DetailedError && e.originalResponse) {
    return mapSupabaseError(parseSupabaseErrorBody(e.originalResponse.getStatus(), e.originalResponse.getBody()));
  }
  return mapSupabaseError(e);
}
