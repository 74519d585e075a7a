import "server-only";
import fs from "node:fs";
import path from "node:path";
import { PGlite } from "@electric-sql/pglite";
import lockfile from "proper-lockfile";
import type { Database, Queryable } from "./types";

// int8 (counts, sums, sizes) as JS numbers: sizes stay far below 2^53.
const PARSERS = { 20: (v: string) => Number(v) };

function wrap(q: Pick<PGlite, "query" | "exec">): Queryable & { exec(sql: string): Promise<void> } {
  return {
    async query<R>(text: string, params?: unknown[]) {
      const r = await q.query<R>(text, params);
      return { rows: r.rows, rowCount: r.affectedRows ?? r.rows.length };
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

/**
 * Opens the embedded database in `dir`, creating parent folders. Takes an exclusive lock first:
 * two processes on one PGlite directory corrupt it silently (measured), so the second gets a clear error.
 */
export async function openPGlite(dir: string): Promise<Database> {
  fs.mkdirSync(dir, { recursive: true });
  let release: () => Promise<void>;
  try {
    release = await lockfile.lock(dir, { stale: 15_000, update: 5_000, realpath: false, lockfilePath: `${dir}.lock` });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ELOCKED") {
      throw new Error(
        `The embedded database at ${dir} is already open in another process (lock ${dir}.lock). ` +
          `Stop the other process (e.g. the running app), or point DATA_DIR at another directory.`,
      );
    }
    throw e;
  }
  try {
    const pg = new PGlite(dir, { parsers: PARSERS });
    await pg.waitReady;
    return fromPGlite(pg, release);
  } catch (e) {
    await release();
    throw e;
  }
}

/** An in-memory PGlite, optionally from a data-dir tarball (fast test databases, ~0.6 s). */
export async function openMemoryPGlite(loadDataDir?: Blob | File): Promise<Database> {
  const pg = new PGlite({ parsers: PARSERS, loadDataDir });
  await pg.waitReady;
  return fromPGlite(pg, async () => {});
}

