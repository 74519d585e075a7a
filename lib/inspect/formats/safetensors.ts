import { ParseError, pipeBytes, readU64, skipToEnd, type Feeder, type ParserGen } from "../feeder";
import { JsonTokenizer, type JsonSink } from "./json-stream";
import { checkSecrets, feederHandler, type FormatHandler, type HandlerContext } from "../handler";

/** The reference implementation refuses headers above 100 MB; so do we, before reading any of it. */
const MAX_HEADER = 100_000_000;
const LISTED = 256;

/** Bytes per element of each safetensors dtype. */
export const DTYPE_BYTES: Record<string, number> = {
  BOOL: 1,
  U8: 1,
  I8: 1,
  F8_E5M2: 1,
  F8_E4M3: 1,
  F8_E8M0: 1,
  I16: 2,
  U16: 2,
  F16: 2,
  BF16: 2,
  I32: 4,
  U32: 4,
  F32: 4,
  F64: 8,
  I64: 8,
  U64: 8,
  C64: 8,
};

interface Tensor {
  name: string;
  dtype: string;
  shape: number[];
  offsets: number[];
}

/** Reads the JSON header as a stream: per-tensor records are checked and counted, only a few are kept. */
class HeaderSink implements JsonSink {
  depth = 0;
  count = 0;
  params = 0;
  bytes = 0;
  maxEnd = 0;
  readonly listed: Array<{ name: string; dtype: string; shape: number[] }> = [];
  readonly metadata: Record<string, string> = {};
  readonly problems: string[] = [];
  readonly dtypes: Record<string, number> = {};
  private topKey = "";
  private field = "";
  private cur: Tensor | null = null;
  private arr: number[] | null = null;

  constructor(private readonly onMetaString: (k: string, v: string) => void) {}

  startObject(): void {
    this.depth++;
    if (this.depth === 2 && this.topKey !== "__metadata__") this.cur = { name: this.topKey, dtype: "", shape: [], offsets: [] };
    if (this.depth > 2) this.problem("unexpected nested object in header");
  }
  endObject(): void {
    if (this.depth === 2 && this.cur) this.finishTensor(this.cur);
    if (this.depth === 2) this.cur = null;
    this.depth--;
  }
  startArray(): void {
    this.depth++;
    if (this.depth === 3 && this.cur) this.arr = [];
    else this.problem("unexpected array in header");
  }
  endArray(): void {
    if (this.depth === 3 && this.cur && this.arr) {
      if (this.field === "shape") this.cur.shape = this.arr;
      else if (this.field === "data_offsets") this.cur.offsets = this.arr;
    }
    this.arr = null;
    this.depth--;
  }
  key(k: string): void {
    if (this.depth === 1) this.topKey = k;
    else if (this.depth === 2) this.field = k;
  }
  value(v: string | number | boolean | null): void {
    if (this.depth === 3 && this.arr) {
      if (typeof v !== "number" || !Number.isInteger(v) || v < 0) this.problem(`non-integer in ${this.field} of ${this.cur?.name}`);
      else if (this.arr.length < 64) this.arr.push(v);
      return;
    }
    if (this.depth === 2 && this.topKey === "__metadata__") {
      if (typeof v !== "string") this.problem("__metadata__ values must be strings");
      else {
        this.onMetaString(this.field, v);
        if (Object.keys(this.metadata).length < 128) this.metadata[this.field] = v.length > 1024 ? `${v.slice(0, 1024)}…` : v;
      }
      return;
    }
    if (this.depth === 2 && this.cur && this.field === "dtype" && typeof v === "string") {
      this.cur.dtype = v;
      return;
    }
    if (this.depth <= 1) this.problem(`header entry ${this.topKey} is not an object`);
  }
  skippedItems(): void {}

  private problem(msg: string): void {
    if (this.problems.length < 20) this.problems.push(msg);
  }

  private finishTensor(t: Tensor): void {
    this.count++;
    const size = DTYPE_BYTES[t.dtype];
    if (size === undefined) return this.problem(`tensor ${t.name} has unknown dtype ${t.dtype}`);
    const numel = t.shape.reduce((a, b) => a * b, 1);
    const [begin, end] = t.offsets;
    if (t.offsets.length !== 2 || begin === undefined || end === undefined || end < begin) {
      return this.problem(`tensor ${t.name} has bad data_offsets`);
    }
    if (end - begin !== numel * size) this.problem(`tensor ${t.name}: ${end - begin} bytes for ${numel} x ${t.dtype}`);
    this.params += numel;
    this.bytes += end - begin;
    this.maxEnd = Math.max(this.maxEnd, end);
    this.dtypes[t.dtype] = (this.dtypes[t.dtype] ?? 0) + 1;
    if (this.listed.length < LISTED) this.listed.push({ name: t.name, dtype: t.dtype, shape: t.shape });
  }
}

/** safetensors: u64 LE header length, JSON header, raw tensor bytes. */
export function createSafetensorsHandler(ctx: HandlerContext): FormatHandler {
  const { report } = ctx;
  const sink = new HeaderSink((k, v) => checkSecrets(report, k, v, `__metadata__.${k}`));
  let headerLen = -1;
  let headerOk = false;

  function* parse(f: Feeder): ParserGen {
    headerLen = yield* readU64();
    if (ctx.size !== undefined && headerLen > ctx.size - 8) {
      throw new ParseError(
        `header length field claims ${headerLen} bytes but the file has ${ctx.size}; refusing to read it`,
        "header-length",
      );
    }
    if (headerLen > MAX_HEADER) {
      throw new ParseError(`header length field claims ${headerLen} bytes (limit ${MAX_HEADER}); refusing to read it`, "header-length");
    }
    const tok = new JsonTokenizer(sink);
    yield* pipeBytes(headerLen, (b) => tok.write(b));
    tok.end();
    if (tok.error) throw new ParseError(`header is not valid JSON: ${tok.error}`, "header-json");
    headerOk = true;
    const dataStart = f.pos;
    yield* skipToEnd();
    const dataLen = f.pos - dataStart;
    if (sink.maxEnd > dataLen)
      throw new ParseError(`tensor data ends at ${sink.maxEnd} but only ${dataLen} data bytes exist (truncated)`, "truncated");
    if (sink.maxEnd !== dataLen || sink.bytes !== sink.maxEnd) {
      report.fail("safetensors-layout", `tensor data does not cover the buffer exactly (${sink.bytes} tensor bytes, buffer ${dataLen})`);
    }
  }

  return feederHandler(
    ctx,
    "safetensors",
    (f) => parse(f),
    () => {
      report.format = "safetensors";
      const fmt = sink.metadata.format;
      report.framework =
        fmt === "tf" || fmt === "keras"
          ? "tensorflow-keras"
          : fmt === "flax" || fmt === "jax" || fmt === "np" || fmt === "mlx"
            ? "none"
            : "pytorch";
      for (const p of sink.problems) report.fail("safetensors-header", p);
      report.metadata = {
        headerBytes: headerLen,
        tensorCount: sink.count,
        parameterCount: sink.params,
        dtypes: sink.dtypes,
        tensors: sink.listed,
        metadata: sink.metadata,
      };
      if (!headerOk && headerLen > 0) report.metadata = { headerBytes: headerLen };
    },
  );
}
