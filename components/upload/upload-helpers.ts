import { isAllowedExtension, type AllowedExtension } from "@/lib/storage/limits";
import { slugify, versionSchema } from "@/lib/validations/models";

// Pure helpers of the uploader (and the model page's "next version"): no React, no Node.

/** The framework a file extension almost always means; the form pre-fills it, the user can change it. */
export const FRAMEWORK_BY_EXTENSION: Record<AllowedExtension, string> = {
  pkl: "scikit-learn",
  joblib: "scikit-learn",
  pt: "pytorch",
  pth: "pytorch",
  safetensors: "pytorch",
  h5: "tensorflow-keras",
  hdf5: "tensorflow-keras",
  keras: "tensorflow-keras",
  xgb: "xgboost",
  ubj: "xgboost",
  lgb: "lightgbm",
  onnx: "onnx",
  gguf: "llm",
  json: "llm",
  pickle: "scikit-learn",
  sav: "scikit-learn",
  ckpt: "pytorch",
  bin: "pytorch",
  mar: "pytorch",
  npy: "other",
  npz: "other",
  bst: "xgboost",
  model: "xgboost",
  lgbm: "lightgbm",
  txt: "lightgbm",
  tflite: "tensorflow-keras",
  pb: "tensorflow-keras",
  mlmodel: "other",
  zip: "other",
  tar: "other",
  "7z": "other",
};

export function extensionOf(fileName: string): string {
  const i = fileName.lastIndexOf(".");
  return i > 0 ? fileName.slice(i + 1).toLowerCase() : "";
}

export function frameworkForFile(fileName: string): string | undefined {
  const ext = extensionOf(fileName);
  return isAllowedExtension(ext) ? FRAMEWORK_BY_EXTENSION[ext] : undefined;
}

/**
 * Guesses model and version from a file name as the guide names them:
 * "credit_risk_v2.1.pkl" -> {slug: "credit_risk", version: "2.1"}; "churn_model_v1.onnx" -> version "1".
 */
export function parseFileName(fileName: string): { slug: string; name: string; version?: string } {
  const stem = fileName.replace(/\.[^.]+$/, "");
  const m = /^(.*?)[_\-. ]v?(\d+(?:\.\d+){0,2})$/i.exec(stem);
  const base = m && m[1] ? m[1] : stem;
  const version = m?.[2] && versionSchema.safeParse(m[2]).success ? m[2] : undefined;
  const slug = slugify(base) || "model";
  const words = slug.replace(/_/g, " ");
  return { slug, name: words.charAt(0).toUpperCase() + words.slice(1), version };
}

type Parsed = { nums: number[]; pre: string | null; raw: string };
function parse(v: string): Parsed | null {
  const m = /^(\d+(?:\.\d+){0,2})(?:-(.+))?$/.exec(v);
  return m ? { nums: m[1]!.split(".").map(Number), pre: m[2] ?? null, raw: v } : null;
}
function compare(a: Parsed, b: Parsed): number {
  for (let i = 0; i < 3; i++) {
    const d = (a.nums[i] ?? 0) - (b.nums[i] ?? 0);
    if (d) return d;
  }
  if (a.pre === b.pre) return 0;
  if (a.pre === null) return 1; // 1.0 > 1.0-rc.1
  if (b.pre === null) return -1;
  return a.pre < b.pre ? -1 : 1;
}

/** Orders two versions (MAJOR.MINOR.PATCH, a release after its pre-releases); unparsable ones sort first. */
export function compareVersions(a: string, b: string): number {
  const pa = parse(a);
  const pb = parse(b);
  if (!pa || !pb) return pa ? 1 : pb ? -1 : 0;
  return compare(pa, pb);
}

/**
 * The next free version after the highest existing one, keeping its shape: 2.1 -> 2.2, 1.5.2 -> 1.5.3,
 * 3 -> 4, 1.0.0-rc.1 -> 1.0.1. Deleted versions count: a version number is never reused.
 */
export function suggestNextVersion(existing: string[], fallback = "1.0"): string {
  const taken = new Set(existing);
  const parsed = existing.map(parse).filter((p): p is Parsed => p !== null);
  if (!parsed.length) return taken.has(fallback) ? suggestNextVersion([fallback]) : fallback;
  const top = parsed.reduce((a, b) => (compare(a, b) >= 0 ? a : b));
  const nums = [...top.nums];
  let candidate: string;
  do {
    nums[nums.length - 1]! += 1;
    candidate = nums.join(".");
  } while (taken.has(candidate));
  return candidate;
}

/**
 * Exponentially smoothed transfer speed, so the estimate does not jump with every progress event.
 * Returns a function that takes (bytes sent so far, now in ms) and answers bytes/second.
 */
export function createSpeedMeter(halfLifeMs = 3000) {
  let last: { bytes: number; at: number } | null = null;
  let rate = 0;
  return (bytes: number, at: number): number => {
    if (!last || bytes < last.bytes) {
      last = { bytes, at };
      return rate;
    }
    const dt = at - last.at;
    if (dt < 200) return rate;
    const instant = ((bytes - last.bytes) * 1000) / dt;
    const alpha = 1 - Math.pow(0.5, dt / halfLifeMs);
    rate = rate === 0 ? instant : rate + alpha * (instant - rate);
    last = { bytes, at };
    return rate;
  };
}
