// The app servers the soak starts: `next start` from the production build in .next, on loopback,
// each with its own temporary DATA_DIR; killed by process group (kill -9 included).
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { appNodeOptions } from "@/lib/http/server-process";

export interface AppServer {
  name: string;
  port: number;
  url: string;
  dataDir: string;
  env: Record<string, string>;
  child: ChildProcess;
  /** Everything the server printed (stdout and stderr), for messages and leaks. */
  output: () => string;
  exited: () => { code: number | null; signal: NodeJS.Signals | null } | undefined;
  stop: (signal?: NodeJS.Signals) => Promise<void>;
}

const NEXT_BIN = path.resolve("node_modules/next/dist/bin/next");

/** Starts `next start` on 127.0.0.1:port with the given environment (no reads of .env files by us). */
export function startServer(name: string, port: number, dataDir: string, env: Record<string, string> = {}): AppServer {
  if (port < 3400 || port > 3499) throw new Error(`soak servers use ports 3400-3499, not ${port}`);
  const fullEnv = { DATA_DIR: dataDir, PORT: String(port), NEXT_TELEMETRY_DISABLED: "1", ...env };
  const child = spawn(process.execPath, [NEXT_BIN, "start", "-p", String(port), "-H", "127.0.0.1"], {
    env: { ...process.env, ...fullEnv, NODE_OPTIONS: appNodeOptions() },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let out = "";
  child.stdout!.on("data", (c: Buffer) => (out = (out + c.toString()).slice(-200_000)));
  child.stderr!.on("data", (c: Buffer) => (out = (out + c.toString()).slice(-200_000)));
  let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const exitPromise = new Promise<void>((resolve) =>
    child.on("exit", (code, signal) => {
      exit = { code, signal };
      resolve();
    }),
  );
  const server: AppServer = {
    name,
    port,
    url: `http://127.0.0.1:${port}`,
    dataDir,
    env: fullEnv,
    child,
    output: () => out,
    exited: () => exit,
    async stop(signal = "SIGTERM") {
      if (exit) return;
      try {
        process.kill(-child.pid!, signal);
      } catch {}
      await Promise.race([exitPromise, new Promise((r) => setTimeout(r, 10_000))]);
      if (!exit) {
        try {
          process.kill(-child.pid!, "SIGKILL");
        } catch {}
        await exitPromise;
      }
    },
  };
  RUNNING.add(server);
  void exitPromise.then(() => RUNNING.delete(server));
  return server;
}

const RUNNING = new Set<AppServer>();

/** Kills every server this process started (on exit, on Ctrl-C, on a crash). */
export function killAll() {
  for (const s of RUNNING) {
    try {
      process.kill(-s.child.pid!, "SIGKILL");
    } catch {}
  }
}

/** Waits until GET /api/health answers 200 (or the server exits); seconds taken. */
export async function waitHealthy(s: AppServer, seconds = 180): Promise<number> {
  const t = performance.now();
  while ((performance.now() - t) / 1000 < seconds) {
    if (s.exited()) throw new Error(`${s.name} exited (${JSON.stringify(s.exited())}) before it was healthy:\n${s.output().slice(-2000)}`);
    try {
      const r = await fetch(`${s.url}/api/health`, { signal: AbortSignal.timeout(5_000) });
      await r.arrayBuffer();
      if (r.status === 200) return (performance.now() - t) / 1000;
    } catch {}
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${s.name} was not healthy within ${seconds} s:\n${s.output().slice(-2000)}`);
}

/** Resident memory of a process and its children, in bytes (from /proc). */
export function rssOfTree(pid: number): number {
  let total = 0;
  const walk = (p: number) => {
    try {
      const status = fs.readFileSync(`/proc/${p}/status`, "utf8");
      total += Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) * 1024;
      const children = fs.readFileSync(`/proc/${p}/task/${p}/children`, "utf8").trim();
      for (const c of children ? children.split(/\s+/) : []) walk(Number(c));
    } catch {}
  };
  walk(pid);
  return total;
}

/** Samples a server's RSS every 50 ms; stop() gives the baseline and the peak in MiB. */
export function watchRss(s: AppServer) {
  const MiB = 1024 * 1024;
  const base = rssOfTree(s.child.pid!);
  let peak = base;
  const timer = setInterval(() => (peak = Math.max(peak, rssOfTree(s.child.pid!))), 50);
  return {
    peakMiB: () => Math.max(peak, rssOfTree(s.child.pid!)) / MiB,
    stop: () => {
      clearInterval(timer);
      peak = Math.max(peak, rssOfTree(s.child.pid!));
      return { baseMiB: base / MiB, peakMiB: peak / MiB, growthMiB: (peak - base) / MiB };
    },
  };
}
