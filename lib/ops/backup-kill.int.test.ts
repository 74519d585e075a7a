// `npm run backup` killed half-way (SIGKILL, a real child process), then rerun: the first run
// leaves no archive (only <out>.partial), the second replaces it and the result verifies with
// every object byte-identical. Also: the script refuses (exit 2) while the app holds the database.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { migrate } from "@/lib/db/migrate";
import { openPGlite } from "@/lib/db/pglite";
import type { Database } from "@/lib/db/types";
import { createLocalBlobStore } from "@/lib/storage/adapters/local";
import { DB_KINDS, openTestDatabase, type TestDatabase } from "@/test/db";
import { makeWorld, type World } from "@/test/world";
import { verifyBackup } from "./archive";
import { hashStore, safetensors, spawnScript, upload } from "./testing";

const MiB = 1024 * 1024;

describe.each(DB_KINDS)("backup killed mid-way on %s", (kind) => {
  let t: TestDatabase | undefined;
  let db: Database;
  let w: World;
  let dataDir: string;
  let env: Record<string, string>;
  let tmp: string;

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "fm-backup-kill-"));
    if (kind === "pglite") {
      // A real data directory (DATA_DIR/db + DATA_DIR/storage), as the embedded app leaves it.
      db = await openPGlite(path.join(tmp, "seed-db"));
      await migrate(db);
    } else {
      t = await openTestDatabase("postgres");
      db = t.db;
    }
    w = await makeWorld(db);
    for (let i = 0; i < 4; i++) await upload(w, "big", `1.${i}`, safetensors(MiB + i));
    dataDir = w.dir;
    if (kind === "pglite") {
      await db.close();
      fs.renameSync(path.join(tmp, "seed-db"), path.join(dataDir, "db"));
      env = { DATA_DIR: dataDir };
    } else {
      env = { DATA_DIR: dataDir, DATABASE_URL: t!.url! };
    }
  });
  afterAll(async () => {
    w?.cleanup();
    await t?.cleanup();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it("SIGKILL leaves only <out>.partial; a rerun writes a complete archive that verifies", async () => {
    const out = path.join(tmp, "nightly.tar");
    const first = spawnScript("scripts/backup.ts", ["--out", out, "--max-rate", "1M"], env);
    await first.waitFor(/Archiving \d+ objects/);
    await new Promise((r) => setTimeout(r, 700));
    first.child.kill("SIGKILL");
    expect(await first.exit).toBeNull();
    expect(fs.existsSync(out)).toBe(false);
    const partialSize = fs.statSync(`${out}.partial`).size;
    expect(partialSize).toBeGreaterThan(0);
    expect((await verifyBackup(`${out}.partial`)).ok).toBe(false);

    const second = spawnScript("scripts/backup.ts", ["--out", out], env);
    expect(await second.exit, second.output()).toBe(0);
    expect(second.output()).toMatch(/left by an interrupted backup/);
    expect(fs.existsSync(`${out}.partial`)).toBe(false);
    expect((await verifyBackup(out)).ok).toBe(true);

    if (kind === "pglite") {
      const verify = spawnScript("scripts/backup-verify.ts", [out], {});
      expect(await verify.exit, verify.output()).toBe(0);
    }
    // Every object made it, byte for byte (restore itself is covered in backup.test.ts).
    const original = await hashStore(createLocalBlobStore({ rootDir: path.join(dataDir, "storage"), bucket: "ai-models" }));
    expect(original).toHaveLength(4);
    const { manifest } = await verifyBackup(out);
    expect(manifest!.objects.map((o) => ({ key: o.key, size: o.size, sha256: o.sha256 }))).toEqual(original);
  });

  it.runIf(kind === "pglite")("refuses with exit 2 and says what to do while the app holds the embedded database", async () => {
    const app = await openPGlite(path.join(dataDir, "db"));
    try {
      const run = spawnScript("scripts/backup.ts", ["--out", path.join(tmp, "refused.tar")], env);
      expect(await run.exit).toBe(2);
      expect(run.output()).toMatch(/Stop the app, or run against DATABASE_URL/);
      expect(fs.existsSync(path.join(tmp, "refused.tar.partial"))).toBe(false);
    } finally {
      await app.close();
    }
  });
});
