import "server-only";
import fs from "node:fs";
import os from "node:os";
import { PGlite } from "@electric-sql/pglite";
import type { Database, Queryable } from "./types";

// int8 (counts, sums, sizes) as JS numbers: sizes stay far below 2^53.
const PARSERS = { 20: (v: string) => Number(v) };

function wrap(q: Pick<PGlite, "query" | "exec">): Queryable & { exec(sql: string): Promise<void> } {
  return {
    async query<R>(text: string, params?: unknown[]) {
      const r = await q.query<R>(text, params);
      // Same meaning as pg's rowCount: rows affected by a write, rows returned by a select.
      return { rows: r.rows, rowCount: Math.max(r.affectedRows ?? 0, r.rows.length) };
    },
    async exec(sql: string) {
      await q.exec(sql);
    },
  };
}

function fromPGlite(pg: PGlite, release: () => Promise<void>): Database {
  const base = wrap(pg);
  return {
    kind: "pglite",
    ...base,
    transaction: (fn) => pg.transaction((tx) => fn(wrap(tx))),
    dumpDataDir: () => pg.dumpDataDir("gzip"),
    async close() {
      await pg.close();
      await release();
    },
  };
}

interface LockInfo {
  pid: number;
  host: string;
  since: string;
}

const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
};

function readLock(file: string): LockInfo | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, "utf8")) as LockInfo;
  } catch {
    return undefined;
  }
}

/**
 * An exclusive lock on a data directory: a file holding the owner's pid, created with O_EXCL. It is
 * stale only when that process is gone — never because of time, so a holder whose event loop is
 * blocked (a long first start) keeps it. Taking over a stale lock is itself serialized by an atomic
 * mkdir, so two processes cannot both take it.
 */
function acquireLock(dir: string): () => void {
  const file = `${dir}.lock`;
  const mine: LockInfo = { pid: process.pid, host: os.hostname(), since: new Date().toISOString() };
  const refuse = (holder?: LockInfo): never => {
    throw new Error(
      `The embedded database at ${dir} is already open in another process` +
        `${holder ? ` (pid ${holder.pid}${holder.host !== mine.host ? ` on ${holder.host}` : ""})` : ""}. ` +
        `Stop the other process (e.g. the running app), or point DATA_DIR at another directory.`,
    );
  };
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      fs.writeFileSync(file, JSON.stringify(mine), { flag: "wx" });
      const release = () => {
        if (readLock(file)?.pid === process.pid) fs.rmSync(file, { force: true });
        process.off("exit", release);
      };
      process.on("exit", release);
      return release;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    }
    const holder = readLock(file);
    // Another host (shared disk), or a live process on this one: never take it.
    if (holder && (holder.host !== mine.host || isAlive(holder.pid))) refuse(holder);
    const guard = `${file}.takeover`;
    try {
      fs.mkdirSync(guard);
    } catch {
      refuse(holder);
    }
    try {
      const again = readLock(file);
      if (!again || (again.pid === holder?.pid && !isAlive(again.pid))) fs.rmSync(file, { force: true });
    } finally {
      fs.rmSync(guard, { recursive: true, force: true });
    }
  }
  return refuse(readLock(file));
}

/**
 * Opens the embedded database in `dir`, creating parent folders. Takes an exclusive lock first:
 * two processes on one PGlite directory corrupt it silently (measured), so the second gets a clear error.
 */
export async function openPGlite(dir: string): Promise<Database> {
  fs.mkdirSync(dir, { recursive: true });
  const release = acquireLock(dir);
  try {
    const pg = new PGlite(dir, { parsers: PARSERS });
    await pg.waitReady;
    return fromPGlite(pg, async () => release());
  } catch (e) {
    release();
    throw e;
  }
}

/** An in-memory PGlite, optionally from a data-dir tarball (fast test databases, ~0.6 s). */
export async function openMemoryPGlite(loadDataDir?: Blob | File): Promise<Database> {
  const pg = new PGlite({ parsers: PARSERS, loadDataDir });
  await pg.waitReady;
  return fromPGlite(pg, async () => {});
}
