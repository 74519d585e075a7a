import fs from "node:fs";
import fsp from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { UsageError } from "./ops-env";

const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
};

/**
 * A pid lock file (O_EXCL) so two runs of one command never work on the same output. A lock whose
 * process is gone (killed) is taken over; returns the release function.
 */
export function takePidLock(file: string, what: string): () => void {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(file, JSON.stringify({ pid: process.pid, host: os.hostname() }), { flag: "wx" });
      const release = () => {
        try {
          const held = JSON.parse(fs.readFileSync(file, "utf8")) as { pid: number };
          if (held.pid === process.pid) fs.rmSync(file, { force: true });
        } catch {
          // already gone
        }
        process.off("exit", release);
      };
      process.on("exit", release);
      return release;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    }
    let holder: { pid?: number; host?: string } = {};
    try {
      holder = JSON.parse(fs.readFileSync(file, "utf8"));
    } catch {
      // unreadable: treat as stale
    }
    if (holder.pid && holder.host === os.hostname() && isAlive(holder.pid)) {
      throw new UsageError(`${what} is already running (pid ${holder.pid}; lock ${file}).`);
    }
    if (holder.host && holder.host !== os.hostname()) throw new UsageError(`${what} is locked by host ${holder.host} (${file}).`);
    fs.rmSync(file, { force: true });
  }
  throw new UsageError(`Could not lock ${file}.`);
}

/** True when `dir` does not exist or is an empty directory. */
export function isEmptyDir(dir: string): boolean {
  try {
    return fs.readdirSync(dir).length === 0;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return true;
    if ((e as NodeJS.ErrnoException).code === "ENOTDIR") return false;
    throw e;
  }
}

/** fsyncs a file or directory (durable renames need the directory synced too). */
export async function syncPath(p: string): Promise<void> {
  const fh = await fsp.open(p, "r");
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** A default archive name: fairmind-backup-<UTC timestamp>.tar in the current directory. */
export function defaultArchiveName(now = new Date()): string {
  return path.resolve(`fairmind-backup-${now.toISOString().replace(/[-:]/g, "").replace(/\..*$/, "Z")}.tar`);
}
