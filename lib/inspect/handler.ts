import { EofError, Feeder, ParseError, type ParserGen } from "./feeder";
import type { Report } from "./report";
import { findSecrets } from "./secrets";
import type { ReadRange } from "./types";

/** What a format handler gets from the inspector. */
export interface HandlerContext {
  report: Report;
  fileName: string;
  /** Declared size (from the caller) — may be absent while streaming an upload. */
  size?: number;
  readRange?: ReadRange;
  /** The first bytes of the file (up to the head cap), complete once end() was called. */
  head(): Uint8Array;
  /** Bytes written so far. */
  total(): number;
  /** Nesting depth: 0 for the uploaded file, 1 for a member of it, and so on. */
  depth: number;
  /**
   * The content is the uploaded file as its loader sees it: the file itself, or the whole of it
   * decompressed (a gzip'd tar). Such content is judged as an upload (unknown content is stored as
   * unknown, plain archives as archives); a member of an archive is data of its container.
   */
  top: boolean;
  /**
   * Starts the inspection of bytes a loader reads as a file of its own (an archive member, a
   * decompressed stream). `whole`: the bytes are this content entirely, decompressed (keeps `top`).
   */
  nested(name: string, opts?: { size?: number; readRange?: ReadRange; whole?: boolean }): NestedContent;
}

/** A nested inspection: write the member's bytes, then `end()`; its findings are in `report` (merge them with Report.absorb). */
export interface NestedContent {
  readonly report: Report;
  write(chunk: Uint8Array): void;
  end(): Promise<void>;
  /** What the member's bytes were sniffed as (after end). */
  kind(): string | null;
}

/** Random access to [start, end) through readRange, or the head buffer when the range lies inside it; null when neither can serve it. */
export async function readAt(ctx: HandlerContext, start: number, end: number): Promise<Uint8Array | null> {
  if (ctx.readRange) return ctx.readRange(start, end);
  const head = ctx.head();
  const complete = ctx.size !== undefined ? head.length >= ctx.size : head.length === ctx.total();
  if (end <= head.length || (complete && start <= head.length)) return head.subarray(start, Math.min(end, head.length));
  return null;
}

/** A format handler: receives the whole stream in order, then gets one async finishing step. */
export interface FormatHandler {
  write(chunk: Uint8Array): void;
  end(): void;
  finish(): Promise<void> | void;
}

/** Wraps a generator parser; EOF and parse errors become "invalid" findings with the given code prefix. */
export function feederHandler(
  ctx: HandlerContext,
  prefix: string,
  make: (f: Feeder) => ParserGen<unknown>,
  onDone?: (f: Feeder) => Promise<void> | void,
): FormatHandler {
  const feeder = new Feeder(make);
  return {
    write: (c) => feeder.write(c),
    end: () => feeder.end(),
    finish: async () => {
      const err = feeder.error;
      if (err instanceof EofError) ctx.report.fail(`${prefix}-truncated`, `file ends early (${err.message}) at offset ${feeder.pos}`);
      else if (err instanceof ParseError) ctx.report.fail(`${prefix}-${err.code}`, err.message);
      else if (err) ctx.report.fail(`${prefix}-error`, `could not parse: ${(err as Error).message}`);
      await onDone?.(feeder);
    },
  };
}

/** Runs the secret scanner on one string and records redacted findings. */
export function checkSecrets(report: Report, key: string | null, value: string, location?: string): void {
  for (const hit of findSecrets(key, value)) {
    report.danger(`secret-${hit.kind}`, `embedded credential (${hit.kind}): ${hit.redacted}`, location);
  }
}

export function ascii(b: Uint8Array, from = 0, to = b.length): string {
  let s = "";
  for (let i = from; i < Math.min(to, b.length); i++) s += String.fromCharCode(b[i]!);
  return s;
}
