import { z } from "zod";
import { ORG_ROLES, SCAN_VERDICTS, TASK_TYPES, uploadMetadataSchema } from "./models";

// The REST API's shapes as zod schemas: requests are validated with them, responses are typed by
// them (lib/storage/serialize.ts returns z.infer of these), and the OpenAPI document is generated
// from them (lib/http/openapi.ts) — so validation, code and documentation cannot drift apart.

const isoDate = z.iso.datetime({ offset: true });
const nullableDate = isoDate.nullable();
const uuid = z.uuid();

export const errorResponse = z
  .object({
    error: z.object({
      code: z.string().describe("Stable code clients branch on: not_found, conflict, invalid_input, …"),
      message: z.string().describe("Safe to show to people"),
      details: z.record(z.string(), z.unknown()).optional().describe("Field errors (`fields`) and other specifics"),
    }),
  })
  .meta({ id: "Error" });

export const signInResponse = z
  .object({
    access_token: z.string(),
    token_type: z.literal("bearer"),
    expires_in: z.number().int().describe("Seconds"),
    user: z.object({ id: uuid, email: z.string() }),
  })
  .meta({ id: "SignIn" });

export const orgResponse = z
  .object({ id: uuid, slug: z.string(), name: z.string(), role: z.enum(ORG_ROLES), created_at: nullableDate })
  .meta({ id: "Org" });

/** GET /api/v1/me: whose credentials these are. */
export const meResponse = z
  .object({
    user: z.object({ id: uuid, email: z.string().nullable() }),
    via: z.enum(["session", "api_token", "bearer"]).describe("How the caller signed in"),
    token: z
      .object({ id: uuid, org: z.string().nullable(), role: z.enum(["admin", "member", "viewer"]) })
      .nullable()
      .describe("For an API token: its organization and role cap"),
    orgs: z.array(orgResponse),
  })
  .meta({ id: "Me" });

export const modelResponse = z
  .object({
    id: uuid,
    slug: z.string(),
    name: z.string(),
    task_type: z.enum(TASK_TYPES),
    framework: z.string().nullable(),
    description: z.string(),
    tags: z.array(z.string()),
    latest_version: z.string().nullable(),
    latest_aliases: z.array(z.string()),
    latest_size_bytes: z.number().int().nullable(),
    latest_scan_verdict: z.string().nullable(),
    latest_uploaded_by: z.string().nullable(),
    latest_uploaded_at: nullableDate,
    version_count: z.number().int(),
    total_bytes: z.number().int(),
    created_at: nullableDate,
    updated_at: nullableDate,
  })
  .meta({ id: "Model" });

export const scanFinding = z.object({
  severity: z.enum(["info", "warning", "danger", "error"]),
  code: z.string(),
  message: z.string(),
  location: z.string().optional(),
});

export const versionResponse = z
  .object({
    id: uuid,
    version: z.string(),
    status: z.enum(["pending", "ready", "quarantined", "deleted"]),
    size_bytes: z.number().int().nullable(),
    sha256: z.string().nullable(),
    format: z.string().nullable(),
    framework: z.string().nullable(),
    content_type: z.string().nullable(),
    file_name: z.string().describe("A one-file version's file name"),
    file_count: z.number().int().describe("Files in the version (GET …/versions/{version}/files lists them)"),
    layout: z.string().nullable().describe("single-file, transformers, mlflow, safetensors-sharded, … (null while pending)"),
    layout_details: z.record(z.string(), z.unknown()).describe("What the layout says: architectures, parameter count, flavors, problems…"),
    tags: z.record(z.string(), z.string()).describe("Free key-value tags"),
    provenance: z
      .object({
        source_run_url: z.string().optional(),
        git_commit: z.string().optional(),
        git_repo: z.string().optional(),
        dataset: z.string().optional(),
        parent: z.object({ model: z.string(), version: z.string() }).optional(),
      })
      .describe("Where the version comes from"),
    storage_backend: z.enum(["local", "supabase"]),
    aliases: z.array(z.string()),
    scan: z.object({
      verdict: z.enum(SCAN_VERDICTS),
      findings: z.array(scanFinding),
      globals: z.unknown().describe("Pickle globals the scanner resolved"),
    }),
    metadata: z.record(z.string(), z.unknown()).describe("What the inspector extracted (format-specific)"),
    uploaded_by: z.string().nullable(),
    created_at: nullableDate,
    ready_at: nullableDate,
    deleted_at: nullableDate,
  })
  .meta({ id: "Version" });

export const aliasResponse = z.object({
  alias: z.string(),
  version: z.string(),
  updated_at: nullableDate,
  updated_by: z.string().nullable(),
});

export const modelDetailResponse = modelResponse
  .extend({ role: z.enum(ORG_ROLES), aliases: z.array(aliasResponse), versions: z.array(versionResponse) })
  .meta({ id: "ModelDetail" });

