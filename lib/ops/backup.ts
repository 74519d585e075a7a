import "server-only";
import fs from "node:fs";
import fsp from "node:fs/promises";
import path from "node:path";
import type { Database } from "@/lib/db/types";
import { isAppError } from "@/lib/errors";
import type { BlobStore } from "@/lib/storage/blob-store";
import { looksEncrypted } from "@/lib/storage/adapters/encryption-format";
import {
  ARCHIVE_FORMAT,
  ARCHIVE_VERSION,
  CONFIG_PREFIX,
  OBJECTS_PREFIX,
  PGLITE_DATADIR_ENTRY,
  TABLES_PREFIX,
  type BackupInfo,
  type Manifest,
  type ManifestFile,
  type ManifestObject,
} from "./archive";
import { createThrottle } from "./cli";
import { exportTables } from "./db-dump";
import { syncPath, takePidLock } from "./files";
import { UsageError } from "./ops-env";
import { TarWriter } from "@/lib/archive/tar";

export interface BackupOptions {
  db: Database;
  mode: BackupInfo["mode"];
  /** The schemas to export (Platform.traits.backupSchemas). */
  schemas: string[];
  bucket: string;
  /** The objects exactly as stored (ciphertext when encryption is on). */
  store: BlobStore;
  /** Final archive path; the archive is written to `<out>.partial` and renamed when complete. */
  out: string;
  /** Local modes: the data directory (its generated auth-secret is archived). */
  dataDir?: string;
  maxBytesPerSecond?: number;
  appVersion?: string;
  log?: (line: string) => void;
  /** Called with the total once the objects are listed, then with each chunk's size. */
  onTotal?: (bytes: number) => void;
  onBytes?: (bytes: number) => void;
}

export interface BackupReport {
  archive: string;
  archiveBytes: number;
  seconds: number;
  objects: number;
  objectBytes: number;
  tables: { name: string; rows: number }[];
  /** Damaged or missing bytes found in the source; the archive is still written. */
  problems: string[];
}

interface BlobRow {
  id: string;
  object_key: string;
  sha256: string | null;
  status: string;
  purged_at: string | null;
  /** A ready or quarantined version has a file here: its bytes must be in the archive. */
  live: boolean;
}

/**
 * Writes one self-contained archive: the database (PGlite's data directory in embedded mode, plus
 * a logical export in every mode, from one snapshot), every stored object streamed in, and a
 * manifest with each entry's size and SHA-256. Nothing is buffered whole except PGlite's own dump.
 * The archive appears at `out` only once complete and synced; a killed run leaves `<out>.partial`,
 * which the next run replaces.
 */
