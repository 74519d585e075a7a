import cliProgress from "cli-progress";

// A bar with rate and ETA on a terminal; plain lines otherwise (CI logs, pipes); nothing with --json
// except errors.

export interface Progress {
  start(label: string, total: number): void;
  add(bytes: number): void;
  line(text: string): void;
  stop(): void;
}

const mib = (n: number) => `${(n / 1048576).toFixed(1)} MiB`;

export function createProgress(opts: { json: boolean }): Progress {
  const tty = Boolean(process.stderr.isTTY) && !opts.json;
  if (tty) {
    const bar = new cliProgress.SingleBar(
      {
        stream: process.stderr,
        format: "{label} [{bar}] {percentage}% | {done}/{size} | {rate}/s | ETA {eta_formatted}",
        hideCursor: true,
        etaBuffer: 50,
      },
      cliProgress.Presets.shades_classic,
    );
    let value = 0;
    let startedAt = Date.now();
    let running = false;
    const payload = (label?: string) => ({
      ...(label === undefined ? {} : { label }),
      done: mib(value),
      rate: mib(value / Math.max((Date.now() - startedAt) / 1000, 0.001)),
    });
    return {
      start(label, total) {
        value = 0;
        startedAt = Date.now();
        running = true;
        bar.start(total, 0, { ...payload(label), size: mib(total) });
      },
      add(bytes) {
        value += bytes;
        bar.update(value, payload());
      },
      line(text) {
        if (running) bar.stop();
        running = false;
        process.stderr.write(`${text}\n`);
      },
      stop() {
        if (running) bar.stop();
        running = false;
      },
    };
  }
  return {
    start: () => {},
    add: () => {},
    line: (text) => {
      if (!opts.json) process.stderr.write(`${text}\n`);
    },
    stop: () => {},
  };
}

export const formatBytes = (n: number) =>
  n < 1024 ? `${n} B` : n < 1048576 ? `${(n / 1024).toFixed(1)} KiB` : n < 1073741824 ? mib(n) : `${(n / 1073741824).toFixed(2)} GiB`;
