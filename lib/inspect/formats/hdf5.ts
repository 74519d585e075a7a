import { H5Error, Hdf5Reader, type AttrValue, type RandomAccess } from "./hdf5-reader";
import { analyzeKerasConfig } from "./keras-config";
import { checkSecrets, type FormatHandler, type HandlerContext } from "../handler";
import type { Report } from "../report";

const KERAS_ROOT_ATTRS = ["keras_version", "model_config", "training_config"];
const MAX_OBJECTS = 20_000;
const MAX_WEIGHTS_LISTED = 256;

interface Weight {
  path: string;
  shape: number[];
  dtype: string | null;
}

function text(v: AttrValue | undefined): string | null {
  if (typeof v === "string") return v;
  if (Array.isArray(v) && v.length === 1 && typeof v[0] === "string") return v[0];
  return null;
}

function parseJson(s: string | null): unknown {
  if (!s || s.length > 32 << 20) return null;
  try {
    return JSON.parse(s) as unknown;
  } catch {
    return null;
  }
}

function scalarAttrs(attrs: Map<string, AttrValue>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of attrs) {
    if (Object.keys(out).length >= 64) break;
    if (k === "model_config" || k === "training_config") continue;
    out[k] = typeof v === "string" && v.length > 512 ? `${v.slice(0, 512)}…` : Array.isArray(v) ? v.slice(0, 64) : v;
  }
  return out;
}

/** Secrets in every string attribute (arrays of strings included), wherever the object sits. */
function scanAttributes(report: Report, attrs: Map<string, AttrValue>, path: string): void {
  for (const [k, v] of attrs) {
    const where = `${path || "/"}@${k}`;
    if (typeof v === "string") checkSecrets(report, k, v, where);
    else if (Array.isArray(v)) for (const item of v.slice(0, 1000)) if (typeof item === "string") checkSecrets(report, k, item, where);
  }
}

/** Datasets below a group (depth-first, cycles cut, bounded), skipping names in `skip`; every object's attributes are scanned for secrets. */
async function collectDatasets(
  h5: Hdf5Reader,
  report: Report,
  addr: number,
  prefix: string,
  skip: Set<string>,
  label = prefix,
): Promise<{ weights: Weight[]; count: number; params: number }> {
  const out = { weights: [] as Weight[], count: 0, params: 0 };
  const seen = new Set<number>();
  const stack: Array<[number, string, number]> = [[addr, prefix, 0]];
  while (stack.length && seen.size < MAX_OBJECTS) {
    const [a, path, depth] = stack.pop()!;
    if (seen.has(a) || depth > 16) continue;
    seen.add(a);
    const info = await h5.info(a);
    if (a !== h5.rootAddr) scanAttributes(report, info.attrs, path ? (label ? `${label}/${path}` : path) : label);
    if (info.isDataset) {
      out.count++;
      const shape = info.shape ?? [];
      out.params += shape.reduce((x, y) => x * y, 1);
      if (out.weights.length < MAX_WEIGHTS_LISTED) out.weights.push({ path, shape, dtype: info.dtype });
      continue;
    }
    if (!info.isGroup) continue;
    const { links } = await h5.children(a);
    for (let i = links.length - 1; i >= 0; i--) {
      const l = links[i]!;
      if (depth === 0 && skip.has(l.name)) continue;
      stack.push([l.addr, path ? `${path}/${l.name}` : l.name, depth + 1]);
    }
  }
  if (seen.size >= MAX_OBJECTS) report.flag("hdf5-too-many-objects", `more than ${MAX_OBJECTS} objects: the rest were not inspected`);
  return out;
}

