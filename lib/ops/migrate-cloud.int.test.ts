import { randomBytes, randomUUID } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BlobStore } from "@/lib/storage/blob-store";
import { createEncryptedBlobStore } from "@/lib/storage/adapters/encrypted";
import { parseMasterKey } from "@/lib/storage/adapters/encryption-keys";
import { createLocalBlobStore, type LocalBlobStore } from "@/lib/storage/adapters/local";
import { createSupabaseBlobStore } from "@/lib/storage/adapters/supabase";
import { DB_KINDS, openTestDatabase, type TestDatabase } from "@/test/db";
import { makeWorld, type World } from "@/test/world";
import { migrateToCloud, planMigration } from "./migrate-cloud";
import { hashStore, safetensors, seedVersions, upload, type SeededVersions } from "./testing";

const backends = async (t: TestDatabase) =>
  Object.fromEntries(
    (await t.db.query<{ object_key: string; storage_backend: string }>("select object_key, storage_backend from public.blobs")).rows.map(
      (r) => [r.object_key, r.storage_backend],
    ),
  );

describe.each(DB_KINDS)(
  "migrate:cloud on %s, with a second local store standing in for Supabase Storage (same BlobStore interface)",
  (kind) => {
    let t: TestDatabase;
    let w: World;
    let seeded: SeededVersions;
    let targetDir: string;
    let target: LocalBlobStore;
    let pendingKey: string;

    beforeAll(async () => {
      t = await openTestDatabase(kind);
      w = await makeWorld(t.db);
      seeded = await seedVersions(w);
      pendingKey = (
        await w.services.uploads.reserveUpload(w.users.member, {
          org: w.orgs.a.slug,
          model: "inflight",
          version: "1.0",
          fileName: "x.safetensors",
        })
      ).key;
      targetDir = fs.mkdtempSync(path.join(os.tmpdir(), "fm-target-"));
      target = createLocalBlobStore({ rootDir: targetDir, bucket: "ai-models" });
    });
    afterAll(async () => {
      w?.cleanup();
      await t?.cleanup();
      if (targetDir) fs.rmSync(targetDir, { recursive: true, force: true });
    });

    const movable = () => [...seeded.ready, seeded.deleted, seeded.quarantined];

    it("plans every stored version (ready, quarantined, soft-deleted), skips uploads in flight; --dry-run changes nothing", async () => {
      const plan = await planMigration({ db: t.db, source: w.store, target });
      expect(plan.items.map((i) => i.key).sort()).toEqual(
        movable()
          .map((v) => v.object_key)
          .sort(),
      );
      expect(plan.items.every((i) => i.action === "copy")).toBe(true);
      expect(plan.copyBytes).toBe(movable().reduce((n, v) => n + v.size_bytes!, 0));
      expect(plan.skipped).toEqual([expect.objectContaining({ key: pendingKey, reason: expect.stringMatching(/pending/) })]);
      const dry = await migrateToCloud({ db: t.db, source: w.store, target, dryRun: true });
      expect(dry.copied).toEqual([]);
      expect(await hashStore(target)).toEqual([]);
      expect(Object.values(await backends(t)).every((b) => b === "local")).toBe(true);
    });

    it("copies, verifies by reading back, and switches each version; local bytes stay without --delete-local", async () => {
      let bytes = 0;
      const r = await migrateToCloud({ db: t.db, source: w.store, target, onBytes: (n) => (bytes += n) });
      expect(r.failed).toEqual([]);
      expect(r.copied.sort()).toEqual(
        movable()
          .map((v) => v.object_key)
          .sort(),
      );
      expect(bytes).toBe(2 * r.plan.copyBytes); // sent once, read back once
      const inTarget = await hashStore(target);
      for (const v of movable()) expect(inTarget.find((o) => o.key === v.object_key)?.sha256).toBe(v.sha256);
      const b = await backends(t);
      for (const v of movable()) expect(b[v.object_key]).toBe("supabase");
      expect(b[pendingKey]).toBe("local");
      for (const v of movable()) expect(await w.store.stat(v.object_key)).not.toBeNull();
      const { rows } = await t.db.query<{ n: number }>(
        "select count(*)::int as n from public.audit_events where action = 'blob.migrate' and via = 'system'",
      );
      expect(rows[0]!.n).toBe(movable().length);
    });

    it("is idempotent: a rerun copies nothing", async () => {
      const r = await migrateToCloud({ db: t.db, source: w.store, target });
      expect(r.plan.items).toEqual([]);
      expect(r.copied).toEqual([]);
    });

    it("--delete-local verifies the target copy again, then deletes only the local bytes", async () => {
      const plan = await planMigration({ db: t.db, source: w.store, target, deleteLocal: true });
      expect(plan.items.every((i) => i.action === "delete-local")).toBe(true);
      const r = await migrateToCloud({ db: t.db, source: w.store, target, deleteLocal: true });
      expect(r.failed).toEqual([]);
      expect(r.deletedLocal.sort()).toEqual(
        movable()
          .map((v) => v.object_key)
          .sort(),
      );
      for (const v of movable()) {
        expect(await w.store.stat(v.object_key)).toBeNull();
        expect(await target.stat(v.object_key)).not.toBeNull();
      }
    });

    it("resumes after an interruption: a half-sent copy leaves nothing, a copied-but-unswitched version is verified and switched", async () => {
      const a = await upload(w, "resume", "1.0", safetensors(3 * 1024 * 1024));
      const b = await upload(w, "resume", "1.1", safetensors(200_000));
      const c = await upload(w, "resume", "1.2", safetensors(150_000));
      // "Killed after the copy, before the switch": c is already in the target.
      await target.put(c.object_key, (await w.store.get(c.object_key)).stream);
      // Interrupt the first copy (a) mid-stream.
      const ac = new AbortController();
      let seen = 0;
      await expect(
        migrateToCloud({
          db: t.db,
          source: w.store,
          target,
          signal: ac.signal,
          onBytes: (n) => {
            seen += n;
            if (seen > 1024 * 1024) ac.abort(new Error("killed"));
          },
        }),
      ).rejects.toThrow();
      expect(await target.stat(a.object_key)).toBeNull();
      expect((await backends(t))[a.object_key]).toBe("local");
      const r = await migrateToCloud({ db: t.db, source: w.store, target });
      expect(r.failed).toEqual([]);
      expect(r.copied.sort()).toEqual([a.object_key, b.object_key].sort());
      expect(r.alreadyThere).toEqual([c.object_key]);
      const bk = await backends(t);
      for (const v of [a, b, c]) expect(bk[v.object_key]).toBe("supabase");
    });

    it("never overwrites different bytes at the target key, and never copies damaged local bytes", async () => {
      const clash = await upload(w, "clash", "1.0", safetensors(10_000));
      await target.put(clash.object_key, Readable.from([randomBytes(10_000)]));
      const damaged = await upload(w, "damaged", "1.0", safetensors(10_000));
      const file = path.join(w.config.storageDir, w.config.bucket, ...damaged.object_key.split("/"));
      const bytes = fs.readFileSync(file);
      bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 1;
      fs.writeFileSync(file, bytes);
      const before = await hashStore(target);
      const r = await migrateToCloud({ db: t.db, source: w.store, target });
      expect(r.failed.map((f) => f.key).sort()).toEqual([clash.object_key, damaged.object_key].sort());
      expect(r.failed.find((f) => f.key === clash.object_key)?.error).toMatch(/different bytes/);
      expect(r.failed.find((f) => f.key === damaged.object_key)?.error).toMatch(/do not match/);
      expect(await hashStore(target)).toEqual(before);
      const bk = await backends(t);
      expect([bk[clash.object_key], bk[damaged.object_key]]).toEqual(["local", "local"]);
    });

    it("an encrypted local store migrates plaintext (the SHA-256 recorded is the plaintext's)", async () => {
      const v = await upload(w, "secret", "1.0", safetensors(100_000));
      const keys = { current: parseMasterKey(randomBytes(32).toString("base64")) };
      const encrypted = createEncryptedBlobStore(w.store as LocalBlobStore, keys);
      await encrypted.encryptExistingObject(v.object_key);
      const r = await migrateToCloud({ db: t.db, source: encrypted, target });
      expect(r.copied).toContain(v.object_key);
      expect((await hashStore(target)).find((o) => o.key === v.object_key)?.sha256).toBe(v.sha256);
    });
  },
);

