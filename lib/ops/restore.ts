import "server-only";
import { createHash } from "node:crypto";
import fs from "node:fs";
import fsp from "node:fs/promises";
import path from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { migrate } from "@/lib/db/migrate";
import { openPGlite } from "@/lib/db/pglite";
import type { Database } from "@/lib/db/types";
import { isValidKey } from "@/lib/storage/object-key";
import {
  ARCHIVE_FORMAT,
  ARCHIVE_VERSION,
  compareWithManifest,
  CONFIG_PREFIX,
  OBJECTS_PREFIX,
  PGLITE_DATADIR_ENTRY,
  TABLES_PREFIX,
  type BackupInfo,
  type Manifest,
  type ManifestFile,
  type VerifyFailure,
} from "./archive";
import { countRows, importTables, nonEmptyTables } from "./db-dump";
import { isEmptyDir, syncPath, takePidLock } from "./files";
import { UsageError } from "./ops-env";
import { readTarEntries, readTarEntryData, TarFormatError } from "@/lib/archive/tar";

export interface RestoreOptions {
  archive: string;
  /** Target data directory: must not exist or be empty. Receives storage/<bucket>/… (and db/ when embedded). */
  dataDir: string;
  /** Restore the metadata into this migrated, empty Postgres database instead of an embedded one. */
  database?: Database;
  log?: (line: string) => void;
  onBytes?: (n: number) => void;
}

export interface RestoreReport {
  dataDir: string;
  database: "pglite-datadir" | "pglite-logical" | "postgres-logical";
  objects: number;
  objectBytes: number;
  tables: Record<string, number>;
  seconds: number;
}

/** The archive failed its checks while restoring: nothing was restored (exit 1). */
export class RestoreVerificationError extends Error {
  constructor(readonly failures: VerifyFailure[]) {
    super(`The archive failed verification; nothing was restored:\n${failures.map((f) => `  ${f.name}: ${f.problem}`).join("\n")}`);
    this.name = "RestoreVerificationError";
  }
}

