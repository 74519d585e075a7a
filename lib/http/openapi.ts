import { z } from "zod";
import { auditQuerySchema } from "@/lib/audit/query";
import { signInSchema } from "@/lib/validations/auth";
import {
  aliasesResponse,
  aliasMoveResponse,
  auditEventResponse,
  completeReservationRequest,
  errorResponse,
  linkResponse,
  list,
  modelDetailResponse,
  modelResponse,
  orgResponse,
  page,
  reservationRequest,
  reservationResponse,
  signInResponse,
  tokenResponse,
  usageResponse,
  versionResponse,
} from "@/lib/validations/api";
import {
  createModelSchema,
  createTokenSchema,
  listModelsQuerySchema,
  setAliasSchema,
  updateModelSchema,
  uploadMetadataSchema,
} from "@/lib/validations/models";
import { linkRequest } from "@/lib/validations/api-files";
import pkg from "@/package.json";
import { FILE_OPERATIONS } from "./openapi-files";
import { WEBHOOK_OPERATIONS } from "./openapi-webhooks";
import type { Method, Operation } from "./openapi-types";

// The OpenAPI 3.1 description of REST API v1, served at /api/v1/openapi.json, GENERATED from the
// zod schemas the route handlers validate with and the serializers are typed by. Adding a route
// means adding its operation here; e2e/api.spec.ts checks every route in app/api/v1 is listed.

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
  503: "A configured dependency (database, Supabase) is unavailable; retry later",
};

const PATH_PARAMS: Record<string, string> = {
  org: "Organization slug, e.g. demo_org",
  model: "Model slug, e.g. credit_risk",
  version: "MAJOR[.MINOR[.PATCH]][-pre], e.g. 2.1",
  alias: "Alias name, e.g. production",
  id: "Id (uuid) of the token, upload, reservation, commit, webhook endpoint or delivery",
  path: "A file's path in the version, e.g. tokenizer/vocab.json (each segment URL-encoded)",
  token: "The signed link's token",
};

const V = "/api/v1";
const ORGM = `${V}/orgs/{org}/models/{model}`;

