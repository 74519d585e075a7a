import { readAt, type FormatHandler, type HandlerContext } from "../handler";
import { DANGEROUS_TF_OPS } from "./tensorflow";

/**
 * TensorFlow Lite flatbuffers ("TFL3"): the tables are read by offset once the stream ends (through
 * random access, or the head buffer when the tables sit in the first MiBs, as converters write them),
 * every offset checked against the file. Read: version, description, operator codes (custom and
 * Flex ops named), subgraphs with their inputs, outputs and tensor count, parameter count, metadata
 * names. A TFLite model is data for the interpreter; only Flex ops run TensorFlow kernels, and those
 * that touch files make it dangerous.
 */

const PAGE = 64 * 1024;
const MAX_PAGES = 256;
const MAX_VECTOR = 1_000_000;
const MAX_TENSORS_READ = 200_000;
const TENSOR_TYPES = [
  "float32",
  "float16",
  "int32",
  "uint8",
  "int64",
  "string",
  "bool",
  "int16",
  "complex64",
  "int8",
  "float64",
  "complex128",
  "uint64",
  "resource",
  "variant",
  "uint32",
  "uint16",
  "int4",
  "bfloat16",
];

class OutOfRange extends Error {}
/** The tables could not be reached (no random access and beyond the head): not a fault of the file. */
class Unreachable extends Error {}

/** Little-endian reads by absolute offset over fetched pages. */
class PagedBytes {
  private readonly pages = new Map<number, Uint8Array>();

  constructor(
    private readonly ctx: HandlerContext,
    readonly size: number,
  ) {}

  private async page(n: number): Promise<Uint8Array> {
    let p = this.pages.get(n);
    if (!p) {
      if (this.pages.size >= MAX_PAGES) this.pages.clear();
      const got = await readAt(this.ctx, n * PAGE, Math.min(this.size, (n + 1) * PAGE));
      if (!got) throw new Unreachable("the model's tables lie beyond what can be read without random access");
      p = got;
      this.pages.set(n, p);
    }
    return p;
  }

  async bytes(at: number, n: number): Promise<Uint8Array> {
    if (!Number.isSafeInteger(at) || at < 0 || n < 0 || at + n > this.size) throw new OutOfRange(`offset ${at} is outside the file`);
    const out = new Uint8Array(n);
    for (let done = 0; done < n;) {
      const pos = at + done;
      const page = await this.page(Math.floor(pos / PAGE));
      const from = pos % PAGE;
      const take = Math.min(n - done, page.length - from);
      if (take <= 0) throw new OutOfRange(`offset ${pos} could not be read`);
      out.set(page.subarray(from, from + take), done);
      done += take;
    }
    return out;
  }

  async u32(at: number): Promise<number> {
    const b = await this.bytes(at, 4);
    return (b[0]! | (b[1]! << 8) | (b[2]! << 16)) + b[3]! * 0x1000000;
  }

  async i32(at: number): Promise<number> {
    return (await this.u32(at)) | 0;
  }

  async u16(at: number): Promise<number> {
    const b = await this.bytes(at, 2);
    return b[0]! | (b[1]! << 8);
  }

  async u8(at: number): Promise<number> {
    return (await this.bytes(at, 1))[0]!;
  }
}

/** A flatbuffer table: fields by index through its vtable. */
class Table {
  private constructor(
    private readonly b: PagedBytes,
    readonly pos: number,
    private readonly vtable: number,
    private readonly vsize: number,
  ) {}

  static async at(b: PagedBytes, pos: number): Promise<Table> {
    const vtable = pos - (await b.i32(pos));
    const vsize = await b.u16(vtable);
    if (vsize < 4 || vsize % 2 !== 0) throw new OutOfRange("bad vtable");
    return new Table(b, pos, vtable, vsize);
  }

  /** Absolute offset of field `i`, or null when it is absent. */
  async field(i: number): Promise<number | null> {
    const slot = 4 + 2 * i;
    if (slot >= this.vsize) return null;
    const rel = await this.b.u16(this.vtable + slot);
    return rel === 0 ? null : this.pos + rel;
  }

  async u32(i: number, dflt = 0): Promise<number> {
    const at = await this.field(i);
    return at === null ? dflt : this.b.u32(at);
  }

  async i32(i: number, dflt = 0): Promise<number> {
    const at = await this.field(i);
    return at === null ? dflt : this.b.i32(at);
  }

  async u8(i: number, dflt = 0): Promise<number> {
    const at = await this.field(i);
    return at === null ? dflt : this.b.u8(at);
  }

  /** Follows a uoffset field: the position of the referenced object. */
  async ref(i: number): Promise<number | null> {
    const at = await this.field(i);
    return at === null ? null : at + (await this.b.u32(at));
  }

  async string(i: number, cap = 1024): Promise<string | null> {
    const at = await this.ref(i);
    if (at === null) return null;
    const len = await this.b.u32(at);
    const text = new TextDecoder().decode(await this.b.bytes(at + 4, Math.min(len, cap)));
    return len > cap ? `${text}…` : text;
  }

  /** A vector field: its length and the offset of its first element. */
  async vector(i: number): Promise<{ len: number; start: number } | null> {
    const at = await this.ref(i);
    if (at === null) return null;
    const len = await this.b.u32(at);
    if (len > MAX_VECTOR || at + 4 + len > this.b.size) throw new OutOfRange(`vector of ${len} elements runs past the file`);
    return { len, start: at + 4 };
  }

  async tableAt(vectorStart: number, k: number): Promise<Table> {
    const at = vectorStart + 4 * k;
    return Table.at(this.b, at + (await this.b.u32(at)));
  }

