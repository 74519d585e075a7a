import fs from "node:fs";
import path from "node:path";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { withService, withUser } from "@/lib/db/client";
import type { ModelVersion } from "@/lib/storage/types";
import { DB_KINDS, openTestDatabase, type TestDatabase } from "@/test/db";
import { makeWorld, type World } from "@/test/world";
import { formatRetentionReport, retentionSettings, runRetention, type RetentionOptions } from "./retention";
import { safetensors, upload } from "./testing";

const DAY = 86_400_000;

describe.each(DB_KINDS)("retention and clean-up on %s", (kind) => {
  let t: TestDatabase;
  let w: World;
  const v: Record<string, ModelVersion> = {};
  let opts: Omit<RetentionOptions, "dryRun">;
  const fileOf = (key: string) => path.join(w.config.storageDir, w.config.bucket, ...key.split("/"));
  const exists = (key: string) => fs.existsSync(fileOf(key));
  const setDeletedAt = (id: string, at: Date) =>
    withService(t.db, (tx) => tx.query("update public.model_versions set deleted_at = $2 where id = $1", [id, at]));
  const row = async (id: string) =>
    (
      await t.db.query<{ status: string; purged_at: Date | null }>("select status, purged_at from public.model_versions where id = $1", [
        id,
      ])
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

    // Deleted 40 days ago, never aliased: purged.
    v.old = await upload(w, "m", "1.0", safetensors(5000));
    await del("m", "1.0");
    await setDeletedAt(v.old.id, new Date(Date.now() - 40 * DAY));
    // Deleted 5 days ago: kept.
    v.recent = await upload(w, "m", "1.1", safetensors(5000));
    await del("m", "1.1");
    await setDeletedAt(v.recent.id, new Date(Date.now() - 5 * DAY));
    // Production when it was deleted (40 days ago): held forever.
    v.prod = await upload(w, "m", "2.0", safetensors(5000));
    await w.services.aliases.setAlias(w.users.member, w.orgs.a.slug, "m", "production", "2.0");
    await del("m", "2.0");
    await setDeletedAt(v.prod.id, new Date(Date.now() - 40 * DAY));
    // Staging (not protected) when deleted 40 days ago: purged.
    v.staging = await upload(w, "m", "2.1", safetensors(5000));
    await w.services.aliases.setAlias(w.users.member, w.orgs.a.slug, "m", "staging", "2.1");
    await del("m", "2.1");
    await setDeletedAt(v.staging.id, new Date(Date.now() - 40 * DAY));
    // Defence in depth: a deleted version an alias still points at (written behind the app's back).
    v.aliased = await upload(w, "m", "3.0", safetensors(5000));
    await w.services.aliases.setAlias(w.users.member, w.orgs.a.slug, "m", "canary", "3.0");
    await withService(t.db, (tx) => tx.query("update public.model_versions set status = 'deleted' where id = $1", [v.aliased!.id]));
    await setDeletedAt(v.aliased.id, new Date(Date.now() - 40 * DAY));
    // A ready version whose bytes vanished.
    v.lost = await upload(w, "m", "4.0", safetensors(5000));
    fs.rmSync(fileOf(v.lost.object_key));
    v.fine = await upload(w, "m", "5.0", safetensors(5000));

    // A stale reservation (2 days) with some bytes, and a fresh one.
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
    v.stale = { id: stale.versionId, object_key: stale.key } as ModelVersion;
    const fresh = await w.services.uploads.reserveUpload(w.users.member, {
      org: w.orgs.a.slug,
      model: "m",
      version: "9.1",
      fileName: "x.safetensors",
    });
    v.fresh = { id: fresh.versionId, object_key: fresh.key } as ModelVersion;

    // Orphans: an old one, a young one (an upload in flight?), one of a model deleted today.
    for (const name of ["ghost", "young"]) await w.store.put(orphanKey(name), Readable.from([Buffer.from(name)]));
    const hoursAgo = new Date(Date.now() - 2 * 3600_000);
    fs.utimesSync(fileOf(orphanKey("ghost")), hoursAgo, hoursAgo);
    v.gone = await upload(w, "gone", "1.0", safetensors(5000));
    await w.services.catalog.deleteModel(w.users.admin, w.orgs.a.slug, "gone");
    fs.utimesSync(fileOf(v.gone.object_key), hoursAgo, hoursAgo);

    auditBefore = (await t.db.query<{ id: number }>("select id from public.audit_events order by id")).rows.map((r) => r.id);
  });
  afterAll(async () => {
    w?.cleanup();
    await t?.cleanup();
  });

  it("--dry-run reports everything and changes nothing", async () => {
    const r = await runRetention({ ...opts, dryRun: true });
    expect(r.purged.map((x) => x.id).sort()).toEqual([v.old!.id, v.staging!.id].sort());
    expect(r.pendingReleased.map((x) => x.id)).toEqual([v.stale!.id]);
    expect(r.orphansDeleted).toEqual([orphanKey("ghost")]);
    for (const x of [v.old!, v.staging!, v.stale!]) expect(exists(x.object_key)).toBe(true);
    expect(exists(orphanKey("ghost"))).toBe(true);
    expect((await row(v.old!.id))?.purged_at).toBeNull();
    expect((await row(v.stale!.id))?.status).toBe("pending");
  });

  it("purges deleted versions past retention: bytes gone, the version row kept as a tombstone", async () => {
    const r = await runRetention({ ...opts, dryRun: false });
    expect(r.purged.map((x) => x.id).sort()).toEqual([v.old!.id, v.staging!.id].sort());
    for (const x of [v.old!, v.staging!]) {
      expect(exists(x.object_key)).toBe(false);
      const tomb = await row(x.id);
      expect(tomb?.status).toBe("deleted");
      expect(tomb?.purged_at).toBeInstanceOf(Date);
    }
    expect(exists(v.recent!.object_key)).toBe(true);
    expect((await row(v.recent!.id))?.purged_at).toBeNull();
  });

  it("never purges protected versions: currently aliased, or production within the window before deletion", async () => {
    const r = await runRetention({ ...opts, dryRun: false });
    expect(r.held.map((h) => h.id).sort()).toEqual([v.prod!.id, v.aliased!.id].sort());
    expect(r.held.find((h) => h.id === v.prod!.id)?.reason).toMatch(/production/);
    expect(r.held.find((h) => h.id === v.aliased!.id)?.reason).toMatch(/canary/);
    for (const x of [v.prod!, v.aliased!]) {
      expect(exists(x.object_key)).toBe(true);
      expect((await row(x.id))?.purged_at).toBeNull();
    }
    // … not even a year later.
    const later = await runRetention({ ...opts, dryRun: true, now: new Date(Date.now() + 365 * DAY) });
    expect(later.purged.map((x) => x.id)).not.toContain(v.prod!.id);
    expect(exists(v.prod!.object_key)).toBe(true);
  });

  it("releases stale reservations (row and bytes) and keeps fresh ones", async () => {
    expect(await row(v.stale!.id)).toBeUndefined();
    expect(exists(v.stale!.object_key)).toBe(false);
    expect((await row(v.fresh!.id))?.status).toBe("pending");
  });

  it("sweeps orphans older than an hour, keeps young ones and a recently deleted model's bytes", async () => {
    expect(exists(orphanKey("ghost"))).toBe(false);
    expect(exists(orphanKey("young"))).toBe(true);
    expect(exists(v.gone!.object_key)).toBe(true);
    const r = await runRetention({ ...opts, dryRun: true });
    expect(r.orphansKept.map((k) => k.key).sort()).toEqual([orphanKey("young"), v.gone!.object_key].sort());
    expect(r.orphansKept.find((k) => k.key === v.gone!.object_key)?.reason).toMatch(/model was deleted/);
  });

  it("reports ready versions whose bytes are missing, loudly, and never deletes their rows", async () => {
    const r = await runRetention({ ...opts, dryRun: false });
    expect(r.missing.map((m) => m.id)).toEqual([v.lost!.id]);
    const { problems } = formatRetentionReport(r);
    expect(problems.join("\n")).toMatch(new RegExp(`MISSING bytes for .*m@4\\.0`));
    expect((await row(v.lost!.id))?.status).toBe("ready");
    expect(exists(v.fine!.object_key)).toBe(true);
  });

  it("keeps the audit trail: every earlier event is still there, purges are recorded as system events", async () => {
    const { rows } = await t.db.query<{ id: number; action: string; via: string }>(
      "select id, action, via from public.audit_events order by id",
    );
    expect(rows.map((r) => r.id).slice(0, auditBefore.length)).toEqual(auditBefore);
    const added = rows.slice(auditBefore.length);
    expect(added.filter((a) => a.action === "version.purge")).toHaveLength(2);
    expect(added.filter((a) => a.action === "upload.expire")).toHaveLength(1);
    expect(added.every((a) => a.via === "system")).toBe(true);
  });

  it("is idempotent: a second run purges nothing new", async () => {
    const r = await runRetention({ ...opts, dryRun: false });
    expect([r.purged, r.pendingReleased, r.orphansDeleted]).toEqual([[], [], []]);
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
    expect(r.purged.map((x) => x.id)).toContain(a.id);
    expect(r.held.map((x) => x.id)).not.toContain(a.id);
  });

  it("only the retention job may mark a version purged (not a signed-in admin)", async () => {
    await expect(
      withUser(t.db, w.users.admin.claims, (tx) =>
        tx.query("update public.model_versions set purged_at = now() where id = $1", [v.recent!.id]),
      ),
    ).rejects.toMatchObject({ code: "42501" });
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
