import { ParseError, type Feeder, type ParserGen } from "../feeder";
import { checkSecrets, feederHandler, type FormatHandler, type HandlerContext } from "../handler";
import type { Report } from "../report";
import { fieldEnd, int, nextTag, skipField, str, tag } from "./protobuf";

/**
 * TensorFlow protobufs, read from the wire format as they stream: a SavedModel's `saved_model.pb`
 * (meta graphs, tags, signatures, the graph and its function library) and a frozen `GraphDef`.
 * Every op of the graph and of its functions is named and checked: ops that read or write files
 * or call back into Python when the graph runs make the model dangerous. Best-effort: the
 * variables/ and assets/ beside a SavedModel are separate files and are not part of this one.
 */

/** Ops that touch the file system or run Python when the graph is executed (modelscan flags ReadFile/WriteFile). */
export const DANGEROUS_TF_OPS = new Set([
  "ReadFile",
  "WriteFile",
  "MatchingFiles",
  "ImmutableConst",
  "PyFunc",
  "PyFuncStateless",
  "EagerPyFunc",
  "TextLineDataset",
  "TFRecordDataset",
  "FixedLengthRecordDataset",
  "FixedLengthRecordDatasetV2",
  "DebugIdentityV2",
  "DebugIdentityV3",
]);

const DTYPES: Record<number, string> = {
  1: "float32",
  2: "float64",
  3: "int32",
  4: "uint8",
  5: "int16",
  6: "int8",
  7: "string",
  8: "complex64",
  9: "int64",
  10: "bool",
  14: "bfloat16",
  19: "float16",
  22: "uint32",
  23: "uint64",
};
const MAX_DEPTH = 32;
const LISTED = 128;

interface TensorInfo {
  key: string;
  name: string;
  dtype: string | null;
  shape: Array<number | string> | null;
}

interface State {
  f: Feeder;
  report: Report;
  nodes: number;
  functions: number;
  ops: Map<string, number>;
  tags: string[];
  tfVersion: string | null;
  metaGraphs: number;
  signatures: Array<{ name: string; method: string | null; inputs: TensorInfo[]; outputs: TensorInfo[] }>;
  sawGraph: boolean;
  schemaVersion: number | null;
}

function countOp(s: State, op: string, where?: string): void {
  s.ops.set(op, (s.ops.get(op) ?? 0) + 1);
  if (DANGEROUS_TF_OPS.has(op))
    s.report.danger("tf-dangerous-op", `the graph uses ${op}: running it reads or writes files, or calls Python`, where);
}

/** AttrValue: string values (and string tensors) are checked for secrets; everything else is skipped. */
function* attrValue(end: number, s: State, where: string, depth: number): ParserGen<void> {
  const { f } = s;
  for (let t = yield* tag(end, f); t; t = yield* tag(end, f)) {
    if (t.field === 2 && t.wire === 2) checkSecrets(s.report, null, yield* str(end, f, 64 * 1024), where);
    else if ((t.field === 1 || t.field === 8) && t.wire === 2 && depth < MAX_DEPTH) {
      // list (field 2 = s) and TensorProto (field 8 = string_val)
      const inner = yield* fieldEnd(end, f);
      const stringField = t.field === 1 ? 2 : 8;
      for (let u = yield* tag(inner, f); u; u = yield* tag(inner, f)) {
        if (u.field === stringField && u.wire === 2) checkSecrets(s.report, null, yield* str(inner, f, 64 * 1024), where);
        else yield* skipField(u.wire, inner, f);
      }
    } else yield* skipField(t.wire, end, f);
  }
}

