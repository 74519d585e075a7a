import { createHash } from "node:crypto";
import type { InspectionResult } from "@/lib/inspect/types";
import type { BlobFinding } from "@/lib/db/queries/blobs";

// What a version is, computed from its files: pure functions (no I/O), shared by uploads, the
// re-scan and the tests.

export type Verdict = "safe" | "suspicious" | "dangerous";
const RANK: Record<Verdict, number> = { safe: 0, suspicious: 1, dangerous: 2 };

/** The version's verdict is the worst of its files'. */
export function worstVerdict(verdicts: Iterable<string>): Verdict {
  let worst: Verdict = "safe";
  for (const v of verdicts) if (v in RANK && RANK[v as Verdict] > RANK[worst]) worst = v as Verdict;
  return worst;
}

/**
 * The digest of a file list — SHA-256 over one line per file, `<sha256>  <size>  <path>\n`, sorted by
 * the UTF-8 bytes of the path. One value that changes when any file does; clients can compute it from
 * the same list. A one-file version's SHA-256 is its file's instead (what single-file clients compare).
 */
export function manifestDigest(files: { path: string; size: number; sha256: string }[]): string {
  const lines = files.map((f) => ({ key: Buffer.from(f.path, "utf8"), line: `${f.sha256}  ${f.size}  ${f.path}\n` }));
  lines.sort((a, b) => Buffer.compare(a.key, b.key));
  const h = createHash("sha256");
  for (const l of lines) h.update(l.line, "utf8");
  return h.digest("hex");
}

/** The version's SHA-256: the file's for one file, else the digest of the list. */
export function versionDigest(files: { path: string; size: number; sha256: string }[]): string {
  return files.length === 1 ? files[0]!.sha256 : manifestDigest(files);
}

/** Finding codes that mean "this content is not a model" (as opposed to "a model, but broken"). */
const NOT_A_MODEL = /not-a-model|not_a_model/;

/**
 * How a file's inspection counts inside a version:
 *  - `model`: a model format the inspector recognized (weights, a serialized model, a model config);
 *  - `asset`: content that is not a model (a card, a tokenizer, a YAML or text file, an image in a
 *    folder) — stored, listed and previewed, with the scanner's judgement on its bytes;
 *  - `invalid`: a model format whose content is broken (a truncated safetensors, a corrupt pickle).
 * A one-file version must be a `model`; a folder needs at least one.
 */
export function fileRole(
  inspection: Pick<InspectionResult, "verdict" | "format" | "findings" | "contentType">,
  path = "",
): "model" | "asset" | "invalid" {
  if (inspection.verdict !== "invalid") {
    // Unidentified bytes may be weights in a format we do not parse: a model file of unknown format.
    return inspection.format === "unknown" && assetFormat(path, inspection.contentType) !== "binary" ? "asset" : "model";
  }
  const errors = inspection.findings.filter((f) => f.severity === "error");
  return errors.length > 0 && errors.every((f) => NOT_A_MODEL.test(f.code)) ? "asset" : "invalid";
}

const TEXT_FORMATS: [RegExp, string][] = [
  [/\.md$|\.markdown$/i, "markdown"],
  [/\.json$/i, "json"],
  [/\.ya?ml$/i, "yaml"],
  [/\.txt$/i, "text"],
  [/(^|\/)MLmodel$/, "yaml"],
  [/\.(py|sh|cfg|ini|toml)$/i, "text"],
];

/** The display format of an asset: by its name for text kinds, else by its content type. */
export function assetFormat(path: string, contentType: string): string {
  for (const [re, f] of TEXT_FORMATS) if (re.test(path)) return f;
  if (contentType.startsWith("image/")) return "image";
  if (contentType.startsWith("text/")) return "text";
  return "binary";
}

/** What a stored blob records of an inspection, for a file in the role fileRole() gave it. */
export function blobContent(path: string, inspection: InspectionResult, size: number, sha256: string) {
  const role = fileRole(inspection, path);
  const asset = role === "asset";
  return {
    size,
    sha256,
    contentType: inspection.contentType,
    format: asset ? assetFormat(path, inspection.contentType) : inspection.format,
    framework: asset || inspection.framework === "none" ? null : inspection.framework,
    metadata: {
      ...inspection.metadata,
      ...(inspection.globals.length ? { pickle_globals: inspection.globals } : {}),
      ...(inspection.extensionMismatch ? { extension_mismatch: true } : {}),
      role: asset ? "asset" : "model",
    },
    // An asset's "not a model" finding is not a problem of the version: keep the rest.
    verdict: (inspection.verdict === "invalid" ? "safe" : inspection.verdict) as Verdict,
    findings: (asset ? inspection.findings.filter((f) => !NOT_A_MODEL.test(f.code)) : inspection.findings) as BlobFinding[],
  };
}

/** Findings of several files, each located by its path. */
export function locatedFindings(files: { path: string; findings: BlobFinding[] }[], cap = 200): BlobFinding[] {
  const out: BlobFinding[] = [];
  for (const f of files) {
    for (const finding of f.findings) {
      if (out.length >= cap) return out;
      out.push({ ...finding, location: finding.location ? `${f.path}: ${finding.location}` : f.path });
    }
  }
  return out;
}
