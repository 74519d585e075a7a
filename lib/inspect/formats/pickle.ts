import { frameworkOfModule } from "../pickle/globals";
import { PickleWalker, type PickleSummary } from "../pickle/walker";
import { PyDict, PyList, PyObj, PyTensor, PyTuple, type PValue } from "../pickle/values";
import type { Report } from "../report";
import { checkSecrets, type FormatHandler, type HandlerContext, type NestedContent } from "../handler";
import { mightHoldSecret } from "../secrets";
import type { Framework } from "../types";

const MAX_TENSORS_LISTED = 256;
const SKIP_SEGMENTS = new Set(["_parameters", "_buffers", "_modules"]);

/** Secret patterns in a bare string (no key): list and tuple items, call arguments. */
function checkBareString(report: Report, value: string, location?: string): void {
  if (mightHoldSecret(value)) checkSecrets(report, null, value, location);
}

/**
 * A walker whose side findings (secrets in strings, dangerous uses, odd opcodes) go straight into
 * the report; bytes that torch.storage._load_from_bytes would torch.load are inspected as nested files.
 */
export function createReportingWalker(ctx: HandlerContext, location?: string): { walker: PickleWalker; settle: () => Promise<void> } {
  const { report } = ctx;
  const nested: Array<{ what: string; content: NestedContent; done: Promise<void> | null }> = [];
  const walker = new PickleWalker({
    onKeyedString: (key, value) => checkSecrets(report, key, value, location ? `${location}:${key}` : key),
    onString: (value) => checkBareString(report, value, location),
    onFinding: (severity, code, message) => {
      if (severity === "danger") report.danger(code, message, location);
      else if (severity === "warning") report.flag(code, message, location);
      else report.info(code, message, location);
    },
    openNested: (what) => {
      if (nested.length >= 64) return null;
      const entry = { what, content: ctx.nested(what), done: null as Promise<void> | null };
      nested.push(entry);
      return { write: (b) => entry.content.write(b), end: () => void (entry.done ??= entry.content.end()) };
    },
  });
  const settle = async () => {
    for (const n of nested) {
      await (n.done ??= n.content.end());
      // bytes torch.load cannot read make the call fail; that is odd, not dangerous
      report.absorb(n.content.report, location ? `${location}:${n.what}` : n.what, "flag");
    }
  };
  return { walker, settle };
}

/** Records globals and the outcome of a walk; a walk that did not reach the end never leaves the file safe. */
export function applyPickleSummary(report: Report, s: PickleSummary, location?: string): void {
  for (const [name, verdict] of s.globals) report.addGlobal(name, verdict);
  if (s.globalsOverflow > 0) {
    const msg = `${s.globalsOverflow} more distinct globals were not listed (worst verdict: ${s.overflowVerdict})`;
    if (s.overflowVerdict === "dangerous") report.danger("globals-overflow", msg, location);
    else report.flag("globals-overflow", msg, location);
  }
  const h = s.halt;
  if (!h) return;
  const where = `${h.message} (offset ${h.offset})`;
  if ((h.kind === "truncated" || h.kind === "corrupt") && s.pickles >= 1 && !s.legacyTorch) {
    report.flag("trailing-data", `data after the first complete pickle is not a valid pickle: ${where}`, location);
    return;
  }
  if (h.kind === "truncated" || h.kind === "corrupt") {
    report.fail(`pickle-${h.kind}`, `pickle cannot be read to the end: ${where}`, location);
  } else {
    report.flag(`pickle-scan-${h.kind}`, `pickle scan stopped early: ${where}`, location);
  }
}

/** Framework of a pickle: the top-level object's library first, then any ML library among its globals. */
export function frameworkOfPickle(s: PickleSummary): Framework {
  const top = s.topLevelClass;
  if (top) {
    const fw = frameworkOfModule(top);
    if (fw) return fw;
  }
  const found = new Set<Framework>();
  for (const name of s.globals.keys()) {
    const fw = frameworkOfModule(name);
    if (fw) found.add(fw);
  }
  for (const fw of ["scikit-learn", "xgboost", "lightgbm", "statsmodels", "prophet", "pytorch"] as const) {
    if (found.has(fw)) return fw;
  }
  return "none";
}

/** Gives tensors their dotted state_dict names by walking from the root object (module trees included). */
export function nameTensors(root: PValue | undefined): void {
  const seen = new Set<object>();
  const queue: Array<[PValue, string]> = [[root ?? null, ""]];
  for (let head = 0; head < queue.length && head < 200_000; head++) {
    const [v, path] = queue[head]!;
    if (v === null || typeof v !== "object" || seen.has(v)) continue;
    seen.add(v);
    const join = (k: string) => (SKIP_SEGMENTS.has(k) ? path : path ? `${path}.${k}` : k);
    if (v instanceof PyTensor) {
      if (path) v.name = path;
    } else if (v instanceof PyDict) {
      v.keys.forEach((k, i) => typeof k === "string" && queue.push([v.vals[i]!, join(k)]));
    } else if (v instanceof PyObj) {
      if (v.dict) queue.push([v.dict, path]);
      if (v.state instanceof PyDict) queue.push([v.state, path]);
      else if (v.state instanceof PyTuple) v.state.items.forEach((it) => it instanceof PyDict && queue.push([it, path]));
    } else if (v instanceof PyList || v instanceof PyTuple) {
      v.items.forEach((it, i) => queue.push([it, path ? `${path}.${i}` : String(i)]));
    }
  }
}

export function tensorMetadata(s: PickleSummary): Record<string, unknown> {
  return {
    tensorCount: s.tensorCount,
    parameterCount: s.parameterCount,
    tensors: s.tensors.slice(0, MAX_TENSORS_LISTED).map((t) => ({ name: t.name, dtype: t.dtype, shape: t.shape })),
  };
}

export function pickleMetadata(s: PickleSummary): Record<string, unknown> {
  const meta: Record<string, unknown> = { protocol: s.protocol, pickles: s.pickles, topLevelClass: s.topLevelClass };
  if (Object.keys(s.versions).length) meta.libraryVersions = s.versions;
  if (s.nFeatures !== null) meta.nFeatures = s.nFeatures;
  if (s.featureNames) meta.featureNames = s.featureNames;
  if (s.joblibArrays) meta.joblibArrays = s.joblibArrays;
  if (s.persistentIds) meta.persistentIds = s.persistentIds;
  return meta;
}

/** Plain pickle, joblib dump or legacy (pre-1.6) PyTorch file. */
export function createPickleHandler(ctx: HandlerContext): FormatHandler {
  const { walker, settle } = createReportingWalker(ctx);
  if (ctx.size !== undefined) walker.limit = ctx.size;
  return {
    write: (c) => void walker.write(c),
    end: () => walker.end(),
    finish: async () => {
      await settle();
      const s = walker.summary();
      const { report } = ctx;
      if (s.tensorCount > 0) nameTensors(walker.topLevel);
      applyPickleSummary(report, s);
      if (s.legacyTorch) {
        report.format = "pytorch-legacy";
        report.framework = "pytorch";
        report.metadata = { ...pickleMetadata(s), ...tensorMetadata(s), storages: s.persistentIds };
        return;
      }
      report.format = s.joblibArrays > 0 || s.globals.has("joblib.numpy_pickle.NumpyArrayWrapper") ? "joblib" : "pickle";
      report.framework = frameworkOfPickle(s);
      report.metadata = pickleMetadata(s);
      if (s.tensorCount) Object.assign(report.metadata, tensorMetadata(s));
      if (s.bytes === 0) report.format = "unknown";
    },
  };
}
