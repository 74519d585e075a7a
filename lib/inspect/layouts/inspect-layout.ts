import { MAX_FILES, pathProblem, VersionFiles, type LayoutFile, type LayoutProblem, type ReadFileRange } from "./files";
import { describeDiffusers, describeSentenceTransformers, describeTransformers, describeWeights } from "./huggingface";
import { describeMlflow } from "./mlflow";
import { describeHeader, readSafetensorsHeader } from "./safetensors";

export type { LayoutFile, LayoutProblem, ReadFileRange } from "./files";

export type LayoutName =
  "transformers" | "sentence-transformers" | "diffusers" | "mlflow" | "safetensors-sharded" | "onnx" | "single-file" | "unknown";

export interface LayoutReport {
  layout: LayoutName;
  /** What the layout says about the model (bounded, JSON-serialisable); `card` is the model card's path, if any. */
  details: Record<string, unknown>;
  /** "invalid" problems make the version unloadable as this layout (a missing shard); the list is capped. */
  problems: LayoutProblem[];
}

/** Names the layouts read as configuration, tokenizer, card or environment: companions of the weights, not models. */
const COMPANION =
  /(^|\/)(config\.json|generation_config\.json|[\w.-]+\.index\.json|tokenizer\.json|tokenizer_config\.json|special_tokens_map\.json|added_tokens\.json|vocab\.(json|txt)|merges\.txt|tokenizer\.model|spiece\.model|sentencepiece\.bpe\.model|preprocessor_config\.json|scheduler_config\.json|modules\.json|sentence_bert_config\.json|config_sentence_transformers\.json|model_index\.json|MLmodel|conda\.yaml|requirements\.txt|python_env\.yaml|input_example\.json|registered_model_meta|readme\.md)$/i;

/** The model card: README.md at the version's root, matched without regard to case. */
export function findModelCard(files: LayoutFile[]): string | null {
  const root = commonRoot(files);
  const prefix = root ? `${root}/` : "";
  const card = files.find(
    (f) => typeof f.path === "string" && f.path.slice(prefix.length).toLowerCase() === "readme.md" && f.path.startsWith(prefix),
  );
  return card?.path ?? null;
}

/** The one folder every file is in (a dropped folder's own name), or "". */
function commonRoot(files: LayoutFile[]): string {
  const first = files[0]?.path;
  if (typeof first !== "string" || !first.includes("/")) return "";
  const root = first.slice(0, first.indexOf("/"));
  return files.every((f) => typeof f.path === "string" && f.path.startsWith(`${root}/`)) ? root : "";
}

/**
 * Recognises the layout of a multi-file version from its file list, reading only small configs and
 * safetensors headers through `read` (never tensor data). Never throws: hostile listings, unreadable
 * or oversized files and broken configs become problems.
 */
export async function inspectLayout(files: LayoutFile[], read: ReadFileRange): Promise<LayoutReport> {
  try {
    return await recognise(files, read);
  } catch (e) {
    return {
      layout: "unknown",
      details: {},
      problems: [{ severity: "warning", message: `layout could not be recognised: ${String((e as Error)?.message ?? e).slice(0, 200)}` }],
    };
  }
}

/** The version's companion files (shown paths, capped): what a per-file scan calls "unknown format" only because it is not a model. */
function companions(v: VersionFiles): string[] {
  return v.files
    .filter((f) => COMPANION.test(f.path))
    .slice(0, 256)
    .map((f) => v.shown(f.path));
}

async function recognise(input: LayoutFile[], read: ReadFileRange): Promise<LayoutReport> {
  if (!Array.isArray(input)) return { layout: "unknown", details: {}, problems: [{ severity: "invalid", message: "no file list" }] };
  if (input.length > MAX_FILES)
    return {
      layout: "unknown",
      details: { files: input.length },
      problems: [{ severity: "invalid", message: `${input.length} files: more than the ${MAX_FILES} a version may hold` }],
    };
  const problems: LayoutProblem[] = [];
  const clean: LayoutFile[] = [];
  const seen = new Set<string>();
  for (const f of input) {
    const problem = typeof f === "object" && f !== null ? pathProblem(f.path) : "not a file entry";
    const path = String((f as LayoutFile | null)?.path ?? "").slice(0, 300);
    if (problem) problems.push({ path, severity: "invalid", message: problem });
    else if (!Number.isSafeInteger(f.size) || f.size < 0)
      problems.push({ path, severity: "invalid", message: `size ${String(f.size).slice(0, 40)} is not a byte count` });
    else if (seen.has(f.path)) problems.push({ path, severity: "invalid", message: "listed twice" });
    else {
      seen.add(f.path);
      clean.push({ path: f.path, size: f.size });
    }
  }
  const root = commonRoot(clean);
  const files = root ? clean.map((f) => ({ path: f.path.slice(root.length + 1), size: f.size })) : clean;
  const v = new VersionFiles(files, read, root);
  const card = findModelCard(clean);
  const done = (layout: LayoutName, details: Record<string, unknown>): LayoutReport => ({
    layout,
    details: {
      ...details,
      ...(card ? { card } : {}),
      ...(root ? { root } : {}),
      files: files.length,
      ...(layout === "unknown" || layout === "single-file" ? {} : { companions: companions(v) }),
    },
    problems: [...problems, ...v.problems].slice(0, 200),
  });

  if (v.has("MLmodel")) return done("mlflow", await describeMlflow(v));
  if (v.has("model_index.json")) return done("diffusers", await describeDiffusers(v));
  if (v.has("modules.json") || v.has("sentence_bert_config.json"))
    return done("sentence-transformers", await describeSentenceTransformers(v));
  if (v.has("config.json")) {
    const t = await describeTransformers(v, "");
    if (t) return done("transformers", t);
  }
  if (files.some((f) => !f.path.includes("/") && f.path.endsWith(".safetensors.index.json"))) {
    return done("safetensors-sharded", await describeWeights(v, ""));
  }
  const onnx = files.filter((f) => f.path.toLowerCase().endsWith(".onnx"));
  if (onnx.length) {
    return done("onnx", { models: onnx.slice(0, 64).map((f) => v.shown(f.path)), otherFiles: files.length - onnx.length });
  }
  if (files.length === 1) {
    const only = files[0]!;
    const header = only.path.endsWith(".safetensors") ? await readSafetensorsHeader(v, only.path) : null;
    return done("single-file", { path: v.shown(only.path), size: only.size, ...(header ? { safetensors: describeHeader(header) } : {}) });
  }
  return done("unknown", {});
}
