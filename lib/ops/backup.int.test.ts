import { createHash } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { toPrincipal } from "@/lib/auth/principal";
import { parseConfig } from "@/lib/config";
import { openPGlite } from "@/lib/db/pglite";
import { createPlatform } from "@/lib/platform/platform";
import { createServices } from "@/lib/services/services";
import { createLocalBlobStore } from "@/lib/storage/adapters/local";
import { DB_KINDS, openTestDatabase, type TestDatabase } from "@/test/db";
import { makeWorld, type World } from "@/test/world";
import { verifyBackup } from "./archive";
import { createBackup, type BackupReport } from "./backup";
import { UsageError } from "./ops-env";
import { restoreBackup, RestoreVerificationError } from "./restore";
import { readTarEntries } from "@/lib/archive/tar";
import { hashStore, ourRowCounts, seedVersions, type SeededVersions } from "./testing";

const SCHEMAS = ["public", "fairmind", "auth", "storage"];

const read = async (s: NodeJS.ReadableStream) => {
  const parts: Buffer[] = [];
  for await (const c of s) parts.push(c as Buffer);
  return Buffer.concat(parts);
};

describe.each(DB_KINDS)("backup → verify → restore on %s", (kind) => {
  let t: TestDatabase;
  let w: World;
  let seeded: SeededVersions;
  let tmp: string;
  let archive: string;
  let report: BackupReport;
  const mode = kind === "pglite" ? "embedded" : "postgres";

  beforeAll(async () => {
    t = await openTestDatabase(kind);
    w = await makeWorld(t.db);
    seeded = await seedVersions(w);
    fs.writeFileSync(path.join(w.dir, "auth-secret"), "generated-session-key", { mode: 0o600 });
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "fm-backup-"));
    archive = path.join(tmp, "backup.tar");
    report = await createBackup({
      db: t.db,
      mode,
      schemas: SCHEMAS,
      bucket: w.config.bucket,
      store: w.store,
      out: archive,
      dataDir: w.dir,
    });
  });
  afterAll(async () => {
    w?.cleanup();
    await t?.cleanup();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it("writes one archive (no .partial left) with the database, every object and a manifest", async () => {
    expect(fs.existsSync(archive)).toBe(true);
    expect(fs.existsSync(`${archive}.partial`)).toBe(false);
    expect(fs.existsSync(`${archive}.lock`)).toBe(false);
    expect(report.problems).toEqual([]);
    const stored = await hashStore(w.store);
    expect(report.objects).toBe(stored.length);
    const fh = await fs.promises.open(archive, "r");
    const names: string[] = [];
    for await (const e of readTarEntries(fh)) names.push(e.name);
    await fh.close();
    expect(names[0]).toBe("backup.json");
    expect(names.at(-1)).toBe("manifest.json");
    expect(names.includes("db/pglite-datadir.tar.gz")).toBe(kind === "pglite");
    expect(names).toContain("db/tables/public.model_versions.jsonl");
    expect(names).toContain("db/tables/public.blobs.jsonl");
    expect(names).toContain("db/tables/public.version_files.jsonl");
    expect(names).toContain("config/auth-secret");
    for (const o of stored) expect(names).toContain(`objects/${o.key}`);
  });

  it("verifies: every entry re-hashed against the manifest", async () => {
    const v = await verifyBackup(archive);
    expect(v.failures).toEqual([]);
    expect(v.ok).toBe(true);
    expect(v.manifest).toMatchObject({ format: "fairmind-backup", version: 2 });
    const objects = v.manifest!.objects;
    expect(objects.find((o) => o.key === seeded.production.object_key)).toMatchObject({
      sha256: seeded.production.sha256,
      referenced: true,
      encrypted: false,
      blob_id: expect.stringMatching(/^[0-9a-f-]{36}$/),
    });
  });

  it("restores into an empty data directory: byte-identical objects, equal row counts, a working app", async () => {
    const dataDir = path.join(tmp, "restored");
    const r = await restoreBackup({ archive, dataDir });
    expect(r.database).toBe(kind === "pglite" ? "pglite-datadir" : "pglite-logical");
    expect(fs.existsSync(`${dataDir}.restore-partial`)).toBe(false);
    const restoredStore = createLocalBlobStore({ rootDir: path.join(dataDir, "storage"), bucket: w.config.bucket });
    expect(await hashStore(restoredStore)).toEqual(await hashStore(w.store));
    expect(fs.readFileSync(path.join(dataDir, "auth-secret"), "utf8")).toBe("generated-session-key");

    const db = await openPGlite(path.join(dataDir, "db"));
    try {
      expect(await ourRowCounts(db)).toEqual(await ourRowCounts(t.db));
      const app = createServices(createPlatform(parseConfig({ DATA_DIR: dataDir }), { database: db }), db);
      const models = await app.catalog.listModels(w.users.viewer, w.orgs.a.slug);
      expect(models.items.map((m) => m.slug).sort()).toEqual(["churn", "fraud", "risky"]);
      for (const v of seeded.ready) {
        const model = seeded.ready.indexOf(v) % 2 ? "churn" : "fraud";
        const d = await app.downloads.openDownload(w.users.viewer, w.orgs.a.slug, model, v.version);
        expect(
          createHash("sha256")
            .update(await read(d.stream))
            .digest("hex"),
        ).toBe(v.sha256);
      }
      const detail = await app.catalog.getModel(w.users.viewer, w.orgs.a.slug, "fraud");
      expect(detail.aliases.map((a) => [a.alias, a.version])).toEqual([["production", seeded.production.version]]);
      expect(detail.versions.find((v) => v.version === seeded.deleted.version)?.status).toBe("deleted");
      // The restored database keeps working: a new upload gets fresh identity values.
      const audit = await db.query<{ n: number }>("select count(*)::int as n from public.audit_events");
      await app.aliases.setAlias(w.users.member, w.orgs.a.slug, "churn", "staging", seeded.ready[1]!.version);
      expect((await db.query<{ n: number }>("select count(*)::int as n from public.audit_events")).rows[0]!.n).toBe(audit.rows[0]!.n + 1);
    } finally {
      await db.close();
    }
  });

  it("restores the metadata into an empty Postgres database (postgres target)", async () => {
    const target = await openTestDatabase("postgres");
    try {
      const dataDir = path.join(tmp, "restored-pg");
      const r = await restoreBackup({ archive, dataDir, database: target.db });
      expect(r.database).toBe("postgres-logical");
      expect(await ourRowCounts(target.db)).toEqual(await ourRowCounts(t.db));
      // Identity columns continue after the restored rows.
      const { rows } = await target.db.query<{ ok: boolean }>(
        "select (select max(id) from public.audit_events) < nextval(pg_get_serial_sequence('public.audit_events', 'id')) as ok",
      );
      expect(rows[0]!.ok).toBe(true);
      // A second restore into the now non-empty database is refused.
      await expect(restoreBackup({ archive, dataDir: path.join(tmp, "again"), database: target.db })).rejects.toThrow(UsageError);
      expect(fs.existsSync(path.join(tmp, "again"))).toBe(false);
    } finally {
      await target.cleanup();
    }
  });

  it("refuses a non-empty data directory (usage error)", async () => {
    const dataDir = path.join(tmp, "busy");
    fs.mkdirSync(dataDir);
    fs.writeFileSync(path.join(dataDir, "something"), "x");
    await expect(restoreBackup({ archive, dataDir })).rejects.toThrow(UsageError);
  });

  it("a tampered archive fails verification naming the file, and restores nothing", async () => {
    const tampered = path.join(tmp, "tampered.tar");
    const bytes = fs.readFileSync(archive);
    // Find the production object's data: right after its header, which holds its name.
    const name = `objects/${seeded.production.object_key}`;
    const at = bytes.indexOf(Buffer.from(name));
    const dataAt = at - (at % 512) + 512 + 100;
    const copy = Buffer.from(bytes);
    copy[dataAt] = copy[dataAt]! ^ 0x01;
    fs.writeFileSync(tampered, copy);
    const v = await verifyBackup(tampered);
    expect(v.ok).toBe(false);
    expect(v.failures.map((f) => f.name)).toEqual([name]);
    expect(v.failures[0]!.problem).toMatch(/SHA-256 mismatch/);
    const dataDir = path.join(tmp, "from-tampered");
    await expect(restoreBackup({ archive: tampered, dataDir })).rejects.toThrow(RestoreVerificationError);
    expect(fs.existsSync(dataDir)).toBe(false);
    expect(fs.existsSync(`${dataDir}.restore-partial`)).toBe(false);
  });

  it("a truncated archive (a backup killed mid-way) fails verification", async () => {
    const cut = path.join(tmp, "cut.tar");
    fs.writeFileSync(cut, fs.readFileSync(archive).subarray(0, Math.floor(fs.statSync(archive).size / 2)));
    const v = await verifyBackup(cut);
    expect(v.ok).toBe(false);
    expect(v.failures.map((f) => f.problem).join("\n")).toMatch(/truncated|manifest.json|missing/);
  });

  it("never overwrites an existing archive", async () => {
    await expect(createBackup({ db: t.db, mode, schemas: SCHEMAS, bucket: w.config.bucket, store: w.store, out: archive })).rejects.toThrow(
      UsageError,
    );
  });

  it("reports bytes that no longer match their recorded SHA-256 (and still writes the archive)", async () => {
    const file = path.join(w.config.storageDir, w.config.bucket, ...seeded.ready[2]!.object_key.split("/"));
    const original = fs.readFileSync(file);
    const damaged = Buffer.from(original);
    damaged[damaged.length - 1] = damaged[damaged.length - 1]! ^ 0xff;
    fs.writeFileSync(file, damaged);
    try {
      const r = await createBackup({
        db: t.db,
        mode,
        schemas: SCHEMAS,
        bucket: w.config.bucket,
        store: w.store,
        out: path.join(tmp, "damaged.tar"),
      });
      expect(r.problems).toHaveLength(1);
      expect(r.problems[0]).toContain(seeded.ready[2]!.object_key);
    } finally {
      fs.writeFileSync(file, original);
    }
  });
});

