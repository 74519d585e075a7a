import { createCompressedHandler } from "./formats/compressed";
import { createCoremlHandler } from "./formats/coreml";
import { createGgufHandler } from "./formats/gguf";
import { createHdf5Handler } from "./formats/hdf5";
import { createJsonHandler } from "./formats/json";
import { createLightgbmHandler } from "./formats/lightgbm";
import { createNpyHandler } from "./formats/npy";
import { createOnnxHandler } from "./formats/onnx";
import { createPickleHandler } from "./formats/pickle";
import { createSafetensorsHandler } from "./formats/safetensors";
import { createSevenZipHandler } from "./formats/sevenzip";
import { createTarHandler } from "./formats/tar";
import { createTensorflowHandler } from "./formats/tensorflow";
import { createTfliteHandler } from "./formats/tflite";
import { createUnknownHandler } from "./formats/unknown";
import { createXgboostBinaryHandler } from "./formats/xgboost-binary";
import { createZipHandler, TailRing } from "./formats/zip";
import { findEocd } from "./formats/zip-reader";
import type { FormatHandler, HandlerContext, NestedContent } from "./handler";
import { Report } from "./report";
import { sniff, SNIFF_BYTES, type Sniff } from "./sniff";
import type { ReadRange } from "./types";

/** Bytes kept from the start of the file for sniffing and for formats read by offset when no readRange exists. */
export const HEAD_MAX = 4 * 1024 * 1024;
/** Archives inside archives (inside compressed streams …) are opened this deep; deeper is not scanned and never safe. */
export const MAX_DEPTH = 6;
const NESTED_HEAD = 64 * 1024;
const RANDOM_ACCESS_KINDS = new Set(["hdf5", "zip", "7z", "tflite"]);

function chooseHandler(s: Sniff, ctx: HandlerContext): FormatHandler {
  switch (s.kind) {
    case "pickle":
      return createPickleHandler(ctx);
    case "zip":
      return createZipHandler(ctx);
    case "tar":
      return createTarHandler(ctx);
    case "7z":
      return createSevenZipHandler(ctx);
    case "npy":
      return createNpyHandler(ctx);
    case "hdf5":
      return createHdf5Handler(ctx, s.offset ?? 0);
    case "gguf":
      return createGgufHandler(ctx);
    case "xgboost-binary":
      return createXgboostBinaryHandler(ctx);
    case "safetensors":
      return createSafetensorsHandler(ctx);
    case "json":
    case "ubjson":
      return createJsonHandler(ctx, s.kind);
    case "lightgbm":
      return createLightgbmHandler(ctx);
    case "onnx":
      return createOnnxHandler(ctx);
    case "tflite":
      return createTfliteHandler(ctx);
    case "coreml":
      return createCoremlHandler(ctx);
    case "tf-savedmodel":
    case "tf-graphdef":
      return createTensorflowHandler(ctx, s.kind);
    case "compressed":
      return createCompressedHandler(ctx, s);
    case "empty":
      return { write() {}, end() {}, finish: () => ctx.report.fail("empty-file", "file is empty") };
    case "other":
      return ctx.depth === 0 ? createMaybeZipHandler(ctx, s) : createOtherHandler(ctx, s);
  }
}

/** Content no parser reads. Inside a container it is plain data; the uploaded file itself is judged by createUnknownHandler. */
function createOtherHandler(ctx: HandlerContext, s: Sniff): FormatHandler {
  if (ctx.top) return createUnknownHandler(ctx, s);
  return {
    write() {},
    end() {},
    finish: () => {
      ctx.report.fail("not-a-model", `content is ${s.label ?? "unrecognised data"}, not a model file`);
      if (s.contentType) ctx.report.contentType = s.contentType;
    },
  };
}

/**
 * Unrecognised content may still be a zip with data before it (Python's zipfile opens those: it
 * finds the archive from its end). Read it as a zip on the side; if an end record turns up, it is one.
 */
function createMaybeZipHandler(ctx: HandlerContext, s: Sniff): FormatHandler {
  const side = new Report();
  const zip = createZipHandler({ ...ctx, report: side }, "speculative");
  const other = createOtherHandler(ctx, s);
  return {
    write: (c) => {
      zip.write(c);
      other.write(c);
    },
    end: () => {
      zip.end();
      other.end();
    },
    async finish() {
      await zip.finish();
      if (!zip.eocdFound) return other.finish();
      const { report } = ctx;
      report.absorb(side, "", "fail");
      report.format = side.format;
      report.framework = side.framework;
      report.metadata = side.metadata;
    },
  };
}

export interface ContentOptions {
  report: Report;
  fileName: string;
  size?: number;
  readRange?: ReadRange;
  depth: number;
  /** See HandlerContext.top (defaults to depth 0). */
  top?: boolean;
  /** Cap of the head buffer (the whole file when it is smaller). */
  headMax?: number;
}

/**
 * Sniffs a stream from its first bytes, hands it to the matching format handler and finishes it:
 * the uploaded file and every nested member (archive members, decompressed streams) go through one
 * of these.
 */
export class ContentInspector {
  sniffed: Sniff | null = null;
  written = 0;
  private head: Uint8Array;
  private headLen = 0;
  private headMax: number;
  private handler: FormatHandler | null = null;
  private broken = false;
  private ending: Promise<void> | null = null;
  private readonly ctx: HandlerContext;
  /** The uploaded file's last bytes: a zip directory there makes it a polyglot whatever its start says. */
  private readonly tail: TailRing | null;

