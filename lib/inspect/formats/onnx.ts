import { ParseError, readBytes, skipBytes, type Feeder, type ParserGen } from "../feeder";
import { fieldEnd, int, keyValue, nextTag, skipField, str, tag } from "./protobuf";
import { checkSecrets, feederHandler, type FormatHandler, type HandlerContext } from "../handler";
import type { Report } from "../report";

/**
 * ONNX ModelProto read straight from the protobuf wire format: only the fields we report are
 * decoded, everything else (initializer raw_data in particular) is skipped without buffering.
 */

const ELEM_TYPES: Record<number, string> = {
  1: "float32",
  2: "uint8",
  3: "int8",
  4: "uint16",
  5: "int16",
  6: "int32",
  7: "int64",
  8: "string",
  9: "bool",
  10: "float16",
  11: "float64",
  12: "uint32",
  13: "uint64",
  14: "complex64",
  15: "complex128",
  16: "bfloat16",
  17: "float8e4m3fn",
  18: "float8e4m3fnuz",
  19: "float8e5m2",
  20: "float8e5m2fnuz",
  21: "uint4",
  22: "int4",
};
const MAX_DEPTH = 24;
const LISTED = 256;

interface ValueInfo {
  name: string;
  elemType: string | null;
  shape: Array<number | string> | null;
}

interface State {
  f: Feeder;
  report: Report;
  nodes: number;
  ops: Map<string, number>;
  initializers: number;
  initializerNames: Set<string>;
  params: number;
  external: string[];
  domains: Set<string>;
}

function* valueInfo(end: number, f: Feeder): ParserGen<ValueInfo> {
  const vi: ValueInfo = { name: "", elemType: null, shape: null };
  for (let t = yield* tag(end, f); t; t = yield* tag(end, f)) {
    if (t.field === 1 && t.wire === 2) vi.name = yield* str(end, f);
    else if (t.field === 2 && t.wire === 2) {
      const typeEnd = yield* fieldEnd(end, f);
      for (let u = yield* tag(typeEnd, f); u; u = yield* tag(typeEnd, f)) {
        if (u.field === 1 && u.wire === 2) {
          const tensorEnd = yield* fieldEnd(typeEnd, f);
          for (let w = yield* tag(tensorEnd, f); w; w = yield* tag(tensorEnd, f)) {
            if (w.field === 1 && w.wire === 0) {
              const e = yield* int();
              vi.elemType = ELEM_TYPES[e] ?? `type${e}`;
            } else if (w.field === 2 && w.wire === 2) {
              vi.shape = [];
              const shapeEnd = yield* fieldEnd(tensorEnd, f);
              for (let d = yield* tag(shapeEnd, f); d; d = yield* tag(shapeEnd, f)) {
                if (d.field !== 1 || d.wire !== 2) {
                  yield* skipField(d.wire, shapeEnd, f);
                  continue;
                }
                const dimEnd = yield* fieldEnd(shapeEnd, f);
                let dim: number | string = "?";
                for (let x = yield* tag(dimEnd, f); x; x = yield* tag(dimEnd, f)) {
                  if (x.field === 1 && x.wire === 0) dim = yield* int();
                  else if (x.field === 2 && x.wire === 2) dim = yield* str(dimEnd, f, 128);
                  else yield* skipField(x.wire, dimEnd, f);
                }
                if (vi.shape.length < 16) vi.shape.push(dim);
              }
            } else yield* skipField(w.wire, tensorEnd, f);
          }
        } else yield* skipField(u.wire, typeEnd, f);
      }
    } else yield* skipField(t.wire, end, f);
  }
  return vi;
}

/** Tensor data kept in a file outside the model: paths that leave the model's directory read (or, as UNC paths, connect to) elsewhere. */
function checkExternalLocation(report: Report, loc: string, where: string): void {
  if (/^[/\\]|^[A-Za-z]:|^~|(^|[/\\])\.\.([/\\]|$)|^[a-z][a-z0-9+.-]*:/i.test(loc)) {
    report.danger(
      "onnx-external-path",
      `external tensor data at ${loc.slice(0, 200)} lies outside the model directory (absolute, UNC, traversal or URL path)`,
      where,
    );
  }
}

