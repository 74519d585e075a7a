// migrate:cloud killed mid-copy (SIGKILL, a real child process running migrateToCloud with a second
// local store standing in for Supabase Storage), then rerun: nothing half-copied is visible, the
// versions finished before the kill stay switched, the rerun finishes the rest and copies no byte twice.
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
import { migrateToCloud } from "./migrate-cloud";
import { hashStore, safetensors, spawnScript, upload, type StoredVersion } from "./testing";

const MiB = 1024 * 1024;

describe.each(DB_KINDS)("migrate:cloud killed mid-copy on %s, with a local stand-in target", (kind) => {
  let t: TestDatabase | undefined;
  let db: Database;
  let dbArg: string;
  let w: World;
  let tmp: string;
  const versions: StoredVersion[] = [];

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "fm-migrate-kill-"));
    if (kind === "pglite") {
      dbArg = path.join(tmp, "db");
      db = await openPGlite(dbArg);
      await migrate(db);
    } else {
      t = await openTestDatabase("postgres");
      db = t.db;
      dbArg = t.url!;
    }
    w = await makeWorld(db);
    for (let i = 0; i < 5; i++) versions.push(await upload(w, "big", `1.${i}`, safetensors(2 * MiB + i)));
    if (kind === "pglite") await db.close(); // the child takes the lock
  });
  afterAll(async () => {
    w?.cleanup();
    await t?.cleanup();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it("a rerun after SIGKILL finishes the job, verified, without recopying", async () => {
    const targetRoot = path.join(tmp, "target");
    const child = spawnScript("lib/ops/testing-migrate-child.ts", [dbArg, w.config.storageDir, targetRoot, String(4 * MiB)], {});
    await child.waitFor(/copied .*@1\.1/);
    await new Promise((r) => setTimeout(r, 200));
    child.child.kill("SIGKILL");
    expect(await child.exit).toBeNull();

    const target = createLocalBlobStore({ rootDir: targetRoot, bucket: "ai-models" });
    const copiedBefore = [...child.output().matchAll(/copied \S+@(\S+)/g)].map((m) => m[1]);
    expect(copiedBefore.length).toBeGreaterThanOrEqual(2);
    expect(copiedBefore.length).toBeLessThan(5);
    if (kind === "pglite") db = await openPGlite(dbArg); // takes over the dead child's lock
    // Switched before the kill (a log line may not have made it out before SIGKILL).
    const { rows: before } = await db.query<{ n: number }>(
      "select count(*)::int as n from public.blobs where storage_backend = 'supabase'",
    );
    const switchedBefore = before[0]!.n;
    expect(switchedBefore).toBeGreaterThanOrEqual(copiedBefore.length);
    // Only complete objects are visible in the target, each with the right bytes.
    const inTarget = await hashStore(target);
    for (const o of inTarget) expect(o.sha256).toBe(versions.find((v) => v.object_key === o.key)!.sha256);

    const r = await migrateToCloud({ db, source: w.store, target });
    expect(r.failed).toEqual([]);
    expect(r.copied.length + r.alreadyThere.length).toBe(5 - switchedBefore);
    for (const o of inTarget) expect(r.copied).not.toContain(o.key); // finished copies are never sent again
    const { rows } = await db.query<{ storage_backend: string }>("select storage_backend from public.model_versions");
    expect(rows.every((x) => x.storage_backend === "supabase")).toBe(true);
    expect((await hashStore(target)).map((o) => o.sha256).sort()).toEqual(versions.map((v) => v.sha256!).sort());
    expect((await migrateToCloud({ db, source: w.store, target })).plan.items).toEqual([]);
    if (kind === "pglite") await db.close();
  });
});
