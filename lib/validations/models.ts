import { z } from "zod";
import { isCleanText } from "./text";
import { modelSlugSchema, orgSlugSchema, versionSchema } from "@/lib/storage/object-key";

// The same schemas validate the upload form in the browser, the REST API and server actions.

export const TASK_TYPES = ["classification", "regression", "clustering", "time_series", "nlp", "llm", "other"] as const;
export const TASK_TYPE_LABELS: Record<(typeof TASK_TYPES)[number], string> = {
  classification: "Classification",
  regression: "Regression",
  clustering: "Clustering",
  time_series: "Time series",
  nlp: "NLP",
  llm: "LLM",
  other: "Other",
};
export const FRAMEWORKS = [
  "scikit-learn",
  "xgboost",
  "lightgbm",
  "pytorch",
  "tensorflow-keras",
  "onnx",
  "statsmodels",
  "prophet",
  "llm",
  "other",
] as const;
export const SCAN_VERDICTS = ["not_scanned", "safe", "suspicious", "dangerous"] as const;
export const ORG_ROLES = ["owner", "admin", "member", "viewer"] as const;
export type OrgRole = (typeof ORG_ROLES)[number];

// The key parts are validated where keys are built (lib/storage/object-key.ts): one definition.
export { modelSlugSchema, orgSlugSchema, versionSchema };
export const aliasSchema = z
  .string()
  .regex(/^[a-z][a-z0-9_-]{0,39}$/, "Use lowercase letters, digits, '_' or '-', starting with a letter.");
/** Free text from people: trimmed, bounded, storable (no U+0000, no lone surrogate: Postgres refuses both). */
export const text = (max: number) =>
  z.string().trim().max(max).refine(isCleanText, "Text may not contain NUL characters or broken Unicode.");

export const sha256Schema = z.string().regex(/^[0-9a-f]{64}$/, "A SHA-256 is 64 lowercase hex digits.");
const tagSchema = z
  .string()
  .trim()
  .toLowerCase()
  .regex(/^[a-z0-9][a-z0-9_.:-]{0,39}$/, "Tags: lowercase letters, digits, '_', '.', ':' or '-' (max 40).");

/** Turns a display name into a model slug ("Credit Risk v2" -> "credit_risk_v2"). */
export function slugify(name: string): string {
  return name
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "_")
    .replace(/^_+|_+$/g, "")
    .slice(0, 100);
}

export const modelFieldsSchema = z.object({
  name: text(200).pipe(z.string().min(1, "Give the model a name.")),
  task_type: z.enum(TASK_TYPES).default("other"),
  framework: text(64).optional().nullable(),
  description: text(10_000).default(""),
  tags: z.array(tagSchema).max(32).default([]),
});

export const createModelSchema = modelFieldsSchema.extend({ slug: modelSlugSchema.optional() });
export type CreateModelInput = z.infer<typeof createModelSchema>;

export const updateModelSchema = modelFieldsSchema.partial().refine((v) => Object.keys(v).length > 0, "Nothing to change.");
export type UpdateModelInput = z.infer<typeof updateModelSchema>;

/** X-Model-Metadata on PUT …/versions/{version}: fields for a new model, plus an optional expected SHA-256. */
export const uploadMetadataSchema = modelFieldsSchema.partial().extend({ sha256: sha256Schema.optional() });
export type UploadMetadata = z.infer<typeof uploadMetadataSchema>;

export const MODEL_SORTS = ["updated", "name", "size", "created"] as const;
export const listModelsQuerySchema = z.object({
  q: text(200).optional(),
  framework: text(64).optional(),
  type: z.enum(TASK_TYPES).optional(),
  tag: tagSchema.optional(),
  verdict: z.enum(SCAN_VERDICTS).optional(),
  sort: z.enum(MODEL_SORTS).default("updated"),
  /** Direction of the sort; each sort has its natural one (name A→Z, the others newest or largest first). */
  dir: z.enum(["asc", "desc"]).optional(),
  cursor: text(500).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});
export type ListModelsQuery = z.infer<typeof listModelsQuerySchema>;

export const setAliasSchema = z.object({ version: versionSchema });

export const createTokenSchema = z.object({
  org: orgSlugSchema,
  name: text(100).pipe(z.string().min(1)),
  role: z.enum(["admin", "member", "viewer"]).default("viewer"),
  expires_in_days: z.coerce.number().int().min(1).max(365).optional().nullable(),
});
export type CreateTokenInput = z.infer<typeof createTokenSchema>;

export const createOrgSchema = z.object({
  name: text(200).pipe(z.string().min(1)),
  slug: orgSlugSchema,
});

export const memberSchema = z.object({
  email: z.string().trim().toLowerCase().pipe(z.email()),
  role: z.enum(ORG_ROLES),
});

/** Tags typed as one field: "a, b c" -> ["a", "b", "c"] (lower-cased, de-duplicated). */
export function parseTags(raw: string): string[] {
  return [
    ...new Set(
      raw
        .split(/[,\s]+/)
        .map((t) => t.trim().toLowerCase())
        .filter(Boolean),
    ),
  ];
}