/** A TensorProto: initializers are counted; string data is scanned for secrets and external locations are checked wherever the tensor sits. */
function* tensor(end: number, s: State, where: string, initializer: boolean): ParserGen<void> {
  const f = s.f;
  let numel = 1;
  let name = "";
  for (let t = yield* tag(end, f); t; t = yield* tag(end, f)) {
    if (t.field === 1 && t.wire === 0) numel *= Math.max(0, yield* int());
    else if (t.field === 1 && t.wire === 2) {
      const packedEnd = yield* fieldEnd(end, f);
      while (f.pos < packedEnd) numel *= Math.max(0, yield* int());
    } else if (t.field === 8 && t.wire === 2) name = yield* str(end, f, 256);
    else if (t.field === 6 && t.wire === 2)
      checkSecrets(s.report, name || null, yield* str(end, f, 64 * 1024), `${where}${name ? `.${name}` : ""}`);
    else if (t.field === 13 && t.wire === 2) {
      const [k, v] = yield* keyValue(yield* fieldEnd(end, f), f);
      if (k === "location") {
        if (s.external.length < 64) s.external.push(v);
        checkExternalLocation(s.report, v, `${where}${name ? `.${name}` : ""}`);
      }
    } else yield* skipField(t.wire, end, f);
  }
  if (!initializer) return;
  s.initializers++;
  s.params += numel;
  if (s.initializerNames.size < 100_000) s.initializerNames.add(name);
}

/** An AttributeProto of a node: strings and tensors are checked, subgraphs walked. */
function* attribute(end: number, s: State, depth: number, node: string): ParserGen<void> {
  const f = s.f;
  let name = "";
  for (let a = yield* tag(end, f); a; a = yield* tag(end, f)) {
    const where = `node ${node}.${name || "?"}`;
    if (a.field === 1 && a.wire === 2) name = yield* str(end, f, 256);
    else if ((a.field === 4 || a.field === 9) && a.wire === 2) checkSecrets(s.report, name || null, yield* str(end, f, 64 * 1024), where);
    else if ((a.field === 5 || a.field === 10) && a.wire === 2) yield* tensor(yield* fieldEnd(end, f), s, where, false);
    else if ((a.field === 6 || a.field === 11) && a.wire === 2 && depth < MAX_DEPTH) {
      // subgraphs (If/Loop/Scan bodies)
      yield* graph(yield* fieldEnd(end, f), s, depth + 1, null);
    } else yield* skipField(a.wire, end, f);
  }
}

function* node(end: number, s: State, depth: number): ParserGen<void> {
  const f = s.f;
  s.nodes++;
  let op = "";
  let domain = "";
  for (let t = yield* tag(end, f); t; t = yield* tag(end, f)) {
    if (t.field === 4 && t.wire === 2) op = yield* str(end, f, 256);
    else if (t.field === 7 && t.wire === 2) domain = yield* str(end, f, 256);
    else if (t.field === 6 && t.wire === 2) checkSecrets(s.report, null, yield* str(end, f, 64 * 1024), `node ${op || "?"}.doc_string`);
    else if (t.field === 5 && t.wire === 2) yield* attribute(yield* fieldEnd(end, f), s, depth, op || "?");
    else yield* skipField(t.wire, end, f);
  }
  const key = domain && domain !== "ai.onnx" ? `${domain}::${op}` : op;
  if (domain) s.domains.add(domain);
  if (s.ops.size < 1024 || s.ops.has(key)) s.ops.set(key, (s.ops.get(key) ?? 0) + 1);
}

interface GraphOut {
  name: string;
  inputs: ValueInfo[];
  outputs: ValueInfo[];
}

function* graph(end: number, s: State, depth: number, out: GraphOut | null): ParserGen<void> {
  const f = s.f;
  for (let t = yield* tag(end, f); t; t = yield* tag(end, f)) {
    if (t.wire !== 2) {
      yield* skipField(t.wire, end, f);
      continue;
    }
    const subEnd = yield* fieldEnd(end, f);
    if (t.field === 1) yield* node(subEnd, s, depth);
    else if (t.field === 5) yield* tensor(subEnd, s, "initializer", true);
    else if (t.field === 2 && out) out.name = new TextDecoder().decode(yield* readBytes(Math.min(subEnd - f.pos, 4096)));
    else if (t.field === 10)
      checkSecrets(s.report, null, new TextDecoder().decode(yield* readBytes(Math.min(subEnd - f.pos, 64 * 1024))), "graph.doc_string");
    else if ((t.field === 11 || t.field === 12) && out) {
      const vi = yield* valueInfo(subEnd, f);
      const list = t.field === 11 ? out.inputs : out.outputs;
      if (list.length < LISTED) list.push(vi);
    }
    if (f.pos < subEnd) yield* skipBytes(subEnd - f.pos);
  }
}

