/**
 * One error type for the whole app. `code` is stable (clients branch on it), `message` is safe to
 * show, `details` carries field errors. Internals are logged by toResponse(), never returned.
 */
export type ErrorCode =
  | "bad_request"
  | "invalid_input"
  | "unauthorized"
  | "forbidden"
  | "not_found"
  | "conflict"
  | "payload_too_large"
  | "unsupported_media_type"
  | "length_mismatch"
  | "checksum_mismatch"
  | "range_not_satisfiable"
  | "rate_limited"
  | "quarantined"
  | "invalid_model_file"
  | "unavailable"
  | "internal";

const STATUS: Record<ErrorCode, number> = {
  bad_request: 400,
  invalid_input: 422,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  length_mismatch: 400,
  checksum_mismatch: 422,
  range_not_satisfiable: 416,
  rate_limited: 429,
  quarantined: 403,
  invalid_model_file: 422,
  unavailable: 503,
  internal: 500,
};

// IMPORTANT: Next bundles this module into several server chunks, so `instanceof AppError` can be
// false for a real AppError thrown from another chunk. Check the brand (isAppError) instead.
const BRAND = Symbol.for("fairmind.AppError");

export class AppError extends Error {
  readonly status: number;
  readonly [BRAND] = true;
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "AppError";
    this.status = STATUS[code];
  }

  toJSON() {
    return { error: { code: this.code, message: this.message, ...(this.details ? { details: this.details } : {}) } };
  }
}

export const isAppError = (e: unknown): e is AppError =>
  typeof e === "object" && e !== null && (e as Record<symbol, unknown>)[BRAND] === true;

/** Maps any thrown value to an AppError; unknown errors become a generic 500 (and are logged). */
export function toAppError(e: unknown): AppError {
  if (isAppError(e)) return e;
  if (e && typeof e === "object" && "name" in e && (e as { name: string }).name === "ZodError") {
    const issues = (e as unknown as { issues: { path: (string | number)[]; message: string }[] }).issues;
    const fields: Record<string, string> = {};
    for (const i of issues) fields[i.path.join(".") || "_"] = i.message;
    return new AppError("invalid_input", "Some fields are invalid.", { fields });
  }
  console.error("[internal error]", e);
  return new AppError("internal", "Something went wrong on our side. The error was logged.");
}

/** The one place an error becomes an HTTP response. */
export function toResponse(e: unknown, headers?: HeadersInit): Response {
  const err = toAppError(e);
  return Response.json(err.toJSON(), { status: err.status, headers });
}