/** NodeDef: name (1), op (2), attr map (5). */
function* nodeDef(end: number, s: State, depth: number): ParserGen<void> {
  const { f } = s;
  let name = "";
  let op = "";
  for (let t = yield* tag(end, f); t; t = yield* tag(end, f)) {
    if (t.field === 1 && t.wire === 2) name = yield* str(end, f, 512);
    else if (t.field === 2 && t.wire === 2) op = yield* str(end, f, 256);
    else if (t.field === 5 && t.wire === 2) {
      const entryEnd = yield* fieldEnd(end, f);
      let key = "";
      for (let u = yield* tag(entryEnd, f); u; u = yield* tag(entryEnd, f)) {
        if (u.field === 1 && u.wire === 2) key = yield* str(entryEnd, f, 256);
        else if (u.field === 2 && u.wire === 2) yield* attrValue(yield* fieldEnd(entryEnd, f), s, `${name}.${key}`, depth + 1);
        else yield* skipField(u.wire, entryEnd, f);
      }
    } else yield* skipField(t.wire, end, f);
  }
  s.nodes++;
  if (op) countOp(s, op, name || undefined);
}

/** FunctionDefLibrary: each FunctionDef's node_def (3) is a NodeDef like the graph's. */
function* library(end: number, s: State, depth: number): ParserGen<void> {
  const { f } = s;
  for (let t = yield* tag(end, f); t; t = yield* tag(end, f)) {
    if (t.field === 1 && t.wire === 2) {
      const fnEnd = yield* fieldEnd(end, f);
      s.functions++;
      for (let u = yield* tag(fnEnd, f); u; u = yield* tag(fnEnd, f)) {
        if (u.field === 3 && u.wire === 2) yield* nodeDef(yield* fieldEnd(fnEnd, f), s, depth + 1);
        else yield* skipField(u.wire, fnEnd, f);
      }
    } else yield* skipField(t.wire, end, f);
  }
}

/** GraphDef: node (1), library (2). `end` may be Infinity for a whole-file GraphDef. */
function* graphDef(end: number, s: State, depth: number, topLevel = false): ParserGen<void> {
  const { f } = s;
  s.sawGraph = true;
  for (let t = yield* nextTag(end, f, topLevel); t; t = yield* nextTag(end, f, topLevel)) {
    if (t.field === 1 && t.wire === 2) yield* nodeDef(yield* fieldEnd(end, f), s, depth + 1);
    else if (t.field === 2 && t.wire === 2) yield* library(yield* fieldEnd(end, f), s, depth + 1);
    else if (topLevel && t.field > 16) throw new ParseError(`field ${t.field} is not part of GraphDef`, "corrupt");
    else yield* skipField(t.wire, end, f);
  }
}

function* tensorInfo(end: number, s: State, key: string): ParserGen<TensorInfo> {
  const { f } = s;
  const info: TensorInfo = { key, name: "", dtype: null, shape: null };
  for (let t = yield* tag(end, f); t; t = yield* tag(end, f)) {
    if (t.field === 1 && t.wire === 2) info.name = yield* str(end, f, 256);
    else if (t.field === 2 && t.wire === 0) {
      const d = yield* int();
      info.dtype = DTYPES[d] ?? `dtype${d}`;
    } else if (t.field === 3 && t.wire === 2) {
      const shapeEnd = yield* fieldEnd(end, f);
      const dims: Array<number | string> = [];
      for (let u = yield* tag(shapeEnd, f); u; u = yield* tag(shapeEnd, f)) {
        if (u.field === 2 && u.wire === 2) {
          const dimEnd = yield* fieldEnd(shapeEnd, f);
          let size: number | string = -1;
          for (let w = yield* tag(dimEnd, f); w; w = yield* tag(dimEnd, f)) {
            if (w.field === 1 && w.wire === 0) {
              const v = yield* int();
              size = v > Number.MAX_SAFE_INTEGER ? -1 : v; // -1 (unknown) arrives as a 10-byte varint
            } else if (w.field === 2 && w.wire === 2) size = yield* str(dimEnd, f, 64);
            else yield* skipField(w.wire, dimEnd, f);
          }
          if (dims.length < 16) dims.push(size === -1 ? "?" : size);
        } else yield* skipField(u.wire, shapeEnd, f);
      }
      info.shape = dims;
    } else yield* skipField(t.wire, end, f);
  }
  return info;
}

