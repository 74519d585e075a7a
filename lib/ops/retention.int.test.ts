import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { withService, withUser } from "@/lib/db/client";
import type { ModelVersion } from "@/lib/storage/types";
import { DB_KINDS, openTestDatabase, type TestDatabase } from "@/test/db";
import { makeWorld, type World } from "@/test/world";
import { runRetention, type RetentionOptions } from "./retention";
import { formatRetentionReport, retentionSettings } from "./retention-report";
import { safetensors, upload } from "./testing";

const DAY = 86_400_000;
const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");

describe.each(DB_KINDS)("retention and clean-up on %s", (kind) => {
  let t: TestDatabase;
  let w: World;
  const v: Record<string, ModelVersion> = {};
  const key: Record<string, string> = {};
  let opts: Omit<RetentionOptions, "dryRun">;
  const fileOf = (k: string) => path.join(w.config.storageDir, w.config.bucket, ...k.split("/"));
  const exists = (k: string) => fs.existsSync(fileOf(k));
  const setDeletedAt = (id: string, at: Date) =>
    withService(t.db, (tx) => tx.query("update public.model_versions set deleted_at = $2 where id = $1", [id, at]));
  const row = async (id: string) =>
    (
      await t.db.query<{ status: string; purged_at: Date | null }>("select status, purged_at from public.model_versions where id = $1", [
        id,
      ])
    ).rows[0];
  const blob = async (k: string) =>
    (
      await t.db.query<{ id: string; status: string; purged_at: Date | null }>(
        "select id, status, purged_at from public.blobs where object_key = $1",
        [k],
      )
    ).rows[0];
  const orphanKey = (name: string) => `${w.orgs.a.slug}/${name}_v1.safetensors`;
  let auditBefore: number[];

  beforeAll(async () => {
    t = await openTestDatabase(kind);
    w = await makeWorld(t.db);
    opts = {
      db: t.db,
      store: w.store,
      backend: "local",
      bucket: w.config.bucket,
      retentionDays: 30,
      protectedAliases: ["production"],
    };
    const del = (model: string, version: string) => w.services.catalog.deleteVersion(w.users.admin, w.orgs.a.slug, model, version);
    const up = async (name: string, model: string, version: string, data = safetensors(5000)) => {
      v[name] = await upload(w, model, version, data);
      key[name] = await w.keyOf(v[name]);
    };

    // Deleted 40 days ago, never aliased: expired, its bytes purged.
    await up("old", "m", "1.0");
    await del("m", "1.0");
    await setDeletedAt(v.old!.id, new Date(Date.now() - 40 * DAY));
    // Deleted 5 days ago: kept.
    await up("recent", "m", "1.1");
    await del("m", "1.1");
    await setDeletedAt(v.recent!.id, new Date(Date.now() - 5 * DAY));
    // Production when it was deleted (40 days ago): held forever.
    await up("prod", "m", "2.0");
    await w.services.aliases.setAlias(w.users.member, w.orgs.a.slug, "m", "production", "2.0");
    await del("m", "2.0");
    await setDeletedAt(v.prod!.id, new Date(Date.now() - 40 * DAY));
    // Staging (not protected) when deleted 40 days ago: expired, purged.
    await up("staging", "m", "2.1");
    await w.services.aliases.setAlias(w.users.member, w.orgs.a.slug, "m", "staging", "2.1");
    await del("m", "2.1");
    await setDeletedAt(v.staging!.id, new Date(Date.now() - 40 * DAY));
    // Defence in depth: a deleted version an alias still points at (written behind the app's back).
    await up("aliased", "m", "3.0");
    await w.services.aliases.setAlias(w.users.member, w.orgs.a.slug, "m", "canary", "3.0");
    await withService(t.db, (tx) => tx.query("update public.model_versions set status = 'deleted' where id = $1", [v.aliased!.id]));
    await setDeletedAt(v.aliased!.id, new Date(Date.now() - 40 * DAY));
    // A ready version whose bytes vanished.
    await up("lost", "m", "4.0");
    fs.rmSync(fileOf(key.lost!));
    await up("fine", "m", "5.0");
    // The same bytes in two versions (one blob); the older version deleted 40 days ago: it expires,
    // the blob stays for the live one.
    const shared = safetensors(6000);
    await up("sharedOld", "m", "6.0", shared);
    await up("sharedLive", "m", "6.1", shared);
    await del("m", "6.0");
    await setDeletedAt(v.sharedOld!.id, new Date(Date.now() - 40 * DAY));

    // A stale commit (2 days) with some bytes, and a fresh one.
    const stale = await w.services.uploads.reserveUpload(w.users.member, {
      org: w.orgs.a.slug,
      model: "m",
      version: "9.0",
      fileName: "x.safetensors",
    });
    await w.store.put(stale.key, Readable.from([Buffer.from("partial")]));
    await withService(t.db, (tx) =>
      tx.query("update public.model_versions set created_at = now() - interval '2 days' where id = $1", [stale.versionId]),
    );
    v.stale = { id: stale.versionId } as ModelVersion;
    key.stale = stale.key;
    const fresh = await w.services.uploads.reserveUpload(w.users.member, {
      org: w.orgs.a.slug,
      model: "m",
      version: "9.1",
      fileName: "x.safetensors",
    });
    v.fresh = { id: fresh.versionId } as ModelVersion;
    // A pending blob whose commit row is gone (a crash between the steps of a clean-up), 2 h old.
    const dead = await w.services.uploads.reserveUpload(w.users.member, {
      org: w.orgs.a.slug,
      model: "m",
      version: "9.2",
      fileName: "x.safetensors",
    });
    await w.store.put(dead.key, Readable.from([Buffer.from("half")]));
    await withService(t.db, async (tx) => {
      await tx.query("delete from public.model_versions where id = $1", [dead.versionId]);
      await tx.query("update public.blobs set created_at = now() - interval '2 hours' where object_key = $1", [dead.key]);
    });
    key.dead = dead.key;

    // Orphans: an old one, a young one (an upload in flight?); bytes of a model deleted today.
    for (const name of ["ghost", "young"]) await w.store.put(orphanKey(name), Readable.from([Buffer.from(name)]));
    const hoursAgo = new Date(Date.now() - 2 * 3600_000);
    fs.utimesSync(fileOf(orphanKey("ghost")), hoursAgo, hoursAgo);
    await up("gone", "gone", "1.0");
    await w.services.catalog.deleteModel(w.users.admin, w.orgs.a.slug, "gone");
    fs.utimesSync(fileOf(key.gone!), hoursAgo, hoursAgo);

    auditBefore = (await t.db.query<{ id: number }>("select id from public.audit_events order by id")).rows.map((r) => r.id);
  });
  afterAll(async () => {
    w?.cleanup();
    await t?.cleanup();
  });

  it("--dry-run reports everything and changes nothing", async () => {
    const r = await runRetention({ ...opts, dryRun: true });
    expect(r.expired.map((x) => x.id).sort()).toEqual([v.old!.id, v.staging!.id, v.sharedOld!.id].sort());
    expect(r.purged.map((x) => x.key).sort()).toEqual([key.old!, key.staging!].sort());
    expect(r.pendingReleased.map((x) => x.id)).toEqual([v.stale!.id]);
    expect(r.pendingBlobsRemoved.map((x) => x.key)).toEqual([key.dead!]);
    expect(r.orphansDeleted).toEqual([orphanKey("ghost")]);
    for (const k of [key.old!, key.staging!, key.stale!, key.dead!, orphanKey("ghost")]) expect(exists(k)).toBe(true);
    expect((await row(v.old!.id))?.purged_at).toBeNull();
    expect((await blob(key.old!))?.purged_at).toBeNull();
    expect((await row(v.stale!.id))?.status).toBe("pending");
  });

  it("purges per blob: bytes gone and blobs.purged_at set; expired versions stay as tombstones", async () => {
    const r = await runRetention({ ...opts, dryRun: false });
    expect(r.purged.map((x) => x.key).sort()).toEqual([key.old!, key.staging!].sort());
    expect(r.purged.find((x) => x.key === key.old)?.label).toMatch(/m@1\.0/);
    for (const [name, k] of [
      ["old", key.old!],
      ["staging", key.staging!],
    ] as const) {
      expect(exists(k)).toBe(false);
      expect((await blob(k))?.purged_at).toBeInstanceOf(Date);
      const tomb = await row(v[name]!.id);
      expect(tomb?.status).toBe("deleted");
      expect(tomb?.purged_at).toBeInstanceOf(Date);
    }
    expect(exists(key.recent!)).toBe(true);
    expect((await row(v.recent!.id))?.purged_at).toBeNull();
    expect((await blob(key.recent!))?.purged_at).toBeNull();
  });

  it("keeps a blob a live version still references, even when another version of it expired", async () => {
    expect(key.sharedOld).toBe(key.sharedLive);
    expect((await row(v.sharedOld!.id))?.purged_at).toBeInstanceOf(Date);
    expect((await blob(key.sharedLive!))?.purged_at).toBeNull();
    expect(exists(key.sharedLive!)).toBe(true);
    const got = await w.services.downloads.openDownload(w.users.viewer, w.orgs.a.slug, "m", "6.1");
    got.stream.destroy();
  });

  it("never purges protected versions: currently aliased, or production within the window before deletion", async () => {
    const r = await runRetention({ ...opts, dryRun: false });
    expect(r.held.map((h) => h.id).sort()).toEqual([v.prod!.id, v.aliased!.id].sort());
    expect(r.held.find((h) => h.id === v.prod!.id)?.reason).toMatch(/production/);
    expect(r.held.find((h) => h.id === v.aliased!.id)?.reason).toMatch(/canary/);
    for (const name of ["prod", "aliased"]) {
      expect(exists(key[name]!)).toBe(true);
      expect((await row(v[name]!.id))?.purged_at).toBeNull();
    }
    // … not even a year later.
    const later = await runRetention({ ...opts, dryRun: true, now: new Date(Date.now() + 365 * DAY) });
    expect(later.expired.map((x) => x.id)).not.toContain(v.prod!.id);
    expect(later.purged.map((x) => x.key)).not.toContain(key.prod);
  });

  it("releases stale commits (row, pending blobs and bytes), pending blobs of dead commits, keeps fresh ones", async () => {
    expect(await row(v.stale!.id)).toBeUndefined();
    expect(await blob(key.stale!)).toBeUndefined();
    expect(exists(key.stale!)).toBe(false);
    expect(await blob(key.dead!)).toBeUndefined();
    expect(exists(key.dead!)).toBe(false);
    expect((await row(v.fresh!.id))?.status).toBe("pending");
  });

  it("sweeps orphans older than an hour; keeps young ones, and a deleted model's bytes until retention ends", async () => {
    expect(exists(orphanKey("ghost"))).toBe(false);
    expect(exists(orphanKey("young"))).toBe(true);
    expect(exists(key.gone!)).toBe(true);
    const r = await runRetention({ ...opts, dryRun: true });
    expect(r.orphansKept.map((k) => k.key)).toEqual([orphanKey("young")]);
    expect(r.purged.map((x) => x.key)).not.toContain(key.gone);
    // Retention counts from when the model's last file let go of the blob (released_at).
    const later = await runRetention({ ...opts, dryRun: true, now: new Date(Date.now() + 31 * DAY) });
    expect(later.purged.find((x) => x.key === key.gone)?.label).toMatch(/no version/);
  });

  it("reports ready versions whose bytes are missing, loudly, and never deletes their rows", async () => {
    const r = await runRetention({ ...opts, dryRun: false });
    expect(r.missing.map((m) => m.key)).toEqual([key.lost!]);
    const { problems } = formatRetentionReport(r);
    expect(problems.join("\n")).toMatch(new RegExp(`MISSING bytes for .*m@4\\.0`));
    expect((await row(v.lost!.id))?.status).toBe("ready");
    expect(exists(key.fine!)).toBe(true);
  });

  it("keeps the audit trail: every earlier event is still there, purges are recorded as system events", async () => {
    const { rows } = await t.db.query<{ id: number; action: string; via: string; target_type: string }>(
      "select id, action, via, target_type from public.audit_events order by id",
    );
    expect(rows.map((r) => r.id).slice(0, auditBefore.length)).toEqual(auditBefore);
    const added = rows.slice(auditBefore.length);
    expect(added.filter((a) => a.action === "version.purge")).toHaveLength(3);
    expect(added.filter((a) => a.action === "blob.purge" && a.target_type === "blob")).toHaveLength(2);
    expect(added.filter((a) => a.action === "upload.expire")).toHaveLength(2);
    expect(added.filter((a) => /purge|expire/.test(a.action)).every((a) => a.via === "system")).toBe(true);
  });

  it("is idempotent: a second run purges nothing new", async () => {
    const r = await runRetention({ ...opts, dryRun: false });
    expect([r.expired, r.purged, r.pendingReleased, r.pendingBlobsRemoved, r.orphansDeleted]).toEqual([[], [], [], [], []]);
  });

  it("a version that was production long before its deletion is purged like any other", async () => {
    const a = await upload(w, "p", "1.0", safetensors(4000));
    await upload(w, "p", "1.1", safetensors(4000));
    await w.services.aliases.setAlias(w.users.member, w.orgs.a.slug, "p", "production", "1.0");
    await w.services.aliases.setAlias(w.users.member, w.orgs.a.slug, "p", "production", "1.1");
    await w.services.catalog.deleteVersion(w.users.admin, w.orgs.a.slug, "p", "1.0");
    // Deleted 60 days after production moved away; the run is 100 days after the move.
    await setDeletedAt(a.id, new Date(Date.now() + 60 * DAY));
    const r = await runRetention({ ...opts, dryRun: false, now: new Date(Date.now() + 100 * DAY) });
    expect(r.expired.map((x) => x.id)).toContain(a.id);
    expect(r.purged.map((x) => x.key)).toContain(await w.keyOf(a));
    expect(r.held.map((x) => x.id)).not.toContain(a.id);
  });

  it("only the retention job may mark a version or a blob purged (not a signed-in admin)", async () => {
    await expect(
      withUser(t.db, w.users.admin.claims, (tx) =>
        tx.query("update public.model_versions set purged_at = now() where id = $1", [v.recent!.id]),
      ),
    ).rejects.toMatchObject({ code: "42501" });
    const { rowCount } = await withUser(t.db, w.users.admin.claims, (tx) =>
      tx.query("update public.blobs set purged_at = now() where object_key = $1", [key.fine!]),
    ).catch((e: { code?: string }) => ({ rowCount: e.code === "42501" ? 0 : -1 }));
    expect(rowCount).toBe(0);
    expect((await blob(key.fine!))?.purged_at).toBeNull();
  });
});

