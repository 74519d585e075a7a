import { open } from "node:fs/promises";
import { basename } from "node:path";
import { createCompressedHandler } from "./formats/compressed";
import { contentTypeOf, isExtensionMismatch } from "./file-kinds";
import { createGgufHandler } from "./formats/gguf";
import { createHdf5Handler } from "./formats/hdf5";
import { createJsonHandler } from "./formats/json";
import { createLightgbmHandler } from "./formats/lightgbm";
import { createOnnxHandler } from "./formats/onnx";
import { createPickleHandler } from "./formats/pickle";
import { boundJson, Report } from "./report";
import type { FormatHandler, HandlerContext } from "./handler";
import { createSafetensorsHandler } from "./formats/safetensors";
import { sniff, SNIFF_BYTES, type Sniff } from "./sniff";
import type { InspectionResult, Inspector, InspectorOptions } from "./types";
import { createXgboostBinaryHandler } from "./formats/xgboost-binary";
import { createZipHandler } from "./formats/zip";

export type { InspectionResult, Inspector, InspectorOptions } from "./types";

/** Bytes kept from the start of the file for sniffing and for formats read by offset when no readRange exists. */
export const HEAD_MAX = 4 * 1024 * 1024;
const READ_CHUNK = 1024 * 1024;

function chooseHandler(s: Sniff, ctx: HandlerContext): FormatHandler {
  switch (s.kind) {
    case "pickle":
      return createPickleHandler(ctx);
    case "zip":
      return createZipHandler(ctx);
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
    case "compressed":
      return createCompressedHandler(ctx, s);
    case "empty":
      return {
        write() {},
        end() {},
        finish: () => ctx.report.fail("empty-file", "file is empty"),
      };
    case "other":
      return {
        write() {},
        end() {},
        finish: () => {
          ctx.report.fail("not-a-model", `content is ${s.label ?? "unrecognised data"}, not a model file`);
          if (s.contentType) ctx.report.contentType = s.contentType;
        },
      };
  }
}

class StreamingInspector implements Inspector {
  private readonly report = new Report();
  private head: Uint8Array;
  private headLen = 0;
  private written = 0;
  private handler: FormatHandler | null = null;
  private sniffed: Sniff | null = null;
  private broken = false;
  private ended = false;
  private readonly ctx: HandlerContext;

  constructor(private readonly opts: InspectorOptions) {
    const initial = opts.size !== undefined ? Math.min(Math.max(opts.size, 0), HEAD_MAX) : 64 * 1024;
    this.head = new Uint8Array(initial);
    this.ctx = {
      report: this.report,
      fileName: opts.fileName,
      size: opts.size,
      readRange: opts.readRange,
      head: () => this.head.subarray(0, this.headLen),
      total: () => this.written,
    };
  }

  write(input: Uint8Array): void {
    if (this.ended || this.broken || input.length === 0) return;
    // IMPORTANT: Node Buffers' slice() is a view, not a copy, and their .buffer is a shared pool.
    // The parsers rely on Uint8Array semantics (slice copies, .buffer starts at offset 0 after slice).
    const chunk = Buffer.isBuffer(input) ? new Uint8Array(input.buffer, input.byteOffset, input.byteLength) : input;
    try {
      const before = this.headLen;
      this.keepHead(chunk);
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

  async end(): Promise<InspectionResult> {
    const report = this.report;
    if (!this.ended) {
      this.ended = true;
      try {
        if (!this.broken) {
          if (!this.handler) this.startHandler(true, this.headLen);
          this.handler!.end();
          await this.handler!.finish();
        }
      } catch (e) {
        this.internalError(e);
      }
    }
    if (this.opts.size !== undefined && this.opts.size !== this.written && !this.broken) {
      report.flag("size-mismatch", `declared size ${this.opts.size} but ${this.written} bytes were inspected`);
    }
    const recognisedOther = this.sniffed?.kind === "other" && this.sniffed.label !== "binary data" && this.sniffed.label !== "text";
    const mismatch = this.written > 0 && isExtensionMismatch(this.opts.fileName, report.format, recognisedOther);
    if (mismatch) {
      report.flag("extension-mismatch", `file name says .${this.opts.fileName.split(".").pop()} but the content is ${report.format === "unknown" ? (this.sniffed?.label ?? "unknown") : report.format}`);
    }
    if (report.format !== "unknown" || report.contentType === "application/octet-stream") report.contentType = contentTypeOf(report.format);
    report.finalizeNotes();
    return {
      format: report.format,
      framework: report.framework,
      verdict: report.verdict(),
      globals: [...report.globals].map(([name, verdict]) => ({ name, verdict })),
      findings: report.findings.slice(),
      metadata: boundJson(report.metadata) as Record<string, unknown>,
      extensionMismatch: mismatch,
      contentType: report.contentType,
    };
  }

  private keepHead(chunk: Uint8Array): void {
    if (this.headLen >= HEAD_MAX) return;
    const take = Math.min(chunk.length, HEAD_MAX - this.headLen);
    if (this.headLen + take > this.head.length) {
      const grown = new Uint8Array(Math.min(HEAD_MAX, Math.max(this.head.length * 2, this.headLen + take)));
      grown.set(this.head.subarray(0, this.headLen));
      this.head = grown;
    }
    this.head.set(chunk.subarray(0, take), this.headLen);
    this.headLen += take;
  }

  private startHandler(complete: boolean, replay: number): void {
    this.sniffed = sniff(this.head.subarray(0, this.headLen), complete);
    this.handler = chooseHandler(this.sniffed, this.ctx);
    if (replay > 0) this.handler.write(this.head.subarray(0, replay));
  }

  private internalError(e: unknown): void {
    this.broken = true;
    this.report.fail("inspector-error", `inspection failed: ${(e as Error)?.message ?? String(e)}`);
  }
}

/** Streaming inspector: feed chunks in order as they arrive (during an upload), then end(). */
export function createInspector(opts: InspectorOptions): Inspector {
  return new StreamingInspector(opts);
}

/** Convenience: inspect a file on disk (streams it through createInspector, supplies readRange). */
export async function inspectFile(path: string, fileName?: string): Promise<InspectionResult> {
  const fh = await open(path, "r");
  try {
    const { size } = await fh.stat();
    const readRange = async (start: number, end: number): Promise<Uint8Array> => {
      const from = Math.max(0, Math.min(start, size));
      const to = Math.max(from, Math.min(end, size));
      const buf = new Uint8Array(to - from);
      let got = 0;
      while (got < buf.length) {
        const { bytesRead } = await fh.read(buf, got, buf.length - got, from + got);
        if (bytesRead === 0) break;
        got += bytesRead;
      }
      return buf.subarray(0, got);
    };
    const inspector = createInspector({ fileName: fileName ?? basename(path), size, readRange });
    const buf = new Uint8Array(READ_CHUNK);
    for (let pos = 0; pos < size; ) {
      const { bytesRead } = await fh.read(buf, 0, Math.min(READ_CHUNK, size - pos), pos);
      if (bytesRead === 0) break;
      inspector.write(buf.slice(0, bytesRead)); // buf is reused for the next read
      pos += bytesRead;
    }
    return await inspector.end();
  } finally {
    await fh.close();
  }
}
