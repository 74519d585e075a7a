import { checkSecrets, type FormatHandler, type HandlerContext } from "../handler";
import { mightHoldSecret } from "../secrets";
import { refusalFor, type Sniff } from "../sniff";
import { DANGEROUS_PYTHON } from "./zip";

/**
 * The uploaded file when no parser reads its content. Clear non-models (an image, a document, an
 * executable, media) and unidentified bytes under a name that promises a format (random bytes named
 * .pt) are refused with a sentence that says what they are. Anything else is stored as "unknown
 * format" with the scanner's judgement: text (a card, a vocabulary, YAML) is read to the end and is
 * safe unless it holds a credential, since no loader runs text; code (a script, a .py file) is
 * suspicious, dangerous when it calls the shell, the network or eval; binary content no parser reads
 * is never safe, since nothing vouches for it.
 */

const MAX_LINE = 64 * 1024;
const KEY_VALUE = /^\s*(?:export\s+)?["']?([A-Za-z_][\w.-]{0,63})["']?\s*[:=]\s*(.+)$/;

/** Scans text line by line for credentials (KEY=value and key: value lines are judged by their key too). */
export class TextSecretScanner {
  private carry = "";
  private readonly decoder = new TextDecoder("utf-8", { fatal: false });
  lines = 0;

  constructor(
    private readonly onLine: (key: string | null, value: string, line: number) => void,
    /** Called with every line (and window of a long line), for callers that judge the text itself. */
    private readonly everyLine?: (text: string, line: number) => void,
  ) {}

  write(chunk: Uint8Array): void {
    const text = this.carry + this.decoder.decode(chunk, { stream: true });
    let from = 0;
    for (let nl = text.indexOf("\n"); nl >= 0; nl = text.indexOf("\n", from)) {
      // a line longer than MAX_LINE is scanned in windows (a token cut at a window edge is the price of a bound)
      for (; nl - from > MAX_LINE; from += MAX_LINE) this.line(text.slice(from, from + MAX_LINE), false);
      this.line(text.slice(from, nl));
      from = nl + 1;
    }
    for (; text.length - from > MAX_LINE; from += MAX_LINE) this.line(text.slice(from, from + MAX_LINE), false);
    this.carry = text.slice(from);
  }

  end(): void {
    this.carry += this.decoder.decode();
    if (this.carry) this.line(this.carry);
    this.carry = "";
  }

  /** One line, or one window of a long line (`last` false: the line goes on, so it is not counted yet). */
  private line(raw: string, last = true): void {
    const at = this.lines + 1;
    if (last) this.lines = at;
    this.everyLine?.(raw, at);
    const kv = KEY_VALUE.exec(raw);
    if (kv) this.onLine(kv[1]!, kv[2]!.trim().replace(/^["']|["'],?$/g, ""), at);
    else if (mightHoldSecret(raw)) this.onLine(null, raw, at);
  }
}

const CODE_NAMES = /\.(py|pyw|sh|bash|zsh|ps1|bat|cmd|rb|pl|js|mjs|ts|lua)$/i;

export function createUnknownHandler(ctx: HandlerContext, s: Sniff): FormatHandler {
  const { report } = ctx;
  const refusal = refusalFor(ctx.fileName, s);
  const textual = !refusal && (s.label === "text" || s.label === "script" || s.label === "XML document");
  const code = textual && (s.label === "script" || CODE_NAMES.test(ctx.fileName));
  let calls: { text: string; line: number } | null = null;
  const scanner = textual
    ? new TextSecretScanner(
        (key, value, line) => checkSecrets(report, key, value, `line ${line}`),
        code
          ? (text, line) => {
              const m = calls ? null : DANGEROUS_PYTHON.exec(text);
              if (m) calls = { text: m[0].slice(0, 60), line };
            }
          : undefined,
      )
    : null;
  return {
    write: (c) => scanner?.write(c),
    end: () => scanner?.end(),
    finish() {
      if (s.contentType) report.contentType = s.contentType;
      report.format = "unknown";
      if (refusal) {
        report.fail("not-a-model", refusal.message);
        return;
      }
      const what = s.label ?? "unrecognised data";
      report.metadata = { content: code ? "code" : what, ...(scanner ? { lines: scanner.lines } : {}) };
      const found = calls as { text: string; line: number } | null;
      if (found)
        report.danger("code-calls", `code that calls ${found.text}: it runs if a loader or a user imports it`, `line ${found.line}`);
      else if (code) report.flag("code", `${what === "script" ? "a script" : "source code"}: it runs if a loader or a user imports it`);
      else if (scanner) report.info("unknown-format", `${what}, not a model format: stored as unknown format after a scan for credentials`);
      else
        report.flag(
          "unknown-format",
          s.model
            ? `${what}: a model format this inspector does not read, stored as unknown format; nothing in it was checked`
            : `not a model format we recognise (${what}): stored as unknown format; nothing vouches for it`,
        );
    },
  };
}
