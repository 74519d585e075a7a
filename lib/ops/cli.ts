import { parseArgs, type ParseArgsConfig } from "node:util";
import { formatBytes, formatDuration } from "@/lib/format";
import { EXIT, UsageError } from "./ops-env";

export { formatBytes, formatDuration };

/** Parses argv strictly: an unknown flag or a missing value is a usage error (exit 2). */
export function parseCliArgs<T extends NonNullable<ParseArgsConfig["options"]>>(
  argv: string[],
  options: T,
  usage: string,
  allowPositionals = false,
) {
  try {
    const parsed = parseArgs({
      args: argv,
      options: { ...options, help: { type: "boolean", short: "h" } },
      allowPositionals,
      strict: true,
    });
    if ((parsed.values as { help?: boolean }).help) {
      console.log(usage);
      process.exit(EXIT.ok);
    }
    return parsed;
  } catch (e) {
    throw new UsageError(`${(e as Error).message}\n\n${usage}`);
  }
}

/** Parses "50M", "1.5G", "800k" or a plain number of bytes. */
export function parseByteSize(text: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?$/i.exec(text.trim());
  if (!m) throw new UsageError(`${flag} takes a size like 50M or 1G, not ${JSON.stringify(text)}.`);
  const unit = { "": 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 }[m[2]!.toLowerCase() as "" | "k" | "m" | "g" | "t"];
  const n = Math.floor(Number(m[1]) * unit);
  if (n <= 0) throw new UsageError(`${flag} must be more than zero.`);
  return n;
}

/** A progress line (bytes, rate, time left), at most once a second, on stderr. */
export class Progress {
  private done = 0;
  private readonly started = performance.now();
  private last = this.started;
  constructor(
    private readonly label: string,
    private total: number,
    private readonly write: (line: string) => void = (l) => process.stderr.write(`${l}\n`),
  ) {}

  add(bytes: number): void {
    this.done += bytes;
    const now = performance.now();
    if (now - this.last >= 1000) {
      this.last = now;
      this.write(this.line());
    }
  }

  setTotal(total: number): void {
    this.total = total;
  }

  get seconds(): number {
    return (performance.now() - this.started) / 1000;
  }

  line(): string {
    const rate = this.done / Math.max(this.seconds, 0.001);
    const left = this.total > this.done && rate > 0 ? (this.total - this.done) / rate : 0;
    const pct = this.total > 0 ? ` (${((100 * this.done) / this.total).toFixed(1)}%)` : "";
    return `${this.label}: ${formatBytes(this.done)} of ${formatBytes(this.total)}${pct}, ${formatBytes(rate)}/s, ${formatDuration(left)} left`;
  }
}

/** Sleeps as needed to keep a byte stream under `bytesPerSecond` (a backup beside a live app). */
export function createThrottle(bytesPerSecond: number | undefined): (bytes: number) => Promise<void> {
  if (!bytesPerSecond) return async () => {};
  const started = performance.now();
  let sent = 0;
  return async (bytes) => {
    sent += bytes;
    const due = (sent / bytesPerSecond) * 1000 - (performance.now() - started);
    if (due > 5) await new Promise((r) => setTimeout(r, due));
  };
}

/**
 * Runs a command's main(): exit 0 on success, the code it returns otherwise; usage errors and
 * refusals (locked database, non-empty target, missing configuration) exit 2, anything else 1.
 */
export function runCli(name: string, main: () => Promise<number>): void {
  main().then(
    (code) => process.exit(code),
    (e: unknown) => {
      if (e instanceof UsageError) {
        console.error(`${name}: ${e.message}`);
        process.exit(EXIT.usage);
      }
      console.error(`${name} failed: ${e instanceof Error ? e.message : String(e)}`);
      if (process.env.DEBUG) console.error(e);
      process.exit(EXIT.failed);
    },
  );
}