/** A map<string, TensorInfo> entry. */
function* tensorInfoEntry(end: number, s: State): ParserGen<TensorInfo> {
  const { f } = s;
  let key = "";
  let info: TensorInfo | null = null;
  for (let t = yield* tag(end, f); t; t = yield* tag(end, f)) {
    if (t.field === 1 && t.wire === 2) key = yield* str(end, f, 256);
    else if (t.field === 2 && t.wire === 2) info = yield* tensorInfo(yield* fieldEnd(end, f), s, key);
    else yield* skipField(t.wire, end, f);
  }
  return { ...(info ?? { name: "", dtype: null, shape: null }), key };
}

/** signature_def map entry: key (1) -> SignatureDef {inputs 1, outputs 2, method_name 3}. */
function* signatureEntry(end: number, s: State): ParserGen<void> {
  const { f } = s;
  const sig = { name: "", method: null as string | null, inputs: [] as TensorInfo[], outputs: [] as TensorInfo[] };
  for (let t = yield* tag(end, f); t; t = yield* tag(end, f)) {
    if (t.field === 1 && t.wire === 2) sig.name = yield* str(end, f, 256);
    else if (t.field === 2 && t.wire === 2) {
      const defEnd = yield* fieldEnd(end, f);
      for (let u = yield* tag(defEnd, f); u; u = yield* tag(defEnd, f)) {
        if ((u.field === 1 || u.field === 2) && u.wire === 2) {
          const info = yield* tensorInfoEntry(yield* fieldEnd(defEnd, f), s);
          const list = u.field === 1 ? sig.inputs : sig.outputs;
          if (list.length < 64) list.push(info);
        } else if (u.field === 3 && u.wire === 2) sig.method = yield* str(defEnd, f, 256);
        else yield* skipField(u.wire, defEnd, f);
      }
    } else yield* skipField(t.wire, end, f);
  }
  if (s.signatures.length < 32) s.signatures.push(sig);
}

/** SavedObjectGraph: user objects carry Keras layer configs as JSON metadata; a Lambda layer there is marshalled code. */
function* objectGraph(end: number, s: State): ParserGen<void> {
  const { f } = s;
  for (let t = yield* tag(end, f); t; t = yield* tag(end, f)) {
    if (t.field !== 1 || t.wire !== 2) {
      yield* skipField(t.wire, end, f);
      continue;
    }
    const objEnd = yield* fieldEnd(end, f);
    for (let u = yield* tag(objEnd, f); u; u = yield* tag(objEnd, f)) {
      if (u.field !== 4 || u.wire !== 2) {
        yield* skipField(u.wire, objEnd, f);
        continue;
      }
      const userEnd = yield* fieldEnd(objEnd, f);
      for (let w = yield* tag(userEnd, f); w; w = yield* tag(userEnd, f)) {
        if (w.field === 3 && w.wire === 2) {
          const meta = yield* str(userEnd, f, 1024 * 1024);
          if (/"class_name"\s*:\s*"Lambda"/.test(meta))
            s.report.danger("keras-lambda", "a Keras Lambda layer: Keras runs its marshalled Python code when it loads the model");
          checkSecrets(s.report, null, meta, "object_graph_def");
        } else yield* skipField(w.wire, userEnd, f);
      }
    }
  }
}

