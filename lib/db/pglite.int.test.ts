import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openPGlite } from "./pglite";
import type { Database } from "./types";

const PGLITE_TS = JSON.stringify(path.resolve("lib/db/pglite.ts"));

// A second process opening the same directory: the real app, a script or a test run beside it.
const OPEN_AND_READ = `
import { openPGlite } from ${PGLITE_TS};
try {
  const db = await openPGlite(process.argv[2]);
  const { rows } = await db.query("select x from lock_probe order by x");
  console.log("OPENED " + JSON.stringify(rows.map((r) => r.x)));
  await db.close();
} catch (e) {
  console.error(e instanceof Error ? e.message : String(e));
  process.exit(3);
}
`;

// Holds the directory, then blocks its event loop (as PGlite's synchronous WASM start-up or any long
// synchronous work does) for longer than the lock's stale window.
const OPEN_AND_BLOCK = `
import { openPGlite } from ${PGLITE_TS};
await openPGlite(process.argv[2]);
console.log("LOCKED");
Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 40_000);
`;

function runChild(script: string, dir: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn("npx", ["--no-install", "tsx", "--conditions=react-server", script, dir], {
      cwd: process.cwd(),
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

describe("openPGlite: one process per data directory", () => {
  let root: string;
  let dir: string;
  let script: string;
  let db: Database | undefined;

  beforeAll(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), "fm-pglite-lock-"));
    dir = path.join(root, "nested", "deeper", "db");
    script = path.join(root, "open-and-read.mts");
    fs.writeFileSync(script, OPEN_AND_READ);
  });
  afterAll(async () => {
    await db?.close().catch(() => {});
    fs.rmSync(root, { recursive: true, force: true });
  });

  it("creates the parent folders and takes the lock, released on close", { timeout: 60_000 }, async () => {
    expect(fs.existsSync(path.dirname(dir))).toBe(false);
    const first = await openPGlite(dir);
    try {
      expect(fs.statSync(dir).isDirectory()).toBe(true);
      expect(fs.existsSync(`${dir}.lock`)).toBe(true);
      await first.exec("create table lock_probe (x text primary key); insert into lock_probe values ('written before');");
    } finally {
      await first.close();
    }
    expect(fs.existsSync(`${dir}.lock`)).toBe(false);
  });

  // Reopening an initialised directory is fast (~0.5 s); see the KNOWN BUG below for a slow start.
  it("refuses a second open in the same process", async () => {
    db = await openPGlite(dir);
    await expect(openPGlite(dir)).rejects.toThrow(`The embedded database at ${dir} is already open in another process`);
  });

  it("refuses a second process with a clear message and a non-zero exit", { timeout: 60_000 }, async () => {
    const child = await runChild(script, dir);
    expect(child.stderr).toContain(`The embedded database at ${dir} is already open in another process`);
    expect(child.stdout).not.toContain("OPENED");
    expect(child.code).toBe(3);
    // The refused process touched nothing: the holder still reads and writes.
    const { rows } = await db!.query<{ x: string }>("select x from lock_probe");
    expect(rows).toEqual([{ x: "written before" }]);
    await db!.query("insert into lock_probe values ('written while locked')");
  });

  it("releases the lock on close: another process opens it and sees the data", { timeout: 60_000 }, async () => {
    await db!.close();
    db = undefined;
    expect(fs.existsSync(`${dir}.lock`)).toBe(false);
    const child = await runChild(script, dir);
    expect(child.stderr).not.toContain("already open");
    expect(child.stdout).toContain(`OPENED ${JSON.stringify(["written before", "written while locked"])}`);
    expect(child.code).toBe(0);
  });

  it("reopens intact in this process after the other one closed", async () => {
    db = await openPGlite(dir);
    const { rows } = await db.query<{ x: string }>("select x from lock_probe order by x");
    expect(rows.map((r) => r.x)).toEqual(["written before", "written while locked"]);
    await db.close();
    db = undefined;
    expect(fs.existsSync(`${dir}.lock`)).toBe(false);
  });
});

// Regression: the first lock was an mtime lock (stale after 15 s without a refresh). A holder whose
// event loop was blocked longer — PGlite's first start took 15.9 s under load — lost it to a second
// process, and both ran on one directory. The lock is now stale only when the holder's pid is gone.
describe("openPGlite: a holder with a blocked event loop", () => {
  let root: string;
  let dir: string;
  let holder: ChildProcess | undefined;
  let stolen: Database | undefined;

  beforeAll(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), "fm-pglite-stale-"));
    dir = path.join(root, "db");
    const script = path.join(root, "open-and-block.mts");
    fs.writeFileSync(script, OPEN_AND_BLOCK);
    // node + tsx's loader directly (not npx): one process, so it can be killed by its own pid.
    const child = spawn(process.execPath, ["--import", "tsx", "--conditions=react-server", script, dir], {
      cwd: process.cwd(),
      stdio: ["ignore", "pipe", "pipe"],
    });
    holder = child;
    await new Promise<void>((resolve, reject) => {
      let out = "";
      child.stdout.on("data", (d: Buffer) => {
        out += d.toString();
        if (out.includes("LOCKED")) resolve();
      });
      child.on("exit", (code) => reject(new Error(`the holder exited early (${code})`)));
    });
    await new Promise((r) => setTimeout(r, 17_000)); // past the 15 s stale window
    if (child.exitCode !== null) throw new Error(`the holder is gone (${child.exitCode}): nothing to prove`);
  }, 90_000);

  afterAll(async () => {
    await stolen?.close().catch(() => {});
    if (holder?.pid && holder.exitCode === null) holder.kill("SIGKILL");
    fs.rmSync(root, { recursive: true, force: true });
  });

  it("still refuses a second open while the holder is alive", { timeout: 30_000 }, async () => {
    const outcome = await openPGlite(dir).then(
      (db) => {
        stolen = db;
        return "opened the directory of a live holder";
      },
      (e: Error) => e.message,
    );
    expect(outcome).toContain("already open in another process");
  });
});