const TABLE_FILE = /^[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*\.jsonl$/;

/**
 * Restores an archive into an empty data directory, in one pass: every entry is hashed as it is
 * extracted into `<dataDir>.restore-partial`, checked against the manifest, the database is loaded
 * (PGlite's data directory when the archive has one, else the logical export), row counts are
 * compared, and only then is the directory renamed into place. A failure or a kill leaves no
 * half-restored data directory.
 */
export async function restoreBackup(opts: RestoreOptions): Promise<RestoreReport> {
  const log = opts.log ?? (() => {});
  const started = performance.now();
  const dataDir = path.resolve(opts.dataDir);
  if (!isEmptyDir(dataDir))
    throw new UsageError(`${dataDir} is not empty. Restore into a new or empty directory (then point DATA_DIR at it).`);
  const work = `${dataDir}.restore-partial`;
  const release = takePidLock(`${dataDir}.restore.lock`, `A restore into ${dataDir}`);
  try {
    if (fs.existsSync(work)) log(`Removing ${work} left by an interrupted restore.`);
    fs.rmSync(work, { recursive: true, force: true });
    fs.mkdirSync(path.join(work, ".restore", "tables"), { recursive: true });

    const seen = new Map<string, ManifestFile>();
    const failures: VerifyFailure[] = [];
    let info: BackupInfo | undefined;
    let manifest: Manifest | undefined;
    let objects = 0;
    let objectBytes = 0;
    const fh = await fsp.open(opts.archive, "r");
    try {
      for await (const entry of readTarEntries(fh)) {
        const name = entry.name;
        if (name === "manifest.json" || name === "backup.json") {
          const parts: Buffer[] = [];
          for await (const c of readTarEntryData(fh, entry)) parts.push(c);
          const bytes = Buffer.concat(parts);
          if (name === "backup.json")
            seen.set(name, { name, size: bytes.length, sha256: createHash("sha256").update(bytes).digest("hex") });
          try {
            const parsed = JSON.parse(bytes.toString("utf8"));
            if (name === "manifest.json") manifest = parsed as Manifest;
            else info = parsed as BackupInfo;
          } catch {
            failures.push({ name, problem: "is not valid JSON" });
          }
          if (info && info.format !== ARCHIVE_FORMAT) throw new UsageError(`${opts.archive} is not a FairMind backup.`);
          if (info && !(info.version >= 1 && info.version <= ARCHIVE_VERSION))
            throw new UsageError(
              `${opts.archive} is a format ${info.version} backup; this app reads formats 1 to ${ARCHIVE_VERSION}. Restore it with a newer app.`,
            );
          if (info?.version === 1 && opts.database)
            throw new UsageError(
              `${opts.archive} was made before file sets (format 1). Restore it into an embedded data directory (without --database): ` +
                "the restore then migrates it to file sets. Then back that up again for a Postgres server.",
            );
          continue;
        }
        let target: string;
        let mode = 0o640;
        if (name.startsWith(OBJECTS_PREFIX)) {
          const key = name.slice(OBJECTS_PREFIX.length);
          // IMPORTANT: an archive is input: a key must be a valid object key before it becomes a path.
          if (!isValidKey(key)) {
            failures.push({ name, problem: "is not a valid object key; not extracted" });
            continue;
          }
          if (!info) throw new UsageError("backup.json must come first in the archive.");
          target = path.join(work, "storage", info.bucket, ...key.split("/"));
          objects++;
          objectBytes += entry.size;
        } else if (name === PGLITE_DATADIR_ENTRY) {
          target = path.join(work, ".restore", "pglite-datadir.tar.gz");
        } else if (name.startsWith(TABLES_PREFIX) && TABLE_FILE.test(name.slice(TABLES_PREFIX.length))) {
          target = path.join(work, ".restore", "tables", name.slice(TABLES_PREFIX.length));
        } else if (name === `${CONFIG_PREFIX}auth-secret`) {
          target = path.join(work, "auth-secret");
          mode = 0o600;
        } else {
          failures.push({ name, problem: "is not something a backup contains; not extracted" });
          continue;
        }
        await fsp.mkdir(path.dirname(target), { recursive: true });
        const out = fs.createWriteStream(target, { flags: "wx", mode, highWaterMark: 1024 * 1024 });
        const hash = createHash("sha256");
        for await (const c of readTarEntryData(fh, entry)) {
          hash.update(c);
          opts.onBytes?.(c.length);
          if (!out.write(c)) await new Promise<void>((r) => out.once("drain", () => r()));
        }
        await new Promise<void>((resolve, reject) => out.end((e?: Error | null) => (e ? reject(e) : resolve())));
        if (entry.mtime) await fsp.utimes(target, entry.mtime, entry.mtime);
        seen.set(name, { name, size: entry.size, sha256: hash.digest("hex") });
      }
    } catch (e) {
      if (!(e instanceof TarFormatError)) throw e;
      failures.push({ name: opts.archive, problem: e.message });
    } finally {
      await fh.close();
    }
    if (!manifest) failures.push({ name: "manifest.json", problem: "is missing: the archive is incomplete (an interrupted backup?)" });
    else failures.push(...compareWithManifest(seen, manifest));
    if (failures.length || !manifest || !info) throw new RestoreVerificationError(failures);
    log(`Extracted and verified ${seen.size} entries (${objects} objects).`);

    const tableDumps = manifest.tables.map((t) => ({ ...t, file: path.join(work, ".restore", "tables", `${t.name}.jsonl`) }));
    const checkCounts = (tables: Record<string, number>) => {
      const wrong = manifest!.tables.filter((t) => t.name !== "fairmind.schema_migrations" && tables[t.name] !== t.rows);
      if (wrong.length)
        throw new Error(`Row counts differ after the restore: ${wrong.map((t) => `${t.name} ${tables[t.name]} != ${t.rows}`).join(", ")}`);
    };
    const moveIntoPlace = async () => {
      fs.rmSync(path.join(work, ".restore"), { recursive: true, force: true });
      if (fs.existsSync(dataDir)) fs.rmdirSync(dataDir);
      fs.renameSync(work, dataDir);
      await syncPath(path.dirname(dataDir));
    };
    let database: RestoreReport["database"];
    let tables: Record<string, number>;
    if (opts.database) {
      const target = opts.database;
      const busy = await nonEmptyTables(target, info.schemas);
      if (busy.length)
        throw new UsageError(
          `The target database is not empty (${busy.slice(0, 5).join(", ")}${busy.length > 5 ? ", …" : ""}). Restore into a new database.`,
        );
      // The bytes go into place first: once the import commits, every row it wrote has its object.
      const staged = path.join(path.dirname(work), `.${path.basename(work)}-tables`);
      fs.rmSync(staged, { recursive: true, force: true });
      fs.renameSync(path.join(work, ".restore"), staged);
      try {
        await moveIntoPlace();
        log("Importing tables into the target database…");
        await importTables(
          target,
          tableDumps.map((t) => ({ ...t, file: path.join(staged, "tables", `${t.name}.jsonl`) })),
          info.schemas,
        );
        tables = await countRows(
          target,
          manifest.tables.map((t) => t.name),
        );
        checkCounts(tables);
      } catch (e) {
        fs.rmSync(dataDir, { recursive: true, force: true });
        throw e;
      } finally {
        fs.rmSync(staged, { recursive: true, force: true });
      }
      database = "postgres-logical";
    } else {
      const dbDir = path.join(work, "db");
      const datadir = path.join(work, ".restore", "pglite-datadir.tar.gz");
      database = "pglite-logical";
      if (fs.existsSync(datadir)) {
        try {
          const pg = new PGlite(dbDir, { loadDataDir: new Blob([fs.readFileSync(datadir)]) });
          await pg.waitReady;
          await pg.close();
          database = "pglite-datadir";
        } catch (e) {
          log(`Could not load the PGlite data directory (${(e as Error).message}); using the logical export instead.`);
          fs.rmSync(dbDir, { recursive: true, force: true });
        }
      }
      const db = await openPGlite(dbDir);
      try {
        if (database === "pglite-logical") {
          // The schema the archive was made with, its rows, then every later migration: an archive
          // from before file sets (format 1) becomes blobs and version files as an upgrade would.
          const made = new Set(manifest.migrations);
          await migrate(db, { only: (name) => made.has(name) });
          await importTables(db, tableDumps, info.schemas);
        }
        // A data directory from an older app is brought up to date the same way.
        const upgraded = (await migrate(db)).filter((m) => m !== "local/shim.sql");
        if (upgraded.length) log(`Migrated the restored database: ${upgraded.join(", ")}.`);
        tables = await countRows(
          db,
          manifest.tables.map((t) => t.name),
        );
      } finally {
        await db.close();
      }
      checkCounts(tables);
      await moveIntoPlace();
    }
    return { dataDir, database, objects, objectBytes, tables, seconds: (performance.now() - started) / 1000 };
  } catch (e) {
    fs.rmSync(work, { recursive: true, force: true });
    throw e;
  } finally {
    release();
  }
}