export async function createBackup(opts: BackupOptions): Promise<BackupReport> {
  const log = opts.log ?? (() => {});
  const out = path.resolve(opts.out);
  const partial = `${out}.partial`;
  const spool = `${out}.partial.d`;
  if (fs.existsSync(out)) throw new UsageError(`${out} already exists; backups never overwrite one another.`);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  const release = takePidLock(`${out}.lock`, `A backup to ${out}`);
  const started = performance.now();
  try {
    if (fs.existsSync(partial) || fs.existsSync(spool)) log(`Removing ${path.basename(partial)} left by an interrupted backup.`);
    fs.rmSync(partial, { force: true });
    fs.rmSync(spool, { recursive: true, force: true });

    const info: BackupInfo = {
      format: ARCHIVE_FORMAT,
      version: ARCHIVE_VERSION,
      created_at: new Date().toISOString(),
      mode: opts.mode,
      database: opts.db.kind,
      bucket: opts.bucket,
      schemas: opts.schemas,
      app_version: opts.appVersion,
    };
    const sink = fs.createWriteStream(partial, { flags: "wx", mode: 0o600, highWaterMark: 1024 * 1024 });
    const tar = new TarWriter(sink);
    const files: ManifestFile[] = [];
    const mtime = Math.floor(Date.now() / 1000);
    const add = async (name: string, size: number, source: Parameters<TarWriter["add"]>[1], entryMtime = mtime) => {
      const r = await tar.add({ name, size, mtime: entryMtime, mode: 0o600 }, source);
      files.push({ name, size: r.size, sha256: r.sha256 });
      return r;
    };
    try {
      const infoBytes = Buffer.from(JSON.stringify(info, null, 2));
      await add("backup.json", infoBytes.length, infoBytes);

      // 1. The database. Embedded: the process holds PGlite's exclusive lock, so nothing changes
      //    while we read. Postgres/Supabase: one REPEATABLE READ snapshot (objects are immutable).
      if (opts.db.kind === "pglite" && opts.db.dumpDataDir) {
        log("Dumping the embedded database…");
        const blob = await opts.db.dumpDataDir();
        const bytes = Buffer.from(await blob.arrayBuffer());
        await add(PGLITE_DATADIR_ENTRY, bytes.length, bytes);
      }
      log("Exporting tables…");
      const dumps = await exportTables(opts.db, info.schemas, spool);
      for (const d of dumps)
        await add(`${TABLES_PREFIX}${d.name}.jsonl`, fs.statSync(d.file).size, fs.createReadStream(d.file, { highWaterMark: 1024 * 1024 }));
      const blobs = await readBlobs(dumps);
      const migrations = await readMigrationNames(dumps.find((d) => d.name === "fairmind.schema_migrations")?.file);

      // 2. The objects, listed after the snapshot: every byte a snapshot row names already exists.
      log("Listing stored objects…");
      const listed: { key: string; size: number; updatedAt?: Date }[] = [];
      for await (const s of opts.store.list("")) listed.push({ key: s.key, size: s.size, updatedAt: s.updatedAt });
      const total = listed.reduce((n, s) => n + s.size, 0);
      opts.onTotal?.(total);
      log(`Archiving ${listed.length} objects (${total} bytes)…`);
      // The rate counts from the first object: time spent dumping the database is no credit.
      const throttle = createThrottle(opts.maxBytesPerSecond);
      const objects: ManifestObject[] = [];
      const problems: string[] = [];
      let objectBytes = 0;
      for (const s of listed) {
        let got;
        try {
          got = await opts.store.get(s.key);
        } catch (e) {
          // Deleted since the listing (a purge, an abandoned upload): not part of this snapshot.
          if (isAppError(e) && e.code === "not_found") continue;
          throw e;
        }
        let encrypted = false;
        let first = true;
        const counted = (async function* () {
          for await (const chunk of got.stream) {
            const c = chunk as Buffer;
            if (first) {
              encrypted = looksEncrypted(c);
              first = false;
            }
            await throttle(c.length);
            opts.onBytes?.(c.length);
            yield c;
          }
        })();
        const entryMtime = s.updatedAt ? Math.floor(s.updatedAt.getTime() / 1000) : mtime;
        const r = await add(`${OBJECTS_PREFIX}${s.key}`, got.size, counted, entryMtime);
        objectBytes += r.size;
        const row = blobs.get(s.key);
        objects.push({
          key: s.key,
          size: r.size,
          sha256: r.sha256,
          encrypted,
          referenced: Boolean(row && !row.purged_at),
          ...(row ? { blob_id: row.id } : {}),
        });
        if (row?.sha256 && !encrypted && row.sha256 !== r.sha256) {
          problems.push(
            `${s.key}: the stored bytes do not match the SHA-256 recorded for it (recorded ${row.sha256}, stored ${r.sha256}) — damaged on disk?`,
          );
        }
      }
      const archived = new Set(objects.map((o) => o.key));
      for (const [key, row] of blobs) {
        if (row.live && row.status === "stored" && !row.purged_at && !archived.has(key)) {
          problems.push(
            `${key}: a file of a ready version whose bytes are not in the store this backup read (missing, or stored in another backend).`,
          );
        }
      }

      // 3. The generated session key (local modes), so restored sessions and links stay valid.
      const secret = opts.dataDir ? path.join(opts.dataDir, "auth-secret") : undefined;
      if (secret && fs.existsSync(secret)) {
        const bytes = fs.readFileSync(secret);
        await add(`${CONFIG_PREFIX}auth-secret`, bytes.length, bytes);
      }

      const manifest: Manifest = {
        ...info,
        files,
        tables: dumps.map((d) => ({ name: d.name, rows: d.rows, columns: d.columns, file: `${TABLES_PREFIX}${d.name}.jsonl` })),
        objects,
        problems,
        migrations,
      };
      const manifestBytes = Buffer.from(JSON.stringify(manifest, null, 1));
      await tar.add({ name: "manifest.json", size: manifestBytes.length, mtime, mode: 0o600 }, manifestBytes);
      await tar.finish();
      await new Promise<void>((resolve, reject) => sink.end((e?: Error | null) => (e ? reject(e) : resolve())));
      await syncPath(partial);
      fs.renameSync(partial, out);
      await syncPath(path.dirname(out));
      return {
        archive: out,
        archiveBytes: fs.statSync(out).size,
        seconds: (performance.now() - started) / 1000,
        objects: objects.length,
        objectBytes,
        tables: dumps.map((d) => ({ name: d.name, rows: d.rows })),
        problems,
      };
    } catch (e) {
      sink.destroy();
      await fsp.rm(partial, { force: true });
      throw e;
    }
  } finally {
    fs.rmSync(spool, { recursive: true, force: true });
    release();
  }
}

async function* jsonLines(file: string | undefined): AsyncGenerator<Record<string, unknown>> {
  if (!file) return;
  const readline = await import("node:readline");
  for await (const line of readline.createInterface({ input: fs.createReadStream(file), crlfDelay: Infinity })) {
    if (line) yield JSON.parse(line) as Record<string, unknown>;
  }
}

/** The archived blob rows by key, each marked live when a ready/quarantined version has a file there. */
async function readBlobs(dumps: { name: string; file: string }[]): Promise<Map<string, BlobRow>> {
  const file = (name: string) => dumps.find((d) => d.name === name)?.file;
  const visible = new Set<string>();
  for await (const v of jsonLines(file("public.model_versions")))
    if (v.status === "ready" || v.status === "quarantined") visible.add(v.id as string);
  const live = new Set<string>();
  for await (const f of jsonLines(file("public.version_files"))) if (visible.has(f.version_id as string)) live.add(f.blob_id as string);
  const out = new Map<string, BlobRow>();
  for await (const b of jsonLines(file("public.blobs")))
    out.set(b.object_key as string, { ...(b as unknown as BlobRow), live: live.has(b.id as string) });
  return out;
}

async function readMigrationNames(file: string | undefined): Promise<string[]> {
  const names: string[] = [];
  for await (const r of jsonLines(file)) names.push(r.name as string);
  return names.sort();
}