/** HDF5 files: Keras .h5 (model.save / save_weights layouts) or any other HDF5 container. */
export function createHdf5Handler(ctx: HandlerContext, sbOffset: number): FormatHandler {
  const { report } = ctx;
  return {
    write() {},
    end() {},
    async finish() {
      const size = ctx.size ?? ctx.total();
      const ra: RandomAccess = {
        size,
        read: async (offset, length) => {
          const head = ctx.head();
          if (offset + length <= head.length) return head.subarray(offset, offset + length);
          if (ctx.readRange) return ctx.readRange(offset, offset + length);
          throw new H5Error(
            `offset ${offset} is beyond the first ${head.length} bytes and no random access is available`,
            "needs-random-access",
          );
        },
      };
      const h5 = new Hdf5Reader(ra);
      report.format = "hdf5";
      report.framework = "none";
      try {
        await h5.open(sbOffset);
        const root = await h5.info(h5.rootAddr);
        const attrs = root.attrs;
        scanAttributes(report, new Map([...attrs].filter(([k]) => k !== "model_config" && k !== "training_config")), "");
        const { links } = await h5.children(h5.rootAddr);
        const names = links.map((l) => l.name);
        const isKeras = KERAS_ROOT_ATTRS.some((k) => attrs.has(k)) || (attrs.has("layer_names") && attrs.has("backend"));
        if (!isKeras) {
          const data = await collectDatasets(h5, report, h5.rootAddr, "", new Set());
          report.metadata = {
            superblockVersion: h5.superblockVersion,
            rootAttributes: scalarAttrs(attrs),
            members: names.slice(0, 256),
            datasetCount: data.count,
            datasets: data.weights,
          };
          return;
        }
        report.format = "hdf5-keras";
        report.framework = "tensorflow-keras";
        const modelConfigText = text(attrs.get("model_config"));
        const trainingText = text(attrs.get("training_config"));
        const modelConfig = parseJson(modelConfigText);
        if (modelConfigText && modelConfig === null) {
          report.flag("keras-config-unreadable", "model_config attribute is not valid JSON");
          checkSecrets(report, null, modelConfigText, "@model_config");
        }
        const training = parseJson(trainingText) as { optimizer_config?: { class_name?: string }; loss?: unknown } | null;
        // losses and metrics are deserialized too: Lambda-style code and module references count there as well
        if (training) analyzeKerasConfig(training, report, "@training_config");
        else if (trainingText) checkSecrets(report, null, trainingText, "@training_config");
        const weightsLink = links.find((l) => l.name === "model_weights");
        const weightsRoot = weightsLink ? weightsLink.addr : h5.rootAddr;
        const weightsInfo = weightsLink ? await h5.info(weightsLink.addr) : root;
        const data = await collectDatasets(h5, report, weightsRoot, "", new Set(["optimizer_weights"]), weightsLink ? "model_weights" : "");
        // the weights walk starts below model_weights; everything else (optimizer state, other groups) is scanned for secrets too
        await collectDatasets(h5, report, h5.rootAddr, "", new Set(["model_weights"]));
        const arch = modelConfig ? analyzeKerasConfig(modelConfig, report, "@model_config") : null;
        const layerNames = weightsInfo.attrs.get("layer_names");
        report.metadata = {
          kerasVersion: text(attrs.get("keras_version")) ?? text(weightsInfo.attrs.get("keras_version")),
          backend: text(attrs.get("backend")) ?? text(weightsInfo.attrs.get("backend")),
          layout: modelConfigText ? "model" : "weights-only",
          modelClass: arch?.modelClass ?? null,
          modelName: arch?.name ?? null,
          layerCount: arch?.layerCount ?? (Array.isArray(layerNames) ? layerNames.length : null),
          layers: arch?.layers ?? (Array.isArray(layerNames) ? layerNames : null),
          optimizer: training?.optimizer_config?.class_name ?? null,
          loss: training?.loss ?? null,
          parameterCount: data.params,
          weightCount: data.count,
          weights: data.weights,
        };
      } catch (e) {
        const err = e as Error & { code?: string };
        if (err.code === "needs-random-access") {
          // Streaming without random access: fall back to attribute names visible in the head.
          const head = new TextDecoder("latin1").decode(ctx.head());
          if (/keras_version|model_config/.test(head)) {
            report.format = "hdf5-keras";
            report.framework = "tensorflow-keras";
          }
          if (/"class_name":\s*"Lambda"/.test(head))
            report.danger("keras-lambda-layer", "a Lambda layer is named in the part of the file that could be read");
          // fail closed: the attribute and Lambda checks did not all run
          report.flag("hdf5-partial", `HDF5 structure not fully read, so not every check ran: ${err.message}`);
          report.metadata = { partial: true };
          return;
        }
        if (err.code === "unsupported")
          report.flag("hdf5-unsupported", `HDF5 structure not fully read, so not every check ran: ${err.message}`);
        else report.fail(`hdf5-${err.code ?? "error"}`, `HDF5 file cannot be read: ${err.message}`);
      }
    },
  };
}
