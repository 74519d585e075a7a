import { sql, type InferResult } from "kysely";
import { all, first, qb, run } from "../query";
import type { Queryable } from "../types";

// version_files: the files of a version (a path -> a blob), fixed once the version leaves pending.

const files = () =>
  qb
    .selectFrom("version_files as f")
    .innerJoin("blobs as b", "b.id", "f.blob_id")
    .select([
      "f.version_id",
      "f.path",
      "f.blob_id",
      "b.object_key",
      "b.storage_backend",
      "b.status as blob_status",
      "b.upload_version_id",
      "b.file_name",
      sql<number | null>`coalesce(b.size_bytes, b.expected_size)`.as("size_bytes"),
      sql<string | null>`coalesce(b.sha256, b.expected_sha256)`.as("sha256"),
      "b.content_type",
      "b.format",
      "b.framework",
      "b.metadata",
      "b.scan_verdict",
      "b.scan_findings",
      "b.purged_at",
    ]);

/** A file of a version, with its blob (what is stored, and what the inspector found in it). */
export type FileRow = InferResult<ReturnType<typeof files>>[number];

/** MAX_FILES_PER_VERSION is enforced by the service; this lists them all, by path. */
export async function listVersionFiles(tx: Queryable, versionId: string): Promise<FileRow[]> {
  return all(tx, files().where("f.version_id", "=", versionId).orderBy("f.path"));
}

export async function findVersionFile(tx: Queryable, versionId: string, path: string): Promise<FileRow | undefined> {
  return first(tx, files().where("f.version_id", "=", versionId).where("f.path", "=", path));
}

export async function insertVersionFiles(
  tx: Queryable,
  versionId: string,
  orgId: string,
  rows: { path: string; blobId: string }[],
): Promise<void> {
  // Batches keep each statement's parameter count far below Postgres's 65535.
  for (let i = 0; i < rows.length; i += 1000) {
    const batch = rows.slice(i, i + 1000);
    await run(
      tx,
      qb.insertInto("version_files").values(batch.map((r) => ({ version_id: versionId, org_id: orgId, path: r.path, blob_id: r.blobId }))),
    );
  }
}

/** Points a file of a pending version at another blob (the same bytes were already stored). */
export async function repointVersionFile(tx: Queryable, versionId: string, path: string, blobId: string): Promise<void> {
  await run(tx, qb.updateTable("version_files").set({ blob_id: blobId }).where("version_id", "=", versionId).where("path", "=", path));
}
