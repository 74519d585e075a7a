import { MODEL_SORTS, SCAN_VERDICTS, TASK_TYPES } from "@/lib/validations/models";
import pkg from "@/package.json";

// The OpenAPI 3.1 description of REST API v1, served at /api/v1/openapi.json. Kept next to the
// serializers' shapes (lib/storage/serialize.ts); e2e/api.spec.ts checks the paths exist.

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: unknown) => ({ "application/json": { schema } });
const ok = (description: string, schema?: unknown) => ({ description, ...(schema ? { content: json(schema) } : {}) });
const errors = (...codes: number[]) =>
  Object.fromEntries(codes.map((c) => [String(c), { description: ERROR_TEXT[c] ?? "Error", content: json(ref("Error")) }]));
const ERROR_TEXT: Record<number, string> = {
  400: "Bad request (length mismatch, bad JSON, bad cursor)",
  401: "Missing, invalid, expired or revoked credentials",
  403: "Your role does not allow this (or the version is quarantined)",
  404: "Not found — or not visible to you (another organization's ids are 404)",
  409: "Conflict: the version exists (versions are immutable)",
  413: "Larger than the configured limit",
  415: "File type not accepted",
  416: "Range not satisfiable",
  422: "Invalid input (field errors), checksum mismatch, or not a model file",
  429: "Too many failed sign-ins",
};
const p = (name: string, description: string, schema: unknown = { type: "string" }, where = "path") => ({
  name,
  in: where,
  required: where === "path",
  description,
  schema,
});
const ORG = p("org", "Organization slug, e.g. demo_org");
const MODEL = p("model", "Model slug, e.g. credit_risk");
const VERSION = p("version", "MAJOR[.MINOR[.PATCH]][-pre], e.g. 2.1");

