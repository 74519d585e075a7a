import "server-only";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { PGlite } from "@electric-sql/pglite";
import type { Database, Queryable } from "./types";

// int8 (counts, sums, sizes) as JS numbers: sizes stay far below 2^53.
const PARSERS = { 20: (v: string) => Number(v) };

// PGlite's own start parameters, plus a smaller buffer cache: Postgres' default 128 MB of
// shared_buffers is most of the embedded server's memory (measured: 374 -> 273 MiB RSS with 32 MB),
// and the embedded default serves one machine's models. Bigger installations use a Postgres server.
const START_PARAMS = [...(PGlite as unknown as { defaultStartParams: string[] }).defaultStartParams, "-c", "shared_buffers=32MB"];

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
    transaction: (fn, opts) =>
      pg.transaction(async (tx) => {
        // A simple-protocol exec: measured 0.17 ms against 0.43 ms for the same statement with a parameter.
        if (opts?.setup) await tx.exec(opts.setup);
        return fn(wrap(tx));
      }),
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

// IMPORTANT: creating a cluster (initdb) takes ~600 MiB in WASM memory that the process never gives
// back (measured: RSS 785 MiB right after, 636 after closing and reopening). So a new cluster is
// created by a short-lived child process, and this one only ever opens an existing cluster.
const INITDB_SCRIPT = `
  const { PGlite } = await import("@electric-sql/pglite");
  const pg = new PGlite(process.argv[1]);
  await pg.waitReady;
  await pg.close();
`;

function createCluster(dir: string): void {
  const r = spawnSync(process.execPath, ["--input-type=module", "-e", INITDB_SCRIPT, dir], { cwd: process.cwd(), encoding: "utf8" });
  if (r.status !== 0 || !fs.existsSync(path.join(dir, "PG_VERSION"))) {
    throw new Error(`Could not create the embedded database in ${dir}: ${(r.stderr || r.error?.message || "").trim().slice(0, 500)}`);
  }
}

/**
 * Opens the embedded database in `dir`, creating parent folders. Takes an exclusive lock first:
 * two processes on one PGlite directory corrupt it silently (measured), so the second gets a clear error.
 */
export async function openPGlite(dir: string): Promise<Database> {
  fs.mkdirSync(dir, { recursive: true });
  const release = acquireLock(dir);
  try {
    if (!fs.existsSync(path.join(dir, "PG_VERSION"))) createCluster(dir);
    const pg = new PGlite(dir, { parsers: PARSERS, startParams: START_PARAMS });
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