describe.each(DB_KINDS)("retention racing a commit that reuses the same bytes on %s", (kind) => {
  let t: TestDatabase;
  let w: World;
  let opts: Omit<RetentionOptions, "dryRun">;
  beforeAll(async () => {
    t = await openTestDatabase(kind);
    w = await makeWorld(t.db);
    opts = { db: t.db, store: w.store, backend: "local", bucket: w.config.bucket, retentionDays: 30, protectedAliases: [] };
  });
  afterAll(async () => {
    w?.cleanup();
    await t?.cleanup();
  });
  const fileOf = (k: string) => path.join(w.config.storageDir, w.config.bucket, ...k.split("/"));
  /** Bytes no version references any more, released 40 days ago: purgeable. */
  const releasedBlob = async (model: string) => {
    const data = safetensors(3000);
    const first = await upload(w, model, "1.0", data);
    const key = await w.keyOf(first);
    await w.services.catalog.deleteModel(w.users.admin, w.orgs.a.slug, model);
    await withService(t.db, (tx) =>
      tx.query("update public.blobs set released_at = now() - interval '40 days' where object_key = $1", [key]),
    );
    return { data, key };
  };
  const commitOf = (model: string, data: Buffer) =>
    w.services.uploads.commits.createCommit(w.users.member, {
      org: w.orgs.a.slug,
      model,
      version: "2.0",
      files: [{ path: "w.safetensors", size: data.length, sha256: sha(data) }],
    });

  it("purge side: a commit that reuses the blob before the purge locks it keeps it (bytes and row)", async () => {
    const { data, key } = await releasedBlob("race1");
    let commitId = "";
    const r = await runRetention({
      ...opts,
      dryRun: false,
      beforeBlobPurge: async () => {
        const c = await commitOf("race1b", data);
        expect(c.files[0]).toMatchObject({ key, state: "stored", deduplicated: true });
        commitId = c.id;
      },
    });
    expect(commitId).not.toBe("");
    expect(r.purged.map((b) => b.key)).not.toContain(key);
    expect(fs.existsSync(fileOf(key))).toBe(true);
    const v = await w.services.uploads.commits.completeCommit(w.users.member, commitId);
    expect(v.status).toBe("ready");
    const got = await w.services.downloads.openDownload(w.users.viewer, w.orgs.a.slug, "race1b", "2.0");
    const chunks: Buffer[] = [];
    for await (const c of got.stream) chunks.push(c as Buffer);
    expect(sha(Buffer.concat(chunks))).toBe(sha(data));
  });

  it("commit side: a commit whose reused blob was purged meanwhile asks for the file again, then completes", async () => {
    const { data, key } = await releasedBlob("race2");
    const c = await commitOf("race2b", data);
    expect(c.files[0]).toMatchObject({ key, state: "stored" });
    // The purge won (it held the row when the commit referenced it): purged, bytes deleted.
    await withService(t.db, (tx) => tx.query("update public.blobs set purged_at = now() where object_key = $1", [key]));
    await w.store.delete(key);
    await expect(w.services.uploads.commits.completeCommit(w.users.member, c.id)).rejects.toMatchObject({ status: 409 });
    const again = await w.services.uploads.commits.getCommit(w.users.member, c.id);
    expect(again.files[0]).toMatchObject({ path: "w.safetensors", state: "upload", deduplicated: false });
    expect(again.files[0]!.key).not.toBe(key);
    await w.services.uploads.uploadFile(w.users.member, c.id, "w.safetensors", Readable.from([data]), { contentLength: data.length });
    const v = await w.services.uploads.commits.completeCommit(w.users.member, c.id);
    expect(v.status).toBe("ready");
    expect(await w.keyOf(v)).toBe(again.files[0]!.key);
    expect(fs.existsSync(fileOf(again.files[0]!.key))).toBe(true);
  });

  it.runIf(kind === "postgres")("the purge waits for a commit inserting a reference and then keeps the blob", async () => {
    const { key } = await releasedBlob("race3");
    const { rows } = await t.db.query<{ id: string }>("select id from public.blobs where object_key = $1", [key]);
    const blobId = rows[0]!.id;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let inserted!: () => void;
    const didInsert = new Promise<void>((resolve) => (inserted = resolve));
    // A commit's transaction, held open after it inserted a file pointing at the blob.
    const commit = withService(t.db, async (tx) => {
      const { rows: m } = await tx.query<{ id: string }>(
        "insert into public.models (org_id, slug, name, task_type) values ($1, 'race3b', 'race3b', 'other') returning id",
        [w.orgs.a.id],
      );
      const { rows: ver } = await tx.query<{ id: string }>(
        "insert into public.model_versions (org_id, model_id, version, status) values ($1, $2, '1.0', 'pending') returning id",
        [w.orgs.a.id, m[0]!.id],
      );
      await tx.query("insert into public.version_files (version_id, path, org_id, blob_id) values ($1, 'w.safetensors', $2, $3)", [
        ver[0]!.id,
        w.orgs.a.id,
        blobId,
      ]);
      inserted();
      await gate;
    });
    await didInsert;
    const purge = runRetention({ ...opts, dryRun: false });
    // The purge chose the blob from a snapshot without the reference; it must now wait on the lock.
    await new Promise((r) => setTimeout(r, 700));
    release();
    await commit;
    const r = await purge;
    expect(r.purged.map((b) => b.key)).not.toContain(key);
    expect(fs.existsSync(fileOf(key))).toBe(true);
    const { rows: after } = await t.db.query<{ purged_at: Date | null }>("select purged_at from public.blobs where id = $1", [blobId]);
    expect(after[0]?.purged_at).toBeNull();
  });
});

describe("retention settings", () => {
  it("defaults to 30 days and production; validates RETENTION_DAYS", () => {
    expect(retentionSettings({})).toEqual({ retentionDays: 30, protectedAliases: ["production"] });
    expect(retentionSettings({ RETENTION_DAYS: "7", PROTECTED_ALIASES: "production, stable" })).toEqual({
      retentionDays: 7,
      protectedAliases: ["production", "stable"],
    });
    expect(() => retentionSettings({ RETENTION_DAYS: "soon" })).toThrow(/RETENTION_DAYS/);
  });
});