export function createOnnxHandler(ctx: HandlerContext): FormatHandler {
  const { report } = ctx;
  const meta: Record<string, unknown> = {};
  const opsets: Array<{ domain: string; version: number }> = [];
  const props: Record<string, string> = {};
  const g: GraphOut = { name: "", inputs: [], outputs: [] };
  let sawGraph = false;
  let state: State | null = null;

  function* parse(f: Feeder): ParserGen {
    const s: State = {
      f,
      report,
      nodes: 0,
      ops: new Map(),
      initializers: 0,
      initializerNames: new Set(),
      params: 0,
      external: [],
      domains: new Set(),
    };
    state = s;
    const end = ctx.size ?? Number.MAX_SAFE_INTEGER;
    for (let t = yield* nextTag(end, f, true); t; t = yield* nextTag(end, f, true)) {
      if (t.field === 1 && t.wire === 0) meta.irVersion = yield* int();
      else if (t.field === 2 && t.wire === 2) meta.producerName = yield* str(end, f);
      else if (t.field === 3 && t.wire === 2) meta.producerVersion = yield* str(end, f);
      else if (t.field === 4 && t.wire === 2) meta.domain = yield* str(end, f);
      else if (t.field === 5 && t.wire === 0) meta.modelVersion = yield* int();
      else if (t.field === 6 && t.wire === 2) {
        const doc = yield* str(end, f, 64 * 1024);
        checkSecrets(report, null, doc, "doc_string");
        meta.docString = doc.length > 1024 ? `${doc.slice(0, 1024)}…` : doc;
      } else if (t.field === 7 && t.wire === 2) {
        sawGraph = true;
        const gEnd = yield* fieldEnd(end, f);
        yield* graph(gEnd, s, 0, g);
      } else if (t.field === 8 && t.wire === 2) {
        const oEnd = yield* fieldEnd(end, f);
        const o = { domain: "", version: 0 };
        for (let u = yield* tag(oEnd, f); u; u = yield* tag(oEnd, f)) {
          if (u.field === 1 && u.wire === 2) o.domain = yield* str(oEnd, f);
          else if (u.field === 2 && u.wire === 0) o.version = yield* int();
          else yield* skipField(u.wire, oEnd, f);
        }
        if (opsets.length < 64) opsets.push(o);
      } else if (t.field === 25 && t.wire === 2) {
        // FunctionProto: its nodes (field 5) carry attributes like any graph's
        const fnEnd = yield* fieldEnd(end, f);
        for (let u = yield* tag(fnEnd, f); u; u = yield* tag(fnEnd, f)) {
          if (u.field === 5 && u.wire === 2) yield* node(yield* fieldEnd(fnEnd, f), s, 1);
          else yield* skipField(u.wire, fnEnd, f);
        }
      } else if (t.field === 14 && t.wire === 2) {
        const [k, v] = yield* keyValue(yield* fieldEnd(end, f), f);
        checkSecrets(report, k, v, `metadata_props.${k}`);
        if (Object.keys(props).length < 64) props[k] = v.length > 1024 ? `${v.slice(0, 1024)}…` : v;
      } else if (t.field > 100) {
        throw new ParseError(`field ${t.field} is not part of ModelProto`, "corrupt");
      } else yield* skipField(t.wire, end, f);
    }
  }

  return feederHandler(
    ctx,
    "onnx",
    (f) => parse(f),
    () => {
      const s = state;
      const valid = sawGraph && typeof meta.irVersion === "number" && opsets.length > 0;
      if (!valid) {
        report.format = "unknown";
        report.fail("onnx-incomplete", "protobuf does not contain an ONNX graph with ir_version and opset_import");
        return;
      }
      report.format = "onnx";
      report.framework = "onnx";
      const inputs = s ? g.inputs.filter((i) => !s.initializerNames.has(i.name)) : g.inputs;
      const defaultOpset = opsets.find((o) => o.domain === "" || o.domain === "ai.onnx");
      report.metadata = {
        ...meta,
        opset: defaultOpset?.version ?? null,
        opsetImports: opsets,
        graphName: g.name,
        inputs,
        outputs: g.outputs,
        nodeCount: s?.nodes ?? 0,
        operators: s ? Object.fromEntries([...s.ops].slice(0, 128)) : {},
        initializerCount: s?.initializers ?? 0,
        parameterCount: s?.params ?? 0,
        metadataProps: props,
      };
      if (s?.external.length) {
        report.metadata.externalData = s.external;
        report.info("onnx-external-data", `${s.external.length} tensor(s) keep their data in external files`);
      }
      const custom = s ? [...s.domains].filter((d) => d !== "" && d !== "ai.onnx" && d !== "ai.onnx.ml") : [];
      if (custom.length)
        report.info(
          "onnx-custom-domains",
          `operators from non-standard domains: ${custom.slice(0, 10).join(", ")} (need custom op libraries)`,
        );
    },
  );
}
