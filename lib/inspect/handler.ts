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
