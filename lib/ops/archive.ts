import { createHash } from "node:crypto";
import fs from "node:fs/promises";
import { readTarEntries, readTarEntryData, TarFormatError } from "@/lib/archive/tar";

// The backup archive: a plain tar (`tar -tf` lists it) of
//   backup.json                       what made it (first entry, so a reader knows at once)
//   db/pglite-datadir.tar.gz          embedded mode: PGlite's own data-directory dump (exact)
//   db/tables/<schema>.<table>.jsonl  every mode: a logical export, one JSON row per line
//   objects/<key>                     every stored object once, as stored (ciphertext when encrypted):
//                                     in format 2 one per blob (<org>/blobs/<xx>/<blob id>, or a key
//                                     kept from before file sets), however many versions share it
//   config/auth-secret                local modes: the generated session key, when there is one
//   manifest.json                     last: size and SHA-256 of every entry above, table row counts

export const ARCHIVE_FORMAT = "fairmind-backup";
/**
 * 2: file sets — the tables include blobs and version_files, objects are blobs. 1 (before file sets):
 * one object per version, keyed by model_versions.object_key; restore still reads it (see restore.ts).
 */
export const ARCHIVE_VERSION = 2;
export const PGLITE_DATADIR_ENTRY = "db/pglite-datadir.tar.gz";
export const TABLES_PREFIX = "db/tables/";
export const OBJECTS_PREFIX = "objects/";
export const CONFIG_PREFIX = "config/";

export interface BackupInfo {
  format: typeof ARCHIVE_FORMAT;
  version: number;
  created_at: string;
  mode: "embedded" | "postgres" | "supabase";
  database: "pglite" | "postgres";
  bucket: string;
  schemas: string[];
  app_version?: string;
}

export interface ManifestFile {
  name: string;
  size: number;
  sha256: string;
}

export interface ManifestObject {
  key: string;
  size: number;
  sha256: string;
  /** Stored encrypted at rest (lib/storage/adapters/encrypted.ts): the archive holds ciphertext. */
  encrypted: boolean;
  /** Named by a live blob row in the archived database (false: an orphan, purged bytes, an upload in flight). */
  referenced: boolean;
  /** Format 2: the blob these bytes are (absent for an orphan). */
  blob_id?: string;
}

export interface Manifest extends BackupInfo {
  files: ManifestFile[];
  tables: { name: string; rows: number; columns: string[]; file: string }[];
  objects: ManifestObject[];
  /** What the backup found wrong in the source (missing or damaged bytes); empty when clean. */
  problems: string[];
  migrations: string[];
}

export interface VerifyFailure {
  name: string;
  problem: string;
}

export interface VerifyReport {
  ok: boolean;
  entries: number;
  bytes: number;
  failures: VerifyFailure[];
  manifest?: Manifest;
}

/**
 * Re-hashes every entry of an archive and checks it against manifest.json: sizes, SHA-256, nothing
 * missing, nothing extra. Names every entry that fails.
 */
export async function verifyBackup(file: string, opts: { onBytes?: (n: number) => void } = {}): Promise<VerifyReport> {
  const failures: VerifyFailure[] = [];
  const seen = new Map<string, ManifestFile>();
  let manifest: Manifest | undefined;
  let entries = 0;
  let bytes = 0;
  const fh = await fs.open(file, "r");
  try {
    for await (const entry of readTarEntries(fh)) {
      entries++;
      if (entry.type !== "0" && entry.type !== "\0") {
        failures.push({ name: entry.name, problem: `unexpected entry type ${JSON.stringify(entry.type)}` });
        continue;
      }
      if (entry.name === "manifest.json") {
        const parts: Buffer[] = [];
        for await (const c of readTarEntryData(fh, entry)) parts.push(c);
        try {
          manifest = JSON.parse(Buffer.concat(parts).toString("utf8")) as Manifest;
        } catch {
          failures.push({ name: entry.name, problem: "is not valid JSON" });
        }
        continue;
      }
      const hash = createHash("sha256");
      for await (const c of readTarEntryData(fh, entry)) {
        hash.update(c);
        bytes += c.length;
        opts.onBytes?.(c.length);
      }
      if (seen.has(entry.name)) failures.push({ name: entry.name, problem: "appears twice" });
      seen.set(entry.name, { name: entry.name, size: entry.size, sha256: hash.digest("hex") });
    }
  } catch (e) {
    if (!(e instanceof TarFormatError)) throw e;
    failures.push({ name: file, problem: e.message });
  } finally {
    await fh.close();
  }
  if (!manifest) {
    failures.push({ name: "manifest.json", problem: "is missing: the archive is incomplete (an interrupted backup?)" });
    return { ok: false, entries, bytes, failures };
  }
  failures.push(...compareWithManifest(seen, manifest));
  return { ok: failures.length === 0, entries, bytes, failures, manifest };
}

/** What differs between the entries actually read (name -> size, SHA-256) and the manifest. */
export function compareWithManifest(seen: Map<string, ManifestFile>, manifest: Manifest): VerifyFailure[] {
  const failures: VerifyFailure[] = [];
  const left = new Map(seen);
  if (manifest.format !== ARCHIVE_FORMAT) failures.push({ name: "manifest.json", problem: `is not a ${ARCHIVE_FORMAT} manifest` });
  for (const expected of manifest.files ?? []) {
    const got = left.get(expected.name);
    if (!got) failures.push({ name: expected.name, problem: "is listed in the manifest but missing from the archive" });
    else if (got.size !== expected.size)
      failures.push({ name: expected.name, problem: `has ${got.size} bytes, the manifest says ${expected.size}` });
    else if (got.sha256 !== expected.sha256)
      failures.push({ name: expected.name, problem: `SHA-256 mismatch (archive ${got.sha256}, manifest ${expected.sha256})` });
    left.delete(expected.name);
  }
  for (const extra of left.keys()) failures.push({ name: extra, problem: "is in the archive but not in the manifest" });
  return failures;
}
