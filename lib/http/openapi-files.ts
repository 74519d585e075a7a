import { z } from "zod";
import { versionResponse } from "@/lib/validations/api";
import { commitFileResponse, commitResponse, compareResponse, versionFilesResponse } from "@/lib/validations/api-files";
import { createCommitSchema } from "@/lib/validations/files";
import type { Method, Operation } from "./openapi-types";

// The file-set operations of REST API v1 (commits, a version's files, compare), part of the OpenAPI
// document lib/http/openapi.ts generates.

const ORGM = "/api/v1/orgs/{org}/models/{model}";

export const FILE_OPERATIONS: Record<string, Partial<Record<Method, Operation>>> = {
  [`${ORGM}/commits`]: {
    post: {
      summary: "Start a version of one or more files: announce each file's path, size and SHA-256",
      description:
        "The answer lists every file as `stored` (the organization already has these bytes: nothing to send, nothing stored or billed twice) or `upload` (send them with PUT …/commits/{id}/files/{path}, or resumably with tus at /api/v1/uploads and the metadata given). Then POST …/complete: the version appears with all its files, or not at all. The commit is a lease renewed by every upload; an abandoned one frees its version number.",
      body: createCommitSchema,
      ok: { status: 201, description: "The commit", schema: commitResponse },
      errors: [400, 401, 403, 404, 409, 413, 422],
    },
  },
  [`${ORGM}/commits/{id}`]: {
    get: {
      summary: "Your pending commit: which files are stored, which still to send (resuming)",
      ok: { status: 200, description: "The commit", schema: commitResponse },
      errors: [401, 404],
    },
    delete: {
      summary: "Abandon the commit (the version number is free again; nothing becomes visible)",
      ok: { status: 204, description: "Abandoned" },
      errors: [401, 404],
    },
  },
  [`${ORGM}/commits/{id}/files/{path}`]: {
    put: {
      summary: "Send one file of the commit (raw body; checked against its announced size and SHA-256)",
      body: { raw: "application/octet-stream" },
      ok: { status: 200, description: "The file, stored (or already stored)", schema: commitFileResponse },
      errors: [400, 401, 404, 409, 413, 422],
    },
  },
  [`${ORGM}/commits/{id}/complete`]: {
    post: {
      summary: "Make the version visible with all its files (409 lists files still missing; 422 an invalid layout)",
      ok: { status: 201, description: "The version, ready or quarantined (the worst verdict of its files)", schema: versionResponse },
      errors: [401, 404, 409, 422],
    },
  },
  [`${ORGM}/versions/{version}/files`]: {
    get: {
      summary: "A version's files: path, size, SHA-256, format, scan verdict, download URL",
      ok: { status: 200, description: "Files, by path", schema: versionFilesResponse },
      errors: [401, 404],
    },
  },
  [`${ORGM}/versions/{version}/files/{path}`]: {
    get: {
      summary: "Download one file of a version (Range, If-None-Match, If-Range; audited)",
      query: z.object({ acknowledge_risk: z.enum(["true"]).optional().describe("Owners and admins: a file of a quarantined version") }),
      ok: {
        status: 200,
        description: "The bytes; ETag and X-Content-SHA256 carry its SHA-256 (206 for a range)",
        raw: "application/octet-stream",
      },
      errors: [401, 403, 404, 416],
    },
    head: {
      summary: "The file's download headers without the bytes",
      ok: { status: 200, description: "Headers only" },
      errors: [401, 403, 404, 416],
    },
  },
  [`${ORGM}/compare`]: {
    get: {
      summary: "Compare two versions: files added, removed and changed (by SHA-256), fields and tags that differ, size delta",
      query: z.object({ from: z.string().describe("A version, e.g. 1.0"), to: z.string().describe("Another version, e.g. 1.1") }),
      ok: { status: 200, description: "The comparison", schema: compareResponse },
      errors: [401, 404, 422],
    },
  },
};
