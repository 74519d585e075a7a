import { open } from "node:fs/promises";
import { basename } from "node:path";
import { ContentInspector } from "./dispatch";
import { contentTypeOf, isExtensionMismatch } from "./file-kinds";
import { boundJson, Report } from "./report";
import { SNIFF_BYTES, sniffFile } from "./sniff";
import type { EarlyVerdict, InspectionResult, Inspector, InspectorOptions } from "./types";

export type { EarlyVerdict, InspectionResult, Inspector, InspectorOptions } from "./types";

const READ_CHUNK = 1024 * 1024;

class StreamingInspector implements Inspector {
  private readonly report = new Report();
  private readonly content: ContentInspector;
  private result: Promise<InspectionResult> | null = null;

  constructor(private readonly opts: InspectorOptions) {
    this.content = new ContentInspector({
      report: this.report,
      fileName: opts.fileName,
      size: opts.size,
      readRange: opts.readRange,
      depth: 0,
    });
  }

  private earlyVerdict: EarlyVerdict | null = null;
  private earlyDecided = false;

  write(input: Uint8Array): void {
    this.content.write(input);
    if (!this.earlyDecided) this.decideEarly();
  }

  early(): EarlyVerdict | null {
    if (!this.earlyDecided && this.opts.size === 0) this.decideEarly();
    return this.earlyVerdict;
  }

  /** Once the first SNIFF_BYTES (or the whole, smaller, file) are in, the browser's sniff decides on exactly those bytes. */
  private decideEarly(): void {
    const head = this.content.headBytes();
    const whole = this.opts.size !== undefined && head.length >= this.opts.size;
    if (head.length < SNIFF_BYTES && !whole) return;
    this.earlyDecided = true;
    const s = sniffFile(this.opts.fileName, head, this.opts.size);
    if (s.kind !== "not_a_model") return;
    this.earlyVerdict = { verdict: "invalid", code: "not-a-model", what: s.what, message: s.message };
    this.opts.onEarlyVerdict?.(this.earlyVerdict);
  }

  end(): Promise<InspectionResult> {
    this.result ??= this.finish();
    return this.result;
  }

  private async finish(): Promise<InspectionResult> {
    const report = this.report;
    await this.content.end();
    const written = this.content.written;
    if (this.opts.size !== undefined && this.opts.size !== written && !this.content.isBroken) {
      report.flag("size-mismatch", `declared size ${this.opts.size} but ${written} bytes were inspected`);
    }
    const sniffed = this.content.sniffed;
    const recognisedOther = sniffed?.kind === "other" && sniffed.label !== "binary data" && sniffed.label !== "text";
    const mismatch = written > 0 && isExtensionMismatch(this.opts.fileName, report.format, recognisedOther);
    if (mismatch) {
      report.flag(
        "extension-mismatch",
        `file name says .${this.opts.fileName.split(".").pop()} but the content is ${report.format === "unknown" ? (sniffed?.label ?? "unknown") : report.format}`,
      );
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
}

/**
 * Streaming inspector: feed chunks in order as they arrive (during an upload), then end(). Poll
 * early() after each chunk (or pass onEarlyVerdict) to refuse a clear non-model after its first
 * 4 KiB instead of after the whole upload.
 */
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
    for (let pos = 0; pos < size;) {
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