  constructor(private readonly opts: ContentOptions) {
    this.tail = opts.depth === 0 ? new TailRing() : null;
    this.headMax = opts.headMax ?? HEAD_MAX;
    const initial = opts.size !== undefined ? Math.min(Math.max(opts.size, 0), this.headMax, 64 * 1024) : Math.min(64 * 1024, this.headMax);
    this.head = new Uint8Array(initial);
    this.ctx = {
      report: opts.report,
      fileName: opts.fileName,
      size: opts.size,
      readRange: opts.readRange,
      depth: opts.depth,
      top: opts.top ?? opts.depth === 0,
      head: () => this.head.subarray(0, this.headLen),
      total: () => this.written,
      nested: (name, o) => openNested(name, opts.depth + 1, { ...o, top: o?.whole === true && (opts.top ?? opts.depth === 0) }),
    };
  }

  get report(): Report {
    return this.opts.report;
  }

  /** The first bytes kept so far (a view: copy it to keep it across writes). */
  headBytes(): Uint8Array {
    return this.head.subarray(0, this.headLen);
  }

  get isBroken(): boolean {
    return this.broken;
  }

  write(input: Uint8Array): void {
    if (this.ending || this.broken || input.length === 0) return;
    // IMPORTANT: Node Buffers' slice() is a view, not a copy, and their .buffer is a shared pool.
    // The parsers rely on Uint8Array semantics (slice copies, .buffer starts at offset 0 after slice).
    const chunk = Buffer.isBuffer(input) ? new Uint8Array(input.buffer, input.byteOffset, input.byteLength) : input;
    try {
      const before = this.headLen;
      this.keepHead(chunk);
      this.tail?.write(chunk);
      this.written += chunk.length;
      if (this.handler) {
        this.handler.write(chunk);
      } else if (this.headLen >= SNIFF_BYTES || this.headLen - before < chunk.length) {
        // Sniff on the head, then replay: the bytes before this chunk (all in the head), then the chunk.
        this.startHandler(false, before);
        this.handler!.write(chunk);
      }
    } catch (e) {
      this.internalError(e);
    }
  }

  /** Ends the stream and runs the handler's finishing step (idempotent). */
  end(): Promise<void> {
    this.ending ??= this.finish();
    return this.ending;
  }

  private async finish(): Promise<void> {
    try {
      if (!this.broken) {
        if (!this.handler) this.startHandler(true, this.headLen);
        this.handler!.end();
        await this.handler!.finish();
        await this.checkAppendedZip();
      }
    } catch (e) {
      this.internalError(e);
    }
    if (this.opts.depth > 0) this.head = new Uint8Array(0);
  }

  /** A pickle (or HDF5, GGUF …) with a zip glued to its end: zip-based loaders read the zip. */
  private async checkAppendedZip(): Promise<void> {
    const kind = this.sniffed?.kind;
    if (!this.tail || kind === "zip" || kind === "other" || kind === "empty" || kind === "7z" || kind === "tar") return;
    const tail = this.tail.bytes();
    if (!findEocd(tail.tail, tail.start, this.opts.size ?? this.written)) return;
    const side = new Report();
    const zip = createZipHandler({ ...this.ctx, report: side }, "appended", tail);
    zip.end();
    await zip.finish();
    if (zip.eocdFound) this.opts.report.absorb(side, "(appended zip)", "info");
  }

  private keepHead(chunk: Uint8Array): void {
    if (this.headLen >= this.headMax) return;
    const take = Math.min(chunk.length, this.headMax - this.headLen);
    if (this.headLen + take > this.head.length) {
      const grown = new Uint8Array(Math.min(this.headMax, Math.max(this.head.length * 2, this.headLen + take)));
      grown.set(this.head.subarray(0, this.headLen));
      this.head = grown;
    }
    this.head.set(chunk.subarray(0, take), this.headLen);
    this.headLen += take;
  }

  private startHandler(complete: boolean, replay: number): void {
    // Exactly the first SNIFF_BYTES decide, however the stream was cut into chunks (and as sniffFile decides in the browser).
    this.sniffed = sniff(this.head.subarray(0, Math.min(this.headLen, SNIFF_BYTES)), complete);
    // Members keep a short head; formats read by offset keep up to HEAD_MAX when nothing else gives random access.
    if (RANDOM_ACCESS_KINDS.has(this.sniffed.kind) && !this.opts.readRange) this.headMax = Math.max(this.headMax, HEAD_MAX);
    this.handler = chooseHandler(this.sniffed, this.ctx);
    if (replay > 0) this.handler.write(this.head.subarray(0, replay));
  }

  private internalError(e: unknown): void {
    this.broken = true;
    // An inspection that broke never vouches for the content: invalid at the top, suspicious inside a container.
    this.opts.report.fail("inspector-error", `inspection failed: ${(e as Error)?.message ?? String(e)}`);
    if (this.opts.depth > 0) this.opts.report.flag("inspector-error", "a member could not be inspected");
  }
}

/** A nested inspection at `depth`; past MAX_DEPTH nothing is read and the member is reported, never vouched for. */
function openNested(name: string, depth: number, o: { size?: number; readRange?: ReadRange; top: boolean }): NestedContent {
  const report = new Report();
  if (depth > MAX_DEPTH) {
    report.danger("nesting-too-deep", `containers nested more than ${MAX_DEPTH} deep: ${name.slice(0, 200)} was not opened`);
    return { report, write() {}, end: async () => {}, kind: () => null };
  }
  const inner = new ContentInspector({
    report,
    fileName: name,
    size: o.size,
    readRange: o.readRange,
    depth,
    top: o.top,
    headMax: NESTED_HEAD,
  });
  return {
    report,
    write: (c) => inner.write(c),
    end: () => inner.end(),
    kind: () => inner.sniffed?.kind ?? null,
  };
}