  async ints(i: number, max = 16): Promise<number[] | null> {
    const v = await this.vector(i);
    if (!v) return null;
    const out: number[] = [];
    for (let k = 0; k < Math.min(v.len, max); k++) out.push(await this.b.i32(v.start + 4 * k));
    return out;
  }
}

interface TensorDesc {
  name: string;
  type: string;
  shape: number[];
}

async function tensorDesc(t: Table): Promise<TensorDesc> {
  const type = await t.u8(1);
  return { name: (await t.string(3, 256)) ?? "", type: TENSOR_TYPES[type] ?? `type${type}`, shape: (await t.ints(0)) ?? [] };
}

async function readModel(ctx: HandlerContext, b: PagedBytes): Promise<Record<string, unknown>> {
  const { report } = ctx;
  const root = await Table.at(b, await b.u32(0));
  const version = await root.u32(0);
  const description = await root.string(3, 4096);
  const custom: string[] = [];
  const builtins = new Set<number>();
  const codes = await root.vector(1);
  for (let k = 0; codes && k < codes.len; k++) {
    const code = await root.tableAt(codes.start, k);
    const customCode = await code.string(1, 256);
    builtins.add(Math.max(await code.u8(0), await code.i32(3)));
    if (customCode === null) continue;
    if (custom.length < 64) custom.push(customCode);
    const tfOp = customCode.startsWith("Flex") ? customCode.slice(4) : null;
    if (tfOp && DANGEROUS_TF_OPS.has(tfOp))
      report.danger(
        "tflite-dangerous-op",
        `the model uses the TensorFlow op ${tfOp} (Flex): running it reads or writes files, or calls Python`,
      );
  }
  const flex = custom.filter((c) => c.startsWith("Flex"));
  if (flex.length) report.info("tflite-flex-ops", `TensorFlow (Flex) ops that need the Flex delegate: ${flex.slice(0, 10).join(", ")}`);
  const others = custom.filter((c) => !c.startsWith("Flex"));
  if (others.length) report.info("tflite-custom-ops", `custom ops the app must register: ${others.slice(0, 10).join(", ")}`);

  // buffers with data: tensors that point at them are constants (weights)
  const buffers = await root.vector(4);
  const withData = new Set<number>();
  for (let k = 0; buffers && k < buffers.len && k < MAX_TENSORS_READ; k++) {
    const buf = await root.tableAt(buffers.start, k);
    const data = await buf.vector(0);
    const size = await buf.u32(2);
    if ((data && data.len > 0) || size > 0) withData.add(k);
  }

  const subgraphs = await root.vector(2);
  if (!subgraphs || subgraphs.len === 0) throw new OutOfRange("the model has no subgraph");
  let tensorCount = 0;
  let operatorCount = 0;
  let parameterCount = 0;
  const io: { inputs: TensorDesc[]; outputs: TensorDesc[] } = { inputs: [], outputs: [] };
  for (let g = 0; g < subgraphs.len; g++) {
    const sg = await root.tableAt(subgraphs.start, g);
    const tensors = await sg.vector(0);
    const ops = await sg.vector(3);
    operatorCount += ops?.len ?? 0;
    for (let k = 0; tensors && k < tensors.len && tensorCount < MAX_TENSORS_READ; k++, tensorCount++) {
      const t = await sg.tableAt(tensors.start, k);
      if (!withData.has(await t.u32(2))) continue;
      const shape = (await t.ints(0, 8)) ?? [];
      parameterCount += shape.reduce((a, n) => a * Math.max(n, 0), 1);
    }
    if (g !== 0 || !tensors) continue;
    for (const [field, list] of [
      [1, io.inputs],
      [2, io.outputs],
    ] as const) {
      for (const idx of (await sg.ints(field, 32)) ?? []) {
        if (idx >= 0 && idx < tensors.len) list.push(await tensorDesc(await sg.tableAt(tensors.start, idx)));
      }
    }
  }
  const metadataNames: string[] = [];
  const metadata = await root.vector(6);
  for (let k = 0; metadata && k < Math.min(metadata.len, 32); k++) {
    metadataNames.push((await (await root.tableAt(metadata.start, k)).string(0, 128)) ?? "");
  }
  return {
    schemaVersion: version,
    description,
    subgraphs: subgraphs.len,
    tensorCount,
    operatorCount,
    operatorCodes: codes?.len ?? 0,
    builtinOperators: builtins.size,
    customOps: custom,
    parameterCount,
    inputs: io.inputs,
    outputs: io.outputs,
    metadata: metadataNames,
  };
}

export function createTfliteHandler(ctx: HandlerContext): FormatHandler {
  return {
    write() {},
    end() {},
    async finish() {
      const { report } = ctx;
      const size = ctx.size ?? ctx.total();
      report.format = "unknown";
      if (size < 16) {
        report.fail("tflite-truncated", "file is too short for a TensorFlow Lite model");
        return;
      }
      try {
        report.metadata = await readModel(ctx, new PagedBytes(ctx, size));
        report.format = "tflite";
        report.framework = "tensorflow-lite";
      } catch (e) {
        if (e instanceof Unreachable) {
          report.format = "tflite";
          report.framework = "tensorflow-lite";
          report.flag("tflite-partial", `TensorFlow Lite model not fully read, so not every check ran: ${e.message}`);
        } else if (e instanceof OutOfRange) report.fail("tflite-corrupt", `TensorFlow Lite model cannot be read: ${e.message}`);
        else throw e;
      }
    },
  };
}
