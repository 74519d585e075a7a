import { z } from "zod";
import { modelSlugSchema, sha256Schema, text, uploadMetadataSchema, versionSchema } from "./models";

// A version is a set of files. The same schemas validate the uploader in the browser, the REST API
// and the CLI/Python clients' requests.

/** The largest commit body (JSON): room for MAX_FILES_PER_VERSION files with long paths. Read only for signed-in callers. */
export const COMMIT_JSON_LIMIT = 8 * 1024 * 1024;
/** Files in one version, at most. A Hugging Face model with many shards has a few hundred. */
export const MAX_FILES_PER_VERSION = 10_000;
const MAX_PATH_BYTES = 1024;
const MAX_SEGMENT_BYTES = 255;
const encoder = new TextEncoder();

/**
 * Why `path` is not a safe relative path inside a version's folder, or null when it is. The database
 * checks the same rules (public.is_valid_file_path). Paths are for display, archives and downloads —
 * never a storage key — but a zip or tar with "../x" or "/etc/x" in it is an attack on whoever unpacks it.
 */
export function filePathProblem(path: string): string | null {
  if (path.length === 0) return "is empty";
  if (encoder.encode(path).length > MAX_PATH_BYTES) return `is longer than ${MAX_PATH_BYTES} bytes`;
  if (path.normalize("NFC") !== path) return "is not NFC-normalised";
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f\u202a-\u202e\u2066-\u2069]/.test(path)) return "contains a control character";
  if (path.includes("\\")) return "contains a backslash (use '/')";
  if (path.startsWith("/")) return "is absolute";
  if (!path.isWellFormed()) return "is not valid Unicode";
  for (const segment of path.split("/")) {
    if (segment === "") return "has an empty segment";
    if (segment === "." || segment === "..") return "has a '.' or '..' segment";
    if (encoder.encode(segment).length > MAX_SEGMENT_BYTES) return `has a segment longer than ${MAX_SEGMENT_BYTES} bytes`;
  }
  return null;
}

export const filePathSchema = z.string().superRefine((p, ctx) => {
  const problem = filePathProblem(p);
  if (problem) ctx.addIssue({ code: "custom", message: `The path ${problem}.` });
});

/** Free key-value tags on a version: `{"dataset": "churn-2026-q3", "owner": "risk-team"}`. */
export const versionTagsSchema = z
  .record(
    z.string().regex(/^[a-z0-9][a-z0-9_.:-]{0,63}$/, "Tag keys: lowercase letters, digits, '_', '.', ':' or '-' (max 64)."),
    text(500),
  )
  .refine((t) => Object.keys(t).length <= 64, "At most 64 tags.")
  .default({});

/** Where a version comes from. Every field optional; `parent` names another version of this organization. */
export const provenanceSchema = z
  .object({
    source_run_url: z
      .string()
      .trim()
      .max(2000)
      .url()
      .refine((u) => /^https?:\/\//i.test(u), "Use an http(s) URL.")
      .optional(),
    git_commit: z
      .string()
      .trim()
      .regex(/^[0-9a-f]{7,64}$/i, "A git commit is 7–64 hex digits.")
      .optional(),
    git_repo: text(500).optional(),
    dataset: text(500).optional(),
    parent: z.object({ model: modelSlugSchema, version: versionSchema }).optional(),
  })
  .strict()
  .default({});
export type Provenance = z.infer<typeof provenanceSchema>;

export const commitFileSchema = z.object({
  path: filePathSchema,
  size: z.number().int().nonnegative(),
  sha256: sha256Schema,
});
export type CommitFileInput = z.infer<typeof commitFileSchema>;

/** POST …/models/{model}/commits: a new version's files (uploaded or already stored), atomically. */
export const createCommitSchema = z
  .object({
    version: versionSchema,
    files: z.array(commitFileSchema).min(1, "A version has at least one file.").max(MAX_FILES_PER_VERSION),
    metadata: uploadMetadataSchema.omit({ sha256: true }).default({}),
    tags: versionTagsSchema,
    provenance: provenanceSchema,
  })
  .superRefine((c, ctx) => {
    const seen = new Set<string>();
    for (const [i, f] of c.files.entries()) {
      const folded = f.path.toLowerCase();
      if (seen.has(folded))
        ctx.addIssue({
          code: "custom",
          path: ["files", i, "path"],
          message: `Two files at ${f.path} (paths differ only by case are one path on many disks).`,
        });
      seen.add(folded);
    }
    // A path that is both a file and a folder ("a" and "a/b") cannot be unpacked.
    const paths = new Set(c.files.map((f) => f.path));
    for (const [i, f] of c.files.entries()) {
      const parts = f.path.split("/");
      for (let n = 1; n < parts.length; n++) {
        if (paths.has(parts.slice(0, n).join("/")))
          ctx.addIssue({ code: "custom", path: ["files", i, "path"], message: `${parts.slice(0, n).join("/")} is a file and a folder.` });
      }
    }
  });
export type CreateCommitInput = z.input<typeof createCommitSchema>;
