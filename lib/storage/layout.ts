import "server-only";
import type { Principal } from "@/lib/auth/principal";
import type { FileRow } from "@/lib/db/queries/files";
import { inspectLayout, type LayoutProblem } from "@/lib/inspect/layouts/inspect-layout";
import { ERRORS } from "@/lib/errors";
import type { Platform } from "@/lib/platform/types";

/** What the folder of a version is, as far as its layout goes. */
export interface LayoutResult {
  layout: string;
  framework: string | null;
  /** Everything the layout said (shown on the model page). */
  details: Record<string, unknown>;
  /** The few values that go into the version's metadata (and so into search). */
  summary: Record<string, unknown>;
  problems: LayoutProblem[];
}

const FRAMEWORK: Record<string, string> = {
  transformers: "pytorch",
  "sentence-transformers": "pytorch",
  diffusers: "pytorch",
  "safetensors-sharded": "pytorch",
  onnx: "onnx",
};

const MLFLOW_FRAMEWORK: Record<string, string> = {
  sklearn: "scikit-learn",
  pytorch: "pytorch",
  xgboost: "xgboost",
  lightgbm: "lightgbm",
  onnx: "onnx",
  keras: "tensorflow-keras",
  tensorflow: "tensorflow-keras",
  statsmodels: "statsmodels",
  prophet: "prophet",
};

/** The short, searchable values of a layout's details: strings and numbers at the top level. */
function summarize(layout: string, details: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { layout };
  for (const [k, v] of Object.entries(details)) {
    if (k === "companions" || k === "files" || k === "root") continue;
    if ((typeof v === "string" && v.length <= 200) || typeof v === "number") out[k] = v;
    else if (Array.isArray(v) && v.length <= 8 && v.every((x) => typeof x === "string" && x.length <= 100)) out[k] = v.join(", ");
  }
  return out;
}

/**
 * The layout of a version's files (Hugging Face, MLflow, sharded safetensors…: lib/inspect/layouts),
 * reading only small configs and safetensors headers from the store, as the caller.
 */
export async function describeLayout(platform: Platform, p: Principal, files: FileRow[]): Promise<LayoutResult> {
  if (files.length === 1) return { layout: "single-file", framework: null, details: {}, summary: {}, problems: [] };
  const byPath = new Map(files.map((f) => [f.path, f]));
  const stores = new Map<string, Awaited<ReturnType<Platform["blobs"]["forVersion"]>>>();
  let unreadable: { path: string; message: string } | undefined;
  const report = await inspectLayout(
    files.map((f) => ({ path: f.path, size: Number(f.size_bytes ?? 0) })),
    async (path, start, end) => {
      const f = byPath.get(path);
      if (!f || end <= start) return new Uint8Array(0);
      try {
        let store = stores.get(f.storage_backend);
        if (!store) stores.set(f.storage_backend, (store = await platform.blobs.forVersion(p, f.storage_backend)));
        const got = await store.get(f.object_key, { range: { start, end: Math.min(end, Number(f.size_bytes)) - 1 } });
        const chunks: Buffer[] = [];
        for await (const c of got.stream) chunks.push(c as Buffer);
        return Buffer.concat(chunks);
      } catch (e) {
        unreadable ??= { path, message: String((e as Error)?.message ?? e).slice(0, 200) };
        throw e;
      }
    },
  );
  // IMPORTANT: every file here was just stored, so a read that fails is the store refusing or down —
  // never a property of the folder. Completing anyway would skip the layout's checks unnoticed (seen on
  // the real Supabase Storage server when its policies hid a member's own files).
  if (unreadable)
    throw ERRORS.unavailable(
      `Could not read ${unreadable.path} back from storage to check the folder (${unreadable.message}). Nothing was made visible; start the commit again — files already stored are not sent twice.`,
    );
  // MLflow names its flavors (sklearn, pytorch, …); the first that is not the generic python_function.
  const flavors = Object.keys((report.details.flavors as Record<string, unknown> | undefined) ?? {}).filter((f) => f !== "python_function");
  const framework =
    report.layout === "mlflow" ? (MLFLOW_FRAMEWORK[flavors[0] ?? ""] ?? flavors[0] ?? null) : (FRAMEWORK[report.layout] ?? null);
  return {
    layout: report.layout,
    framework,
    details: report.details,
    summary: summarize(report.layout, report.details),
    problems: report.problems,
  };
}