export const aliasesResponse = z
  .object({
    items: z.array(aliasResponse.omit({ updated_by: true }).extend({ updated_by: z.string().nullable() })),
    history: z.array(
      z.object({
        alias: z.string(),
        from: z.string().nullable(),
        to: z.string().nullable(),
        moved_by: z.string().nullable(),
        moved_at: isoDate,
      }),
    ),
  })
  .meta({ id: "Aliases" });

export const aliasMoveResponse = z.object({ alias: z.string(), version: z.string(), previous: z.string().nullable() });

export const linkResponse = z.object({ url: z.url(), expires_at: isoDate }).meta({ id: "SignedLink" });

export const tokenResponse = z
  .object({
    id: uuid,
    name: z.string(),
    prefix: z.string().describe("The first characters of the secret, to recognise it"),
    role: z.enum(["admin", "member", "viewer"]),
    expires_at: nullableDate,
    last_used_at: nullableDate,
    revoked_at: nullableDate,
    created_at: nullableDate,
    user_id: uuid,
    token: z.string().optional().describe("The secret: only in the answer to POST, shown once"),
  })
  .meta({ id: "ApiToken" });

export const auditEventResponse = z
  .object({
    id: z.number().int(),
    created_at: isoDate,
    actor: z.object({ id: uuid.nullable(), email: z.string().nullable() }),
    via: z.enum(["session", "api_token", "signed_link", "system"]),
    action: z.string(),
    target: z.object({ type: z.string(), id: z.string().nullable() }).nullable(),
    model: z.object({ id: uuid, slug: z.string().nullable(), name: z.string().nullable() }).nullable(),
    version: z.string().nullable(),
    bytes: z.number().int().nullable(),
    details: z.record(z.string(), z.unknown()),
    ip: z.string().nullable(),
    user_agent: z.string().nullable(),
  })
  .meta({ id: "AuditEvent" });

const bucket = z.object({ bytes: z.number(), count: z.number() });
export const usageResponse = z
  .object({
    org: z.object({ id: uuid, slug: z.string() }),
    generated_at: isoDate,
    month: z.string().describe("YYYY-MM (UTC) the cost estimate is for"),
    totals: z.object({
      stored_bytes: z.number().describe("What the bucket holds for the organization, each file's bytes once: what is billed"),
      object_count: z.number().describe("Stored objects (blobs)"),
      logical_bytes: z.number().describe("What the live versions reference (a file in ten versions counts ten times)"),
      dedup_saved_bytes: z.number().describe("Bytes not stored because identical content was already stored"),
      version_count: z.number(),
      deleted_bytes: z.number(),
      deleted_count: z.number(),
      model_count: z.number(),
    }),
    by_model: z.array(
      bucket.extend({
        model_id: uuid,
        slug: z.string(),
        name: z.string(),
        deleted_bytes: z.number(),
        stored_bytes: z.number().describe("Each blob the model's versions hold, once (shared blobs count in every model that holds them)"),
      }),
    ),
    other_models: bucket.extend({ models: z.number() }),
    by_framework: z.array(bucket.extend({ framework: z.string() })),
    by_task_type: z.array(bucket.extend({ task_type: z.string() })),
    growth: z.array(z.object({ month: z.string(), stored_bytes: z.number(), added_bytes: z.number(), removed_bytes: z.number() })),
    egress: z.array(z.object({ month: z.string(), downloads: z.number(), bytes: z.number() })),
    downloads_total: bucket,
    top_models: z.array(
      z.object({
        model_id: uuid.nullable(),
        slug: z.string().nullable(),
        name: z.string().nullable(),
        downloads: z.number(),
        bytes: z.number(),
      }),
    ),
    cost: z.object({
      storage_per_gb_month: z.number(),
      egress_per_gb: z.number(),
      stored_gb: z.number(),
      egress_gb: z.number(),
      storage: z.number(),
      egress: z.number(),
      total: z.number(),
    }),
  })
  .meta({ id: "Usage" });

export const page = <T extends z.ZodType>(item: T) => z.object({ items: z.array(item), next_cursor: z.string().nullable() });
export const list = <T extends z.ZodType>(item: T) => z.object({ items: z.array(item) });

/** POST /api/v1/uploads/reservations */
export const reservationRequest = z.object({
  org: z.string(),
  model: z.string(),
  version: z.string(),
  filename: z.string().min(1).max(255),
  size: z.number().int().positive(),
  metadata: uploadMetadataSchema.optional(),
});

export const reservationResponse = z
  .object({
    id: uuid.describe("The reservation (the pending version's id)"),
    object_key: z.string(),
    upload: z.union([
      z.object({
        protocol: z.literal("tus"),
        endpoint: z.url(),
        chunk_size: z.number().int(),
        metadata: z.record(z.string(), z.string()),
        headers: z.record(z.string(), z.string()),
        complete_url: z.string(),
      }),
      z.object({ protocol: z.literal("put"), url: z.string(), note: z.string() }),
    ]),
  })
  .meta({ id: "Reservation" });

/** POST /api/v1/uploads/reservations/{id}/complete */
export const completeReservationRequest = z.object({ size: z.number().int().positive().optional() });
