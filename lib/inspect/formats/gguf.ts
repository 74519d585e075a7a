import { ParseError, readBytes, readU32, readU64, skipBytes, skipToEnd, type Feeder, type ParserGen } from "../feeder";
import { checkSecrets, feederHandler, type FormatHandler, type HandlerContext } from "../handler";
import type { Report } from "../report";
import { judgeTemplate } from "./jinja";

/**
 * GGUF v1–v3 (llama.cpp): header, metadata key/values, tensor infos. Token arrays are counted and
 * skipped, never decoded; every count and length is checked against what the file can hold.
 */

const MAX_COUNT = 1 << 24;
const MAX_STRING = 64 << 20;
const KEEP_STRING = 64 * 1024;

// [name, block size, bytes per block] by ggml_type id
const GGML_TYPES: Record<number, [string, number, number]> = {
  0: ["F32", 1, 4],
  1: ["F16", 1, 2],
  2: ["Q4_0", 32, 18],
  3: ["Q4_1", 32, 20],
  6: ["Q5_0", 32, 22],
  7: ["Q5_1", 32, 24],
  8: ["Q8_0", 32, 34],
  9: ["Q8_1", 32, 36],
  10: ["Q2_K", 256, 84],
  11: ["Q3_K", 256, 110],
  12: ["Q4_K", 256, 144],
  13: ["Q5_K", 256, 176],
  14: ["Q6_K", 256, 210],
  15: ["Q8_K", 256, 292],
  16: ["IQ2_XXS", 256, 66],
  17: ["IQ2_XS", 256, 74],
  18: ["IQ3_XXS", 256, 98],
  19: ["IQ1_S", 256, 50],
  20: ["IQ4_NL", 32, 18],
  21: ["IQ3_S", 256, 110],
  22: ["IQ2_S", 256, 82],
  23: ["IQ4_XS", 256, 136],
  24: ["I8", 1, 1],
  25: ["I16", 1, 2],
  26: ["I32", 1, 4],
  27: ["I64", 1, 8],
  28: ["F64", 1, 8],
  29: ["IQ1_M", 256, 56],
  30: ["BF16", 1, 2],
  34: ["TQ1_0", 256, 54],
  35: ["TQ2_0", 256, 66],
};

// llama_ftype values written to general.file_type
const FILE_TYPES: Record<number, string> = {
  0: "F32",
  1: "F16",
  2: "Q4_0",
  3: "Q4_1",
  7: "Q8_0",
  8: "Q5_0",
  9: "Q5_1",
  10: "Q2_K",
  11: "Q3_K_S",
  12: "Q3_K_M",
  13: "Q3_K_L",
  14: "Q4_K_S",
  15: "Q4_K_M",
  16: "Q5_K_S",
  17: "Q5_K_M",
  18: "Q6_K",
  19: "IQ2_XXS",
  20: "IQ2_XS",
  21: "Q2_K_S",
  22: "IQ3_XS",
  23: "IQ3_XXS",
  24: "IQ1_S",
  25: "IQ4_NL",
  26: "IQ3_S",
  27: "IQ3_M",
  28: "IQ2_S",
  29: "IQ2_M",
  30: "IQ4_XS",
  31: "IQ1_M",
  32: "BF16",
  36: "TQ1_0",
  37: "TQ2_0",
};

const SCALAR_BYTES: Record<number, number> = { 0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8 };

/** Judges a chat template on its Jinja syntax tree (CVE-2024-34359: templates rendered outside a sandbox run Python). */
export function checkTemplate(report: Report, template: string, location: string): void {
  for (const f of judgeTemplate(template)) {
    if (f.severity === "danger") report.danger("gguf-template-injection", `chat template: ${f.message}`, location);
    else report.flag(f.code, `chat template: ${f.message}`, location);
  }
}

type Value = number | bigint | boolean | string | { array: number; type: number; head: unknown[] };