// An archive the app wrote before file sets (format 1: one object per version, model_versions.object_key),
// made with commit ea8491b from a Postgres-mode world (test/fixtures/backups/pre-file-sets.json says what
// it holds). Restoring it rebuilds that schema, imports the rows, then migrates them to blobs and files.
describe("restoring a format-1 archive (before file sets)", () => {
  const fixtureArchive = path.resolve("test/fixtures/backups/pre-file-sets.tar");
  const expected = JSON.parse(fs.readFileSync(path.resolve("test/fixtures/backups/pre-file-sets.json"), "utf8")) as {
    org: string;
    viewer: string;
    versions: { model: string; version: string; key: string; sha256: string; size: number }[];
    production: string;
    deleted: string;
  };
  let tmp: string;
  beforeAll(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "fm-restore-v1-"));
  });
  afterAll(() => {
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it("verifies, restores and upgrades it: each version becomes a one-file version over its old object", async () => {
    expect((await verifyBackup(fixtureArchive)).manifest?.version).toBe(1);
    const dataDir = path.join(tmp, "restored");
    const lines: string[] = [];
    const r = await restoreBackup({ archive: fixtureArchive, dataDir, log: (l) => lines.push(l) });
    expect(r.database).toBe("pglite-logical");
    expect(lines.join("\n")).toMatch(/Migrated the restored database: .*file_sets/);
    const db = await openPGlite(path.join(dataDir, "db"));
    try {
      const { rows } = await db.query<{ version: string; status: string; key: string; sha256: string; path: string }>(
        `select v.version, v.status, b.object_key as key, b.sha256, f.path from public.model_versions v
         join public.version_files f on f.version_id = v.id join public.blobs b on b.id = f.blob_id order by b.object_key`,
      );
      expect(rows.map((x) => [x.key, x.sha256])).toEqual(
        expected.versions.map((v) => [v.key, v.sha256]).sort((a, b) => (a[0]! < b[0]! ? -1 : 1)),
      );
      const app = createServices(createPlatform(parseConfig({ DATA_DIR: dataDir }), { database: db }), db);
      const viewer = toPrincipal({ sub: expected.viewer, role: "authenticated" }, "session");
      for (const v of expected.versions.filter((x) => x.version !== expected.deleted)) {
        const d = await app.downloads.openDownload(viewer, expected.org, v.model, v.version);
        expect(
          createHash("sha256")
            .update(await read(d.stream))
            .digest("hex"),
        ).toBe(v.sha256);
      }
      const detail = await app.catalog.getModel(viewer, expected.org, "fraud");
      expect(detail.aliases.map((a) => [a.alias, a.version])).toEqual([["production", expected.production]]);
      expect(detail.versions.find((v) => v.version === expected.deleted)?.status).toBe("deleted");
    } finally {
      await db.close();
    }
  });

  it("refuses to restore it into a Postgres server, saying what to do instead", async () => {
    const target = await openTestDatabase("postgres");
    try {
      const dataDir = path.join(tmp, "into-pg");
      await expect(restoreBackup({ archive: fixtureArchive, dataDir, database: target.db })).rejects.toThrow(/before file sets.*embedded/);
      expect(fs.existsSync(dataDir)).toBe(false);
    } finally {
      await target.cleanup();
    }
  });
});