/** MetaGraphDef: meta_info_def (1), graph_def (2), signature_def (5), asset_file_def (6), object_graph_def (7). */
function* metaGraph(end: number, s: State): ParserGen<void> {
  const { f } = s;
  s.metaGraphs++;
  for (let t = yield* tag(end, f); t; t = yield* tag(end, f)) {
    if (t.field === 1 && t.wire === 2) {
      const infoEnd = yield* fieldEnd(end, f);
      for (let u = yield* tag(infoEnd, f); u; u = yield* tag(infoEnd, f)) {
        if (u.field === 4 && u.wire === 2) {
          const tagName = yield* str(infoEnd, f, 128);
          if (s.tags.length < 16 && !s.tags.includes(tagName)) s.tags.push(tagName);
        } else if (u.field === 5 && u.wire === 2) s.tfVersion = yield* str(infoEnd, f, 64);
        else yield* skipField(u.wire, infoEnd, f);
      }
    } else if (t.field === 2 && t.wire === 2) yield* graphDef(yield* fieldEnd(end, f), s, 1);
    else if (t.field === 5 && t.wire === 2) yield* signatureEntry(yield* fieldEnd(end, f), s);
    else if (t.field === 6 && t.wire === 2) {
      const assetEnd = yield* fieldEnd(end, f);
      for (let u = yield* tag(assetEnd, f); u; u = yield* tag(assetEnd, f)) {
        if (u.field === 2 && u.wire === 2) {
          const file = yield* str(assetEnd, f, 1024);
          if (/^[/\\]|^[A-Za-z]:|(^|[/\\])\.\.([/\\]|$)/.test(file))
            s.report.danger("tf-asset-path", `an asset file outside the model directory: ${file.slice(0, 200)}`);
        } else yield* skipField(u.wire, assetEnd, f);
      }
    } else if (t.field === 7 && t.wire === 2) yield* objectGraph(yield* fieldEnd(end, f), s);
    else yield* skipField(t.wire, end, f);
  }
}

/** A SavedModel (`saved_model.pb`) or a frozen GraphDef, streamed. */
export function createTensorflowHandler(ctx: HandlerContext, kind: "tf-savedmodel" | "tf-graphdef"): FormatHandler {
  const { report } = ctx;
  let state: State | null = null;

  function* parse(f: Feeder): ParserGen {
    const s: State = {
      f,
      report,
      nodes: 0,
      functions: 0,
      ops: new Map(),
      tags: [],
      tfVersion: null,
      metaGraphs: 0,
      signatures: [],
      sawGraph: false,
      schemaVersion: null,
    };
    state = s;
    const end = ctx.size ?? Infinity;
    if (kind === "tf-graphdef") {
      yield* graphDef(end, s, 0, true);
      return;
    }
    for (let t = yield* nextTag(end, f, true); t; t = yield* nextTag(end, f, true)) {
      if (t.field === 1 && t.wire === 0) s.schemaVersion = yield* int();
      else if (t.field === 2 && t.wire === 2) yield* metaGraph(yield* fieldEnd(end, f), s);
      else throw new ParseError(`field ${t.field} is not part of SavedModel`, "corrupt");
    }
  }

  return feederHandler(
    ctx,
    "tensorflow",
    (f) => parse(f),
    () => {
      const s = state as State | null;
      const complete = s !== null && s.sawGraph && s.nodes + s.functions > 0 && (kind === "tf-graphdef" || s.metaGraphs > 0);
      if (!s || !complete) {
        report.format = "unknown";
        report.fail(
          "tensorflow-incomplete",
          `protobuf does not hold a TensorFlow ${kind === "tf-graphdef" ? "graph" : "SavedModel"} with ops`,
        );
        return;
      }
      report.format = kind;
      report.framework = "tensorflow";
      const ops = [...s.ops].sort((a, b) => b[1] - a[1]);
      report.metadata = {
        ...(kind === "tf-savedmodel" ? { schemaVersion: s.schemaVersion, metaGraphs: s.metaGraphs, tags: s.tags } : {}),
        tensorflowVersion: s.tfVersion,
        nodeCount: s.nodes,
        functionCount: s.functions,
        operators: Object.fromEntries(ops.slice(0, LISTED)),
        signatures: s.signatures,
      };
      if (kind === "tf-savedmodel")
        report.info(
          "tf-savedmodel-files",
          "a SavedModel keeps its weights in variables/ and assets/ beside this file; those are separate files",
        );
    },
  );
}