export function openApiDocument() {
  return {
    openapi: "3.1.0",
    info: {
      title: "FairMind Model Storage API",
      version: pkg.version,
      description: "Organization-scoped model storage. Every call runs under row-level security as the caller.",
    },
    servers: [{ url: "/" }],
    security: [{ bearer: [] }, { cookie: [] }],
    components: {
      securitySchemes: {
        bearer: { type: "http", scheme: "bearer", description: "An API token (fm_…) or an access token from POST /api/v1/auth/sign-in" },
        cookie: { type: "apiKey", in: "cookie", name: "fm_session" },
      },
      schemas: {
        Error: {
          type: "object",
          required: ["error"],
          properties: {
            error: {
              type: "object",
              required: ["code", "message"],
              properties: { code: { type: "string" }, message: { type: "string" }, details: { type: "object" } },
            },
          },
        },
        Org: {
          type: "object",
          properties: {
            id: { type: "string", format: "uuid" },
            slug: { type: "string" },
            name: { type: "string" },
            role: { enum: ["owner", "admin", "member", "viewer"] },
            created_at: { type: "string", format: "date-time" },
          },
        },
        Model: {
          type: "object",
          properties: {
            id: { type: "string", format: "uuid" },
            slug: { type: "string" },
            name: { type: "string" },
            task_type: { enum: [...TASK_TYPES] },
            framework: { type: ["string", "null"] },
            description: { type: "string" },
            tags: { type: "array", items: { type: "string" } },
            latest_version: { type: ["string", "null"] },
            latest_aliases: { type: "array", items: { type: "string" } },
            latest_size_bytes: { type: ["integer", "null"] },
            latest_scan_verdict: { type: ["string", "null"] },
            latest_uploaded_by: { type: ["string", "null"] },
            latest_uploaded_at: { type: ["string", "null"] },
            version_count: { type: "integer" },
            total_bytes: { type: "integer" },
            created_at: { type: "string" },
            updated_at: { type: "string" },
          },
        },
        ModelInput: {
          type: "object",
          required: ["name"],
          properties: {
            name: { type: "string" },
            slug: { type: "string" },
            task_type: { enum: [...TASK_TYPES] },
            framework: { type: "string" },
            description: { type: "string" },
            tags: { type: "array", items: { type: "string" } },
          },
        },
        Version: {
          type: "object",
          properties: {
            id: { type: "string", format: "uuid" },
            version: { type: "string" },
            status: { enum: ["ready", "quarantined", "deleted"] },
            size_bytes: { type: "integer" },
            sha256: { type: "string" },
            format: { type: ["string", "null"] },
            framework: { type: ["string", "null"] },
            content_type: { type: ["string", "null"] },
            file_name: { type: "string" },
            object_key: { type: "string" },
            storage_backend: { enum: ["local", "supabase"] },
            aliases: { type: "array", items: { type: "string" } },
            scan: {
              type: "object",
              properties: {
                verdict: { enum: [...SCAN_VERDICTS] },
                findings: { type: "array", items: { type: "object" } },
                globals: {
                  type: "array",
                  items: { type: "object", properties: { name: { type: "string" }, verdict: { type: "string" } } },
                },
              },
            },
            metadata: { type: "object" },
            uploaded_by: { type: ["string", "null"] },
            created_at: { type: "string" },
            ready_at: { type: ["string", "null"] },
            deleted_at: { type: ["string", "null"] },
          },
        },
        ModelDetail: {
          allOf: [
            ref("Model"),
            {
              type: "object",
              properties: {
                role: { type: "string" },
                aliases: { type: "array", items: { type: "object" } },
                versions: { type: "array", items: ref("Version") },
              },
            },
          ],
        },
        Token: {
          type: "object",
          properties: {
            id: { type: "string" },
            name: { type: "string" },
            prefix: { type: "string" },
            role: { enum: ["admin", "member", "viewer"] },
            expires_at: { type: ["string", "null"] },
            last_used_at: { type: ["string", "null"] },
            revoked_at: { type: ["string", "null"] },
            created_at: { type: "string" },
            token: { type: "string", description: "Only in the answer to POST" },
          },
        },
      },
    },
    paths: {
      "/api/v1/auth/sign-in": {
        post: {
          summary: "Exchange e-mail and password for an access token",
          security: [],
          requestBody: {
            required: true,
            content: json({
              type: "object",
              required: ["email", "password"],
              properties: { email: { type: "string" }, password: { type: "string" } },
            }),
          },
          responses: {
            200: ok("Signed in", {
              type: "object",
              properties: { access_token: { type: "string" }, token_type: { const: "bearer" }, expires_in: { type: "integer" } },
            }),
            ...errors(401, 422, 429),
          },
        },
      },
      "/api/v1/orgs": {
        get: {
          summary: "Your organizations",
          responses: {
            200: ok("Organizations", { type: "object", properties: { items: { type: "array", items: ref("Org") } } }),
            ...errors(401),
          },
        },
      },
      "/api/v1/orgs/{org}/models": {
        parameters: [ORG],
        get: {
          summary: "List models",
          parameters: [
            p("q", "Search text", undefined, "query"),
            p("framework", "", undefined, "query"),
            p("type", "", { enum: [...TASK_TYPES] }, "query"),
            p("tag", "", undefined, "query"),
            p("verdict", "", { enum: [...SCAN_VERDICTS] }, "query"),
            p("sort", "", { enum: [...MODEL_SORTS] }, "query"),
            p("limit", "1–200, default 50", { type: "integer" }, "query"),
            p("cursor", "next_cursor of the previous page", undefined, "query"),
          ],
          responses: {
            200: ok("A page of models", {
              type: "object",
              properties: { items: { type: "array", items: ref("Model") }, next_cursor: { type: ["string", "null"] } },
            }),
            ...errors(400, 401, 404),
          },
        },
        post: {
          summary: "Create a model",
          requestBody: { required: true, content: json(ref("ModelInput")) },
          responses: { 201: ok("Created", ref("Model")), ...errors(401, 403, 404, 409, 422) },
        },
      },
      "/api/v1/orgs/{org}/models/{model}": {
        parameters: [ORG, MODEL],
        get: { summary: "A model with its versions and aliases", responses: { 200: ok("Model", ref("ModelDetail")), ...errors(401, 404) } },
        patch: {
          summary: "Edit a model's metadata",
          requestBody: { required: true, content: json(ref("ModelInput")) },
          responses: { 200: ok("Updated", ref("Model")), ...errors(401, 403, 404, 422) },
        },
        delete: {
          summary: "Delete a model (admins): versions are retired and purged later",
          responses: { 204: ok("Deleted"), ...errors(401, 403, 404) },
        },
      },
      "/api/v1/orgs/{org}/models/{model}/versions": {
        parameters: [ORG, MODEL],
        get: {
          summary: "Versions, newest first",
          responses: {
            200: ok("Versions", { type: "object", properties: { items: { type: "array", items: ref("Version") } } }),
            ...errors(401, 404),
          },
        },
      },
      "/api/v1/orgs/{org}/models/{model}/versions/{version}": {
        parameters: [ORG, MODEL, VERSION],
        get: { summary: "One version", responses: { 200: ok("Version", ref("Version")), ...errors(401, 404) } },
        put: {
          summary: "Upload a version (creates the model if needed). The body is the raw file, streamed.",
          parameters: [
            p(
              "filename",
              "The file's name; only its extension matters (pkl, joblib, h5, pt, xgb, lgb, json, safetensors, onnx, gguf, …)",
              undefined,
              "query",
            ),
            p(
              "X-Model-Metadata",
              "JSON {name, task_type, framework, description, tags, sha256}; or 'base64:' + base64 JSON",
              undefined,
              "header",
            ),
            p("X-Content-SHA256", "Expected SHA-256 (hex); a mismatch is refused", undefined, "header"),
          ],
          requestBody: { required: true, content: { "application/octet-stream": { schema: { type: "string", format: "binary" } } } },
          responses: { 201: ok("Stored", ref("Version")), ...errors(400, 401, 403, 404, 409, 413, 415, 422) },
        },
        delete: {
          summary: "Delete a version (admins or its uploader; soft, purged later)",
          responses: { 204: ok("Deleted"), ...errors(401, 403, 404) },
        },
      },
      "/api/v1/orgs/{org}/models/{model}/versions/{version}/download": {
        parameters: [ORG, MODEL, VERSION, p("acknowledge_risk", "true to download a quarantined version (admins)", undefined, "query")],
        get: {
          summary: "Download the file (Range, If-None-Match, If-Range supported)",
          responses: {
            200: {
              description: "The bytes; headers ETag and X-Content-SHA256 carry the SHA-256",
              content: { "application/octet-stream": { schema: { type: "string", format: "binary" } } },
            },
            206: ok("Partial content"),
            304: ok("Not modified"),
            ...errors(401, 403, 404, 416),
          },
        },
      },
      "/api/v1/orgs/{org}/models/{model}/versions/{version}/link": {
        parameters: [ORG, MODEL, VERSION],
        post: {
          summary: "A short-lived signed download link",
          responses: {
            201: ok("Link", { type: "object", properties: { url: { type: "string" }, expires_at: { type: "string" } } }),
            ...errors(401, 403, 404),
          },
        },
      },
      "/api/v1/orgs/{org}/models/{model}/aliases": {
        parameters: [ORG, MODEL],
        get: {
          summary: "Aliases and the history of every move",
          responses: {
            200: ok("Aliases", {
              type: "object",
              properties: { items: { type: "array", items: { type: "object" } }, history: { type: "array", items: { type: "object" } } },
            }),
            ...errors(401, 404),
          },
        },
      },
      "/api/v1/orgs/{org}/models/{model}/aliases/{alias}": {
        parameters: [ORG, MODEL, p("alias", "e.g. production, staging")],
        put: {
          summary: "Move an alias to a ready version",
          requestBody: {
            required: true,
            content: json({ type: "object", required: ["version"], properties: { version: { type: "string" } } }),
          },
          responses: {
            200: ok("Moved", {
              type: "object",
              properties: { alias: { type: "string" }, version: { type: "string" }, previous: { type: ["string", "null"] } },
            }),
            ...errors(401, 403, 404, 409, 422),
          },
        },
      },
      "/api/v1/tokens": {
        get: {
          summary: "API tokens of an organization (yours; all for admins)",
          parameters: [p("org", "Organization slug", undefined, "query")],
          responses: {
            200: ok("Tokens", { type: "object", properties: { items: { type: "array", items: ref("Token") } } }),
            ...errors(401, 404, 422),
          },
        },
        post: {
          summary: "Create an API token (the secret is shown once)",
          requestBody: {
            required: true,
            content: json({
              type: "object",
              required: ["org", "name"],
              properties: {
                org: { type: "string" },
                name: { type: "string" },
                role: { enum: ["admin", "member", "viewer"] },
                expires_in_days: { type: ["integer", "null"] },
              },
            }),
          },
          responses: { 201: ok("Created", ref("Token")), ...errors(401, 403, 404, 422) },
        },
      },
      "/api/v1/tokens/{id}": {
        delete: { summary: "Revoke a token", parameters: [p("id", "Token id")], responses: { 204: ok("Revoked"), ...errors(401, 404) } },
      },
      "/api/v1/uploads": {
        post: {
          summary: "Create a resumable upload (tus 1.0). Upload-Metadata: org, model, version, filename, metadata (JSON)",
          responses: { 201: ok("Created; Location is the upload URL"), ...errors(401, 403, 404, 409, 413, 415, 422) },
        },
      },
      "/api/v1/uploads/{id}": {
        parameters: [p("id", "Upload id")],
        head: { summary: "Current offset (resume)", responses: { 200: ok("Upload-Offset header") } },
        patch: {
          summary: "Append bytes at Upload-Offset; the last PATCH answers 200 with the Version",
          responses: { 204: ok("Appended"), 200: ok("Finished", ref("Version")), ...errors(401, 404, 409, 422) },
        },
        delete: { summary: "Cancel (releases the reserved version)", responses: { 204: ok("Cancelled") } },
      },
      "/api/health": {
        get: { summary: "Mode, database and storage reachability", security: [], responses: { 200: ok("Healthy"), 503: ok("Degraded") } },
      },
    },
  };
}
