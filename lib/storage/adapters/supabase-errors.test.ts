// Our table from Supabase Storage's error shapes (HTTP 400 with the real status as a string in
// `statusCode`, see supabase-storage-openapi.json and the real server's answers) to our error codes.
import { describe, expect, it } from "vitest";
import { AppError } from "@/lib/errors";
import { mapSupabaseError, parseSupabaseErrorBody } from "./supabase-errors";

describe("mapSupabaseError (our table)", () => {
  it.each<[string, unknown, AppError["code"]]>([
    ["NoSuchKey", { status: 400, statusCode: "404", code: "NoSuchKey", error: "not_found", message: "Object not found" }, "not_found"],
    ["old not_found (no code)", { status: 400, statusCode: "404", error: "not_found", message: "Object not found" }, "not_found"],
    [
      "Bucket not found",
      { status: 400, statusCode: "404", code: "NoSuchBucket", error: "Bucket not found", message: "Bucket not found" },
      "not_found",
    ],
    [
      "KeyAlreadyExists",
      { status: 400, statusCode: "409", code: "KeyAlreadyExists", error: "Duplicate", message: "The resource already exists" },
      "conflict",
    ],
    ["old Duplicate", { status: 400, statusCode: "409", error: "Duplicate", message: "The resource already exists" }, "conflict"],
    [
      "RLS",
      {
        status: 400,
        statusCode: "403",
        code: "AccessDenied",
        error: "Unauthorized",
        message: "new row violates row-level security policy",
      },
      "forbidden",
    ],
    [
      "old RLS (no code)",
      { status: 400, statusCode: "403", error: "Unauthorized", message: "new row violates row-level security policy" },
      "forbidden",
    ],
    ["InvalidJWT", { status: 400, statusCode: "400", code: "InvalidJWT", error: "invalid_jwt", message: "jwt expired" }, "unauthorized"],
    [
      "EntityTooLarge",
      {
        status: 400,
        statusCode: "413",
        code: "EntityTooLarge",
        error: "Payload too large",
        message: "The object exceeded the maximum allowed size",
      },
      "payload_too_large",
    ],
    [
      "InvalidMimeType",
      { status: 400, statusCode: "415", code: "InvalidMimeType", error: "invalid_mime_type", message: "mime type x is not supported" },
      "unsupported_media_type",
    ],
    [
      "InvalidRange (a 400 upstream)",
      { status: 400, statusCode: "400", code: "InvalidRange", error: "invalid_range", message: "invalid range provided" },
      "range_not_satisfiable",
    ],
    ["InvalidKey", { status: 400, statusCode: "400", code: "InvalidKey", message: "Invalid key: x" }, "bad_request"],
    [
      "ResourceLocked (tus upload in progress)",
      { status: 400, statusCode: "423", code: "ResourceLocked", message: "The resource is locked" },
      "conflict",
    ],
    ["SlowDown", { status: 400, statusCode: "429", code: "SlowDown" }, "rate_limited"],
    ["DatabaseTimeout (544)", { status: 400, statusCode: "544", code: "DatabaseTimeout" }, "unavailable"],
    ["InternalError", { status: 400, statusCode: "500", code: "InternalError" }, "unavailable"],
    ["real HTTP 404 without body", { status: 404 }, "not_found"],
    ["real HTTP 502 from a gateway", { status: 502, message: "Bad Gateway" }, "unavailable"],
    [
      "SDK StorageApiError",
      Object.assign(new Error("Object not found"), { __isStorageError: true, status: 400, statusCode: "404" }),
      "not_found",
    ],
    ["fetch failed", new TypeError("fetch failed"), "unavailable"],
    ["ECONNREFUSED", Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }), "unavailable"],
    ["unknown 4xx", { status: 400, statusCode: "418" }, "bad_request"],
  ])("%s", (_label, input, code) => {
    const e = mapSupabaseError(input);
    expect(e).toBeInstanceOf(AppError);
    expect(e.code).toBe(code);
  });

  it("an expired access token reads as an expired session, not as a policy refusal", () => {
    // What the real server answers a tus chunk sent after the token expired (HTTP 400, 403 inside).
    const expired = mapSupabaseError(
      parseSupabaseErrorBody(
        400,
        '{"statusCode":"403","code":"AccessDenied","error":"Unauthorized","message":"\\"exp\\" claim timestamp check failed"}',
      ),
    );
    expect({ code: expired.code, reason: (expired.details as { reason?: string }).reason }).toEqual({
      code: "unauthorized",
      reason: "session_expired",
    });
    expect(expired.message).toMatch(/session expired/);
    const refused = mapSupabaseError(
      parseSupabaseErrorBody(
        400,
        '{"statusCode":"403","code":"AccessDenied","error":"Unauthorized","message":"new row violates row-level security policy"}',
      ),
    );
    expect(refused.code).toBe("forbidden");
  });

  it("keeps AppErrors as they are", () => {
    const original = new AppError("checksum_mismatch", "x");
    expect(mapSupabaseError(original)).toBe(original);
  });

  it("parses JSON and plain-text error bodies", () => {
    expect(parseSupabaseErrorBody(400, '{"statusCode":"404","code":"NoSuchKey","error":"not_found","message":"Object not found"}')).toEqual(
      {
        status: 400,
        statusCode: "404",
        code: "NoSuchKey",
        error: "not_found",
        message: "Object not found",
      },
    );
    expect(parseSupabaseErrorBody(409, "Upload already exists")).toEqual({ status: 409, message: "Upload already exists" });
  });
});