/** Every operation of the API, by path and method. */
export const OPERATIONS: Record<string, Partial<Record<Method, Operation>>> = {
  ...FILE_OPERATIONS,
  ...WEBHOOK_OPERATIONS,
  [`${V}/auth/sign-in`]: {
    post: {
      summary: "Exchange e-mail and password for an access token",
      body: signInSchema,
      ok: { status: 200, description: "Access token", schema: signInResponse },
      errors: [401, 422, 429],
      public: true,
    },
  },
  [`${V}/orgs`]: {
    get: {
      summary: "Your organizations and your role in each",
      ok: { status: 200, description: "Organizations", schema: list(orgResponse) },
      errors: [401],
    },
  },
  [`${V}/orgs/{org}/models`]: {
    get: {
      summary: "List models: search, filters, keyset pages",
      query: listModelsQuerySchema,
      ok: { status: 200, description: "A page of models", schema: page(modelResponse) },
      errors: [400, 401, 404, 422],
    },
    post: {
      summary: "Create a model (writers)",
      body: createModelSchema,
      ok: { status: 201, description: "The model", schema: modelResponse },
      errors: [401, 403, 404, 409, 422],
    },
  },
  [ORGM]: {
    get: {
      summary: "A model with its versions and aliases",
      ok: { status: 200, description: "Model", schema: modelDetailResponse },
      errors: [401, 404],
    },
    patch: {
      summary: "Edit a model's metadata (writers)",
      body: updateModelSchema,
      ok: { status: 200, description: "The model", schema: modelResponse },
      errors: [401, 403, 404, 422],
    },
    delete: {
      summary: "Delete a model (admins): versions are retired and purged later",
      ok: { status: 204, description: "Deleted" },
      errors: [401, 403, 404],
    },
  },
  [`${ORGM}/versions`]: {
    get: {
      summary: "Versions, newest first",
      ok: { status: 200, description: "Versions", schema: list(versionResponse) },
      errors: [401, 404],
    },
  },
  [`${ORGM}/versions/{version}`]: {
    get: {
      summary: "One version (scan verdict, findings, metadata)",
      ok: { status: 200, description: "Version", schema: versionResponse },
      errors: [401, 404],
    },
    put: {
      summary: "Upload a version (creates the model if needed). The body is the raw file, streamed.",
      query: z.object({ filename: z.string().describe("The file's name (its extension is checked); or send X-File-Name") }),
      headers: [
        {
          name: "X-Model-Metadata",
          description: "JSON of the fields below (for a new model), or 'base64:' + base64 JSON when it holds non-ASCII text",
          schema: uploadMetadataSchema,
        },
        { name: "X-Content-SHA256", description: "The file's SHA-256 (hex): the upload is refused when the bytes differ" },
      ],
      body: { raw: "application/octet-stream" },
      ok: { status: 201, description: "The version, ready or quarantined", schema: versionResponse },
      errors: [400, 401, 403, 404, 409, 413, 415, 422],
    },
    delete: {
      summary: "Delete a version (admins or its uploader; soft, purged later)",
      ok: { status: 204, description: "Deleted" },
      errors: [401, 403, 404],
    },
  },
  [`${ORGM}/versions/{version}/download`]: {
    get: {
      summary: "Download a one-file version's file (Range, If-None-Match, If-Range), or any version as a zip or tar",
      query: z.object({
        format: z
          .enum(["zip", "tar"])
          .optional()
          .describe("The whole version as one streamed archive (files stored, exact Content-Length)"),
        acknowledge_risk: z.enum(["true"]).optional().describe("Owners and admins: download a quarantined version (audited)"),
      }),
      ok: {
        status: 200,
        description: "The bytes; ETag and X-Content-SHA256 carry the SHA-256 (206 for a range)",
        raw: "application/octet-stream",
      },
      errors: [401, 403, 404, 416],
    },
    head: {
      summary: "The download's headers without the bytes",
      ok: { status: 200, description: "Headers only" },
      errors: [401, 403, 404, 416],
    },
  },
  [`${ORGM}/versions/{version}/link`]: {
    post: {
      summary: "A short-lived signed download link: a one-file version's file, one file by path, or an archive",
      body: linkRequest,
      ok: { status: 201, description: "Link", schema: linkResponse },
      errors: [401, 403, 404],
    },
  },
  [`${V}/links/{token}`]: {
    get: {
      summary: "Download through a signed link (acts as the user who made it; audited)",
      ok: { status: 200, description: "The bytes", raw: "application/octet-stream" },
      errors: [401, 403, 404, 416],
      public: true,
    },
    head: {
      summary: "The signed link's download headers without the bytes",
      ok: { status: 200, description: "Headers only" },
      errors: [401, 403, 404],
      public: true,
    },
  },
  [`${ORGM}/aliases`]: {
    get: {
      summary: "Aliases and the history of every move",
      ok: { status: 200, description: "Aliases", schema: aliasesResponse },
      errors: [401, 404],
    },
  },
  [`${ORGM}/aliases/{alias}`]: {
    put: {
      summary: "Move an alias to a ready version (writers)",
      body: setAliasSchema,
      ok: { status: 200, description: "The move", schema: aliasMoveResponse },
      errors: [401, 403, 404, 409, 422],
    },
  },
  [`${V}/orgs/{org}/usage`]: {
    get: {
      summary: "Stored bytes, breakdowns, growth, egress and the cost estimate",
      ok: { status: 200, description: "Usage", schema: usageResponse },
      errors: [401, 404],
    },
  },
  [`${V}/orgs/{org}/audit`]: {
    get: {
      summary: "The audit trail, newest first; ?format=csv streams it as CSV",
      query: auditQuerySchema.extend({ format: z.enum(["json", "csv"]).optional() }),
      ok: { status: 200, description: "A page of events (or text/csv)", schema: page(auditEventResponse) },
      errors: [400, 401, 404, 422],
    },
  },
  [`${V}/tokens`]: {
    get: {
      summary: "API tokens of an organization (yours; all of them for admins)",
      query: z.object({ org: z.string().describe("Organization slug") }),
      ok: { status: 200, description: "Tokens", schema: list(tokenResponse) },
      errors: [401, 404, 422],
    },
    post: {
      summary: "Create an API token (the secret is shown once)",
      body: createTokenSchema,
      ok: { status: 201, description: "The token, with its secret", schema: tokenResponse },
      errors: [401, 403, 404, 422],
    },
  },
  [`${V}/tokens/{id}`]: { delete: { summary: "Revoke a token", ok: { status: 204, description: "Revoked" }, errors: [401, 404] } },
  [`${V}/uploads/reservations`]: {
    post: {
      summary: "Reserve a version and learn where to send its bytes (Supabase's resumable endpoint in supabase mode)",
      body: reservationRequest,
      ok: { status: 201, description: "The reservation", schema: reservationResponse },
      errors: [401, 403, 404, 409, 413, 415, 422],
    },
  },
  [`${V}/uploads/reservations/{id}`]: {
    delete: {
      summary: "Abandon a reservation and what was uploaded under it",
      ok: { status: 204, description: "Abandoned" },
      errors: [401, 404],
    },
  },
  [`${V}/uploads/reservations/{id}/complete`]: {
    post: {
      summary: "Finish a direct upload: the server reads the object once to verify size and SHA-256, inspects it, makes it visible",
      body: completeReservationRequest,
      ok: { status: 201, description: "The version", schema: versionResponse },
      errors: [400, 401, 404, 409, 413, 422],
    },
  },
  [`${V}/uploads`]: {
    post: {
      summary: "Create a resumable upload (tus 1.0). Upload-Metadata: org, model, version, filename, metadata (JSON)",
      ok: { status: 201, description: "Location of the upload" },
      errors: [401, 403, 404, 409, 413, 415, 422],
    },
  },
  [`${V}/uploads/{id}`]: {
    head: { summary: "Current offset (resume)", ok: { status: 200, description: "Upload-Offset header" }, errors: [401, 404] },
    patch: {
      summary: "Append bytes at Upload-Offset; the last PATCH answers 200 with the Version",
      ok: { status: 204, description: "Appended" },
      errors: [401, 404, 409, 413, 422],
    },
    delete: { summary: "Cancel (releases the reserved version)", ok: { status: 204, description: "Cancelled" }, errors: [401, 404] },
  },
  "/api/health": {
    get: {
      summary: "Mode, database and storage reachability",
      ok: { status: 200, description: "Healthy (503 when degraded)" },
      errors: [503],
      public: true,
    },
  },
};

