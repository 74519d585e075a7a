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
  | "request_timeout"
  | "unavailable"
  | "stored_file_damaged"
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
  request_timeout: 408,
  unavailable: 503,
  stored_file_damaged: 500,
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

const fmtBytes = (n: number) => `${n} bytes`;

/**
 * The catalogue: every error the app raises on purpose, one message each (supabase/storage's
 * `ERRORS.NoSuchKey()` style). Services throw these; lib/http maps them to responses once.
 */
export const ERRORS = {
  // who you are
  signInRequired: () => new AppError("unauthorized", "Sign in, or send 'Authorization: Bearer <token>'."),
  sessionEnded: () => new AppError("unauthorized", "Your session has ended. Sign in again."),
  sessionExpired: () => new AppError("unauthorized", "Your session has expired. Sign in again."),
  badAuthorizationHeader: () => new AppError("unauthorized", "Use 'Authorization: Bearer <token>'."),
  invalidSessionToken: () => new AppError("unauthorized", "Invalid or tampered session token."),
  invalidAccessToken: () => new AppError("unauthorized", "Invalid or expired access token."),
  unknownApiToken: () => new AppError("unauthorized", "This API token is unknown, revoked or expired."),
  wrongCredentials: () => new AppError("unauthorized", "Wrong e-mail address or password."),
  tooManySignIns: (retryAfterSeconds: number) =>
    new AppError("rate_limited", `Another sign-in for this account is in progress. Try again in ${retryAfterSeconds} s.`, {
      retryAfterSeconds,
    }),
  emailTaken: () =>
    new AppError("conflict", "An account with this e-mail address already exists.", { fields: { email: "Already registered." } }),
  invalidLink: () => new AppError("unauthorized", "This download link is invalid or has expired."),
  // what you may do
  readOnlyRole: () => new AppError("forbidden", "Your role in this organization is read-only."),
  needsRole: (role: string) => new AppError("forbidden", `This needs the ${role} role.`),
  tokensCannotCreateTokens: () => new AppError("forbidden", "API tokens cannot create other tokens."),
  tokensCannotCreateOrgs: () => new AppError("forbidden", "API tokens cannot create organizations."),
  quarantinedForRole: () =>
    new AppError(
      "quarantined",
      "This version is quarantined: its scan found code that can run when it is loaded. Only an owner or admin can download it.",
    ),
  quarantinedNeedsAck: () =>
    new AppError("quarantined", "This version is quarantined. Pass acknowledge_risk=true to download it anyway (this is audited)."),
  // what exists
  noSuchEndpoint: () => new AppError("not_found", "No such API endpoint."),
  noSuchOrg: () => new AppError("not_found", "No such organization."),
  noSuchModel: () => new AppError("not_found", "No such model."),
  noSuchVersion: (model?: string, version?: string) =>
    new AppError("not_found", version && model ? `Version ${version} of ${model} does not exist.` : "No such version."),
  versionDeleted: (version: string) => new AppError("not_found", `Version ${version} was deleted.`),
  versionAlreadyDeleted: (version: string) => new AppError("not_found", `Version ${version} is already deleted.`),
  objectNotVisible: () => new AppError("not_found", "The stored file for this version is not available to you."),
  noSuchUpload: () => new AppError("not_found", "This upload is unknown, finished or abandoned."),
  nothingUploaded: () => new AppError("not_found", "Nothing was uploaded for this reservation yet."),
  noSuchToken: () => new AppError("not_found", "No such active token."),
  noSuchWebhook: () => new AppError("not_found", "No such webhook endpoint."),
  noSuchWebhookDelivery: () => new AppError("not_found", "No such webhook delivery."),
  // what you sent
  invalidCursor: () => new AppError("bad_request", "Invalid cursor."),
  invalidJson: () => new AppError("bad_request", "The body is not valid JSON."),
  jsonTooLarge: (limit: number) => new AppError("payload_too_large", `The JSON body is larger than ${fmtBytes(limit)}.`, { limit }),
  invalidField: (field: string, message: string, summary = "Some fields are invalid.") =>
    new AppError("invalid_input", summary, { fields: { [field]: message } }),
  fileTooLarge: (limit: number, size?: number) =>
    new AppError(
      "payload_too_large",
      size !== undefined
        ? `The file is ${fmtBytes(size)}; the limit is ${fmtBytes(limit)}.`
        : `The file is larger than the limit of ${fmtBytes(limit)}.`,
      { limit },
    ),
  emptyFile: () => new AppError("invalid_model_file", "The file is empty."),
  notAModel: (reason: string | undefined, details: Record<string, unknown>) =>
    new AppError("invalid_model_file", `This file is not a usable model file: ${reason ?? "its content could not be read"}.`, details),
  storedSizeMismatch: (stored: number, announced: number) =>
    new AppError("length_mismatch", `The stored file is ${fmtBytes(stored)}, not the ${fmtBytes(announced)} announced.`),
  checksumMismatch: () => new AppError("checksum_mismatch", "The SHA-256 of the received bytes does not match the one announced."),
  rangeNotSatisfiable: (size: number | null) => new AppError("range_not_satisfiable", "The requested range is outside the file.", { size }),
  // state
  versionTaken: (model: string, version: string) =>
    new AppError(
      "conflict",
      `Version ${version} of ${model} already exists (or is being uploaded). Versions are immutable: upload a new version.`,
    ),
  modelTaken: (slug: string) => new AppError("conflict", `A model called '${slug}' already exists in this organization.`),
  orgSlugTaken: () => new AppError("conflict", "That organization slug is taken. Pick another."),
  uploadGone: () => new AppError("conflict", "This upload was abandoned or already finished."),
  noSuchCommit: () => new AppError("not_found", "This commit is unknown, finished or abandoned (or its lease was taken over)."),
  noSuchFileInCommit: (path: string) => new AppError("not_found", `The commit has no file at ${path}.`, { path }),
  noSuchFile: (path: string) => new AppError("not_found", `The version has no file at ${path}.`, { path }),
  filesMissing: (paths: string[]) =>
    new AppError(
      "conflict",
      `${paths.length} file(s) of this commit are not uploaded yet: ${paths.slice(0, 5).join(", ")}${paths.length > 5 ? ", …" : ""}.`,
      {
        missing: paths.slice(0, 100),
        missing_count: paths.length,
      },
    ),
  fileNotAModel: (path: string, reason: string | undefined, details: Record<string, unknown>) =>
    new AppError("invalid_model_file", `${path} is not a usable model file: ${reason ?? "its content could not be read"}.`, {
      path,
      ...details,
    }),
  invalidLayout: (problems: { path?: string; message: string }[]) =>
    new AppError(
      "invalid_model_file",
      `The folder is not a valid model: ${problems
        .map((p) => (p.path ? `${p.path}: ${p.message}` : p.message))
        .slice(0, 3)
        .join("; ")}.`,
      { problems: problems.slice(0, 50) },
    ),
  noModelFile: () =>
    new AppError(
      "invalid_model_file",
      "None of these files is a model (weights, a serialized model or a model config); nothing was stored.",
    ),
  singleFileOnly: (files: number) =>
    new AppError(
      "conflict",
      `This version has ${files} files: download one by path (…/files/{path}) or the whole version as an archive (?format=zip or tar).`,
      {
        file_count: files,
      },
    ),
  aliasNeedsReadyVersion: (version: string, status: string) =>
    new AppError("conflict", `Version ${version} is ${status}; only a ready version can carry an alias.`),
  unavailable: (message: string) => new AppError("unavailable", message),
  databaseUnavailable: () => new AppError("unavailable", "The database is not answering right now. Try again in a moment."),
  bodyTimeout: () => new AppError("request_timeout", "The request body stopped arriving. Send it again."),
  invalidText: () => new AppError("bad_request", "Text may not contain NUL characters or invalid UTF-8."),
  crossSiteRequest: () =>
    new AppError("forbidden", "Cross-site requests may not change anything. Call the API from this site, or with a bearer token."),
  storedFileDamaged: () =>
    new AppError(
      "stored_file_damaged",
      "The stored file failed its integrity check and was not served. An administrator has to restore it.",
    ),
} as const;

