import { ParseError, readBytes, readU64, skipBytes, skipToEnd, u32le, type Feeder, type ParserGen } from "../feeder";
import { ascii, checkSecrets, feederHandler, type FormatHandler, type HandlerContext } from "../handler";

/**
 * XGBoost's legacy binary model (Booster.save_model to a non-.json/.ubj name in 1.x, "binf" magic,
 * or the header-less pre-1.0 layout): learner params, objective and booster names, gbtree trees,
 * then string attributes. Read sequentially; every count is checked against the bytes left.
 */

const PARAM_BYTES = 136;
const GBTREE_PARAM_BYTES = 160;
const TREE_PARAM_BYTES = 148;
const NODE_BYTES = 20 + 16;

function* readString(max: number, left: () => number): ParserGen<string> {
  const len = yield* readU64();
  if (len > max || len > left()) throw new ParseError(`string length ${len} is absurd`, "corrupt");
  return new TextDecoder().decode(yield* readBytes(len));
}

export function createXgboostBinaryHandler(ctx: HandlerContext): FormatHandler {
  const { report } = ctx;
  const meta: Record<string, unknown> = {};
  const left = (f: Feeder) => () => (ctx.size === undefined ? Infinity : ctx.size - f.pos);

  function* parse(f: Feeder): ParserGen {
    const rest = left(f);
    const first = (yield* readBytes(4)).slice();
    const headerless = ascii(first) !== "binf";
    const param = new Uint8Array(PARAM_BYTES);
    if (headerless) {
      param.set(first);
      param.set(yield* readBytes(PARAM_BYTES - 4), 4);
    } else {
      param.set(yield* readBytes(PARAM_BYTES));
    }
    const dv = new DataView(param.buffer);
    const numFeature = u32le(param, 4);
    const numClass = dv.getInt32(8, true);
    const extraAttrs = dv.getInt32(12, true);
    const evalMetrics = dv.getInt32(16, true);
    meta.baseScore = dv.getFloat32(0, true);
    meta.numFeatures = numFeature;
    meta.numClass = numClass;
    if (!headerless) meta.writerVersion = `${u32le(param, 20)}.${u32le(param, 24)}`;
    const objective = yield* readString(256, rest);
    const booster = yield* readString(256, rest);
    meta.objective = objective;
    meta.booster = booster;
    if (!/^[a-z_]+(:[a-z_]+)?$/.test(objective) || !/^(gbtree|gblinear|dart)$/.test(booster)) {
      throw new ParseError("objective or booster name is not valid", "corrupt");
    }
    if (booster === "gblinear") {
      yield* skipBytes(PARAM_BYTES);
      const n = yield* readU64();
      if (n * 4 > rest()) throw new ParseError("gblinear weight count is absurd", "corrupt");
      yield* skipBytes(n * 4);
    } else {
      const gp = (yield* readBytes(GBTREE_PARAM_BYTES)).slice();
      const gdv = new DataView(gp.buffer);
      const numTrees = gdv.getInt32(0, true);
      if (numTrees < 0 || numTrees * TREE_PARAM_BYTES > rest()) throw new ParseError(`tree count ${numTrees} is absurd`, "corrupt");
      meta.numTrees = numTrees;
      let nodes = 0;
      for (let t = 0; t < numTrees; t++) {
        const tp = yield* readBytes(TREE_PARAM_BYTES);
        const tdv = new DataView(tp.buffer, tp.byteOffset, TREE_PARAM_BYTES);
        const numNodes = tdv.getInt32(4, true);
        const leafVector = tdv.getInt32(20, true);
        if (numNodes < 0 || numNodes * NODE_BYTES > rest()) throw new ParseError(`tree ${t} node count ${numNodes} is absurd`, "corrupt");
        nodes += numNodes;
        yield* skipBytes(numNodes * NODE_BYTES);
        if (leafVector !== 0) {
          const n = yield* readU64();
          if (n * 4 > rest()) throw new ParseError("leaf vector is absurd", "corrupt");
          yield* skipBytes(n * 4);
        }
      }
      meta.numNodes = nodes;
      yield* skipBytes(numTrees * 4);
      if (booster === "dart") {
        const n = yield* readU64();
        if (n * 4 > rest()) throw new ParseError("dart weight count is absurd", "corrupt");
        yield* skipBytes(n * 4);
      }
    }
    if (extraAttrs !== 0) {
      const count = yield* readU64();
      if (count > 100_000 || count * 16 > rest()) throw new ParseError(`attribute count ${count} is absurd`, "corrupt");
      const attrs: Record<string, string> = {};
      for (let i = 0; i < count; i++) {
        const k = yield* readString(1 << 20, rest);
        const v = yield* readString(16 << 20, rest);
        checkSecrets(report, k, v, `attributes.${k}`);
        if (i < 64) attrs[k] = v.length > 512 ? `${v.slice(0, 512)}…` : v;
      }
      meta.attributes = attrs;
      if (typeof attrs.objective === "string") {
        try {
          const o = JSON.parse(attrs.objective) as { name?: unknown };
          if (typeof o.name === "string") meta.objective = o.name;
        } catch {
          /* attribute is informational only */
        }
      }
    }
    if (evalMetrics !== 0) {
      const count = yield* readU64();
      if (count > 10_000 || count * 8 > rest()) throw new ParseError(`metric count ${count} is absurd`, "corrupt");
      const metrics: string[] = [];
      for (let i = 0; i < count; i++) metrics.push(yield* readString(1024, rest));
      meta.evalMetrics = metrics.slice(0, 64);
    }
    const end = f.pos;
    yield* skipToEnd();
    if (f.pos > end) report.flag("xgboost-trailing-data", `${f.pos - end} bytes follow the model`);
  }

  return feederHandler(
    ctx,
    "xgboost",
    (f) => parse(f),
    () => {
      if (report.isInvalid && meta.objective === undefined) {
        report.format = "unknown";
        return;
      }
      report.format = "xgboost-binary";
      report.framework = "xgboost";
      report.metadata = meta;
    },
  );
}