const schemaOf = (s: z.ZodType, io: "input" | "output") => {
  const { $schema: _, ...rest } = z.toJSONSchema(s, { io, unrepresentable: "any", target: "draft-2020-12" }) as Record<string, unknown>;
  return rest;
};

function operationObject(path: string, op: Operation) {
  const params = [...path.matchAll(/\{(\w+)\}/g)].map(([, name]) => ({
    name,
    in: "path",
    required: true,
    description: PATH_PARAMS[name!] ?? name,
    schema: { type: "string" },
  }));
  const query = op.query
    ? Object.entries((schemaOf(op.query, "output").properties ?? {}) as Record<string, { description?: string }>).map(([name, schema]) => ({
        name,
        in: "query",
        required: false,
        ...(schema.description ? { description: schema.description } : {}),
        schema,
      }))
    : [];
  const headers = (op.headers ?? []).map((h) => ({
    name: h.name,
    in: "header",
    required: Boolean(h.required),
    description: h.description,
    schema: h.schema ? schemaOf(h.schema, "input") : { type: "string" },
  }));
  const requestBody = op.body
    ? "raw" in op.body
      ? { required: true, content: { [op.body.raw]: { schema: { type: "string", format: "binary" } } } }
      : { required: true, content: { "application/json": { schema: schemaOf(op.body, "input") } } }
    : undefined;
  const okContent = op.ok.schema
    ? { content: { "application/json": { schema: schemaOf(op.ok.schema, "output") } } }
    : op.ok.raw
      ? { content: { [op.ok.raw]: { schema: { type: "string", format: "binary" } } } }
      : {};
  const errorSchema = schemaOf(errorResponse, "output");
  return {
    summary: op.summary,
    ...(op.description ? { description: op.description } : {}),
    ...(op.public ? { security: [] } : {}),
    ...(params.length + query.length + headers.length ? { parameters: [...params, ...query, ...headers] } : {}),
    ...(requestBody ? { requestBody } : {}),
    responses: {
      [op.ok.status]: { description: op.ok.description, ...okContent },
      ...Object.fromEntries(
        op.errors.map((c) => [
          String(c),
          { description: ERROR_TEXT[c] ?? "Error", content: { "application/json": { schema: errorSchema } } },
        ]),
      ),
    },
  };
}

/** The OpenAPI document (generated once per process). */
export const openApiDocument = () => ({
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
  },
  paths: Object.fromEntries(
    Object.entries(OPERATIONS).map(([path, ops]) => [
      path,
      Object.fromEntries(Object.entries(ops).map(([method, op]) => [method, operationObject(path, op!)])),
    ]),
  ),
});