/** Maps any thrown value to an AppError; unknown errors become a generic 500 (and are logged). */
export function toAppError(e: unknown): AppError {
  if (isAppError(e)) return e;
  if (e && typeof e === "object" && "name" in e && (e as { name: string }).name === "ZodError") {
    const issues = (e as unknown as { issues: { path: (string | number)[]; message: string }[] }).issues;
    const fields: Record<string, string> = {};
    for (const i of issues) fields[i.path.join(".") || "_"] = i.message;
    return new AppError("invalid_input", "Some fields are invalid.", { fields });
  }
  const mapped = fromDriverError(e);
  if (mapped) return mapped;
  console.error("[internal error]", e);
  return new AppError("internal", "Something went wrong on our side. The error was logged.");
}

// Postgres SQLSTATE classes and driver failures that are the caller's input or a passing outage,
// never a bug to answer with 500: the backstop under the validation at the boundary.
const CONNECTION_FAILURE =
  /Connection terminated|ECONNRESET|ECONNREFUSED|connection timeout|Client has encountered a connection error|terminating connection/i;

function fromDriverError(e: unknown): AppError | undefined {
  const err = e as { code?: unknown; message?: unknown };
  const code = typeof err?.code === "string" ? err.code : "";
  const message = typeof err?.message === "string" ? err.message : "";
  // 22xxx data exceptions: NUL in text (22021), bad dates and numbers, out-of-range values.
  if (/^22[0-9A-Z]{3}$/.test(code)) return new AppError("invalid_input", "Some values are not valid.");
  // 08xxx connection exceptions, 57P0x operator intervention (server shutting down, crash recovery).
  if (/^(08[0-9A-Z]{3}|57P0[1-3])$/.test(code) || code === "ECONNRESET" || code === "ECONNREFUSED" || CONNECTION_FAILURE.test(message)) {
    console.error("[database unavailable]", message || code);
    return ERRORS.databaseUnavailable();
  }
  return undefined;
}

/** The one place an error becomes an HTTP response. */
export function toResponse(e: unknown, headers?: HeadersInit): Response {
  const err = toAppError(e);
  const h = new Headers(headers);
  // A retryable outage says when to come back (RFC 9110 §10.2.3).
  if (err.status === 503 && !h.has("retry-after")) h.set("retry-after", "5");
  if (err.code === "rate_limited" && typeof err.details?.retryAfterSeconds === "number")
    h.set("retry-after", String(err.details.retryAfterSeconds));
  return Response.json(err.toJSON(), { status: err.status, headers: h });
}