// The real thing, only when a Supabase project is configured for tests.
const url = process.env.SUPABASE_TEST_URL;
const anonKey = process.env.SUPABASE_TEST_ANON_KEY;
const jwtSecret = process.env.SUPABASE_TEST_JWT_SECRET;
const serviceKey = process.env.SUPABASE_TEST_SERVICE_ROLE_KEY;
const configured = Boolean(url && anonKey && jwtSecret && serviceKey);
const SKIPPED =
  "SKIPPED: migrate:cloud against real Supabase Storage — set SUPABASE_TEST_URL, SUPABASE_TEST_ANON_KEY, SUPABASE_TEST_JWT_SECRET and SUPABASE_TEST_SERVICE_ROLE_KEY to run it";
if (!configured) console.warn(`\n[lib/ops/migrate-cloud.test.ts] ${SKIPPED}\n`);

describe.skipIf(!configured)(configured ? `migrate:cloud to real Supabase Storage at ${url}` : SKIPPED, () => {
  let t: TestDatabase;
  let w: World;
  let target: BlobStore;
  const keys: string[] = [];
  beforeAll(async () => {
    t = await openTestDatabase("pglite");
    w = await makeWorld(t.db);
    target = createSupabaseBlobStore({
      url: url!,
      anonKey: serviceKey!,
      accessToken: serviceKey!,
      bucket: process.env.SUPABASE_TEST_BUCKET ?? "ai-models",
    });
    for (let i = 0; i < 2; i++)
      keys.push((await upload(w, `cloud_${randomUUID().slice(0, 8)}`, "1.0", safetensors(7 * 1024 * 1024 + i))).object_key);
  });
  afterAll(async () => {
    for (const k of keys) await target?.delete(k).catch(() => {});
    w?.cleanup();
    await t?.cleanup();
  });

  it("copies, verifies, switches; a rerun copies nothing", async () => {
    const r = await migrateToCloud({ db: t.db, source: w.store, target });
    expect(r.failed).toEqual([]);
    expect(r.copied.sort()).toEqual([...keys].sort());
    expect((await migrateToCloud({ db: t.db, source: w.store, target })).copied).toEqual([]);
  });
});