function decodeScalar(type: number, b: Uint8Array): number | bigint | boolean {
  const dv = new DataView(b.buffer, b.byteOffset, b.length);
  switch (type) {
    case 0:
      return dv.getUint8(0);
    case 1:
      return dv.getInt8(0);
    case 2:
      return dv.getUint16(0, true);
    case 3:
      return dv.getInt16(0, true);
    case 4:
      return dv.getUint32(0, true);
    case 5:
      return dv.getInt32(0, true);
    case 6:
      return dv.getFloat32(0, true);
    case 7:
      return b[0] !== 0;
    case 10: {
      const v = dv.getBigUint64(0, true);
      return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
    }
    case 11: {
      const v = dv.getBigInt64(0, true);
      return v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(v) : v;
    }
    default:
      return dv.getFloat64(0, true);
  }
}

export function createGgufHandler(ctx: HandlerContext): FormatHandler {
  const { report } = ctx;
  const kv = new Map<string, Value>();
  const meta: Record<string, unknown> = {};
  let tensorCount = 0;
  let params = 0;
  const typeHistogram: Record<string, number> = {};
  const listed: Array<{ name: string; type: string; shape: number[] }> = [];
  let parsedHeader = false;

  function* parse(f: Feeder): ParserGen {
    const left = () => (ctx.size === undefined ? Infinity : ctx.size - f.pos);
    const readLen = function* (): ParserGen<number> {
      return version === 1 ? yield* readU32() : yield* readU64();
    };
    const readString = function* (keep: number): ParserGen<[string, number]> {
      const len = yield* readLen();
      if (len > MAX_STRING || len > left()) throw new ParseError(`string length ${len} is absurd`, "absurd");
      const take = Math.min(len, keep);
      const s = new TextDecoder().decode(yield* readBytes(take));
      yield* skipBytes(len - take);
      return [s, len];
    };
    yield* skipBytes(4);
    const version = yield* readU32();
    if (version < 1 || version > 3) throw new ParseError(`unsupported GGUF version ${version}`, "version");
    tensorCount = yield* readLen();
    const kvCount = yield* readLen();
    meta.version = version;
    meta.tensorCount = tensorCount;
    meta.kvCount = kvCount;
    if (tensorCount > MAX_COUNT || kvCount > MAX_COUNT || tensorCount * 24 > left() || kvCount * 12 > left()) {
      throw new ParseError(`absurd counts: ${tensorCount} tensors, ${kvCount} metadata entries`, "absurd");
    }
    parsedHeader = true;
    for (let i = 0; i < kvCount; i++) {
      const [key] = yield* readString(1024);
      const type = yield* readU32();
      let value: Value;
      if (type === 8) {
        const [s, len] = yield* readString(KEEP_STRING);
        value = len > KEEP_STRING ? `${s}…` : s;
      } else if (type === 9) {
        const itemType = yield* readU32();
        const count = yield* readLen();
        const head: unknown[] = [];
        const size = SCALAR_BYTES[itemType];
        if (count > 1 << 30 || (size ?? 8) * count > left()) throw new ParseError(`array ${key} claims ${count} items`, "absurd");
        if (size !== undefined) {
          const keep = Math.min(count, 16);
          for (let j = 0; j < keep; j++) head.push(decodeScalar(itemType, yield* readBytes(size)));
          yield* skipBytes((count - keep) * size);
        } else if (itemType === 8) {
          // vocabularies are skipped; any other string list (tags, URLs, notes) is scanned for secrets
          const vocab = key.startsWith("tokenizer.ggml.");
          for (let j = 0; j < count; j++) {
            const [s] = yield* readString(vocab ? 256 : 4096);
            if (!vocab) checkSecrets(report, key, s, key);
            if (j < 16) head.push(s);
          }
        } else {
          throw new ParseError(`array ${key} has unsupported item type ${itemType}`, "corrupt");
        }
        value = { array: count, type: itemType, head };
      } else {
        const size = SCALAR_BYTES[type];
        if (size === undefined) throw new ParseError(`metadata ${key} has unknown type ${type}`, "corrupt");
        value = decodeScalar(type, yield* readBytes(size));
      }
      if (typeof value === "string") {
        if (key.endsWith("chat_template") || key.includes("chat_template.")) {
          checkTemplate(report, value, key);
        } else {
          checkSecrets(report, key, value, key);
        }
        if (value.length > 1024) value = `${value.slice(0, 1024)}…`;
      }
      if (kv.size < 4096) kv.set(key, value);
    }
    const alignmentValue = kv.get("general.alignment");
    const alignment = typeof alignmentValue === "number" && alignmentValue > 0 ? alignmentValue : 32;
    let maxEnd = 0;
    for (let i = 0; i < tensorCount; i++) {
      const [name] = yield* readString(1024);
      const dims = yield* readU32();
      if (dims > 8) throw new ParseError(`tensor ${name} has ${dims} dimensions`, "corrupt");
      const shape: number[] = [];
      for (let d = 0; d < dims; d++) shape.push(version === 1 ? yield* readU32() : yield* readU64());
      const type = yield* readU32();
      const offset = yield* readU64();
      const info = GGML_TYPES[type];
      const numel = shape.reduce((a, b) => a * b, 1);
      params += numel;
      const tname = info?.[0] ?? `type${type}`;
      typeHistogram[tname] = (typeHistogram[tname] ?? 0) + 1;
      if (listed.length < 256) listed.push({ name, type: tname, shape });
      if (info) maxEnd = Math.max(maxEnd, offset + Math.ceil(numel / info[1]) * info[2]);
      if (offset % alignment !== 0) report.fail("gguf-alignment", `tensor ${name} offset ${offset} is not aligned to ${alignment}`);
    }
    const dataStart = Math.ceil(f.pos / alignment) * alignment;
    const infoEnd = f.pos;
    yield* skipToEnd();
    if (dataStart + maxEnd > f.pos && tensorCount > 0) {
      throw new ParseError(`tensor data needs ${dataStart + maxEnd} bytes, file has ${f.pos}`, "truncated");
    }
    meta.tensorInfoEnd = infoEnd;
  }

  return feederHandler(
    ctx,
    "gguf",
    (f) => parse(f),
    () => {
      report.format = parsedHeader ? "gguf" : "unknown";
      report.framework = parsedHeader ? "llm" : "none";
      const get = (k: string) => kv.get(k);
      const arch = get("general.architecture");
      const a = typeof arch === "string" ? arch : null;
      const fileType = get("general.file_type");
      const dominant = Object.entries(typeHistogram).sort((x, y) => y[1] - x[1])[0]?.[0] ?? null;
      const tokens = get("tokenizer.ggml.tokens");
      const template = get("tokenizer.chat_template");
      const scalars: Record<string, unknown> = {};
      for (const [k, v] of kv) {
        if (Object.keys(scalars).length >= 64) break;
        if (typeof v !== "object" && !k.startsWith("tokenizer."))
          scalars[k] = typeof v === "string" && v.length > 256 ? `${v.slice(0, 256)}…` : v;
      }
      Object.assign(meta, {
        architecture: a,
        name: get("general.name") ?? null,
        contextLength: a ? (get(`${a}.context_length`) ?? null) : null,
        embeddingLength: a ? (get(`${a}.embedding_length`) ?? null) : null,
        blockCount: a ? (get(`${a}.block_count`) ?? null) : null,
        quantization: typeof fileType === "number" ? (FILE_TYPES[fileType] ?? `file_type ${fileType}`) : dominant,
        tensorTypes: typeHistogram,
        parameterCount: params,
        tokenizer: get("tokenizer.ggml.model") ?? null,
        vocabSize: tokens && typeof tokens === "object" ? tokens.array : null,
        hasChatTemplate: typeof template === "string",
        tensors: listed,
        keys: scalars,
      });
      report.metadata = meta;
    },
  );
}
