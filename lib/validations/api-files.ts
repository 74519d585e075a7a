import { z } from "zod";
import { SCAN_VERDICTS } from "./models";

// The REST shapes of file sets: commits (upload a version's files, then complete it atomically),
// a version's files, and the comparison of two versions. Part of the OpenAPI document.

const uuid = z.uuid();
const isoDate = z.iso.datetime({ offset: true });

export const commitFileResponse = z
  .object({
    path: z.string(),
    size: z.number().int().nullable(),
    sha256: z.string().nullable(),
    state: z.enum(["stored", "upload"]).describe("`stored`: nothing to send; `upload`: send the bytes (PUT or tus)"),
    deduplicated: z.boolean().describe("The organization already stored these bytes: not uploaded, not stored or billed twice"),
    upload: z
      .object({
        put_url: z.string().describe("PUT the raw bytes here (Content-Length = size)"),
        tus: z.object({
          endpoint: z.string(),
          metadata: z.record(z.string(), z.string()).describe("Upload-Metadata for the tus creation request"),
        }),
      })
      .optional(),
  })
  .meta({ id: "CommitFile" });

export const commitResponse = z
  .object({
    id: uuid.describe("The commit (the pending version's id)"),
    org: z.string(),
    model: z.string(),
    version: z.string(),
    lease_until: isoDate.nullable().describe("Renewed by every upload; after it, another commit may take the version number"),
    files: z.array(commitFileResponse),
    upload_bytes: z.number().int().describe("Bytes still to send"),
    deduplicated_bytes: z.number().int().describe("Bytes not sent because the organization already stores them"),
    complete_url: z.string(),
  })
  .meta({ id: "Commit" });

export const versionFileResponse = z
  .object({
    path: z.string(),
    size: z.number().int(),
    sha256: z.string(),
    format: z.string().nullable().describe("Model format, or what an asset is (markdown, json, yaml, text, image, binary)"),
    role: z.enum(["model", "asset"]),
    content_type: z.string().nullable(),
    scan: z.object({ verdict: z.enum(SCAN_VERDICTS), findings: z.array(z.record(z.string(), z.unknown())) }),
    metadata: z.record(z.string(), z.unknown()),
    download_url: z.string(),
  })
  .meta({ id: "VersionFile" });

export const versionFilesResponse = z
  .object({ version: z.string(), layout: z.string().nullable(), items: z.array(versionFileResponse) })
  .meta({ id: "VersionFiles" });

const changed = z.object({
  path: z.string(),
  from: z.object({ sha256: z.string(), size: z.number() }),
  to: z.object({ sha256: z.string(), size: z.number() }),
});
const entry = z.object({ path: z.string(), sha256: z.string(), size: z.number() });
export const compareResponse = z
  .object({
    from: z.string(),
    to: z.string(),
    files: z.object({ added: z.array(entry), removed: z.array(entry), changed: z.array(changed), unchanged: z.number().int() }),
    size_delta: z.number().int(),
    metadata: z.array(z.object({ key: z.string(), from: z.unknown(), to: z.unknown() })).describe("Fields of the versions that differ"),
    tags: z.array(z.object({ key: z.string(), from: z.string().nullable(), to: z.string().nullable() })),
  })
  .meta({ id: "Compare" });

/** POST …/versions/{version}/link (the body is optional: a one-file version's file). */
export const linkRequest = z
  .object({
    path: z.string().min(1).max(1024).optional().describe("One file of the version"),
    format: z.enum(["zip", "tar"]).optional().describe("The whole version as an archive"),
  })
  .refine((b) => !(b.path && b.format), "Ask for a file or an archive, not both.");
