import { sql, type Selectable } from "kysely";
import { all, first, qb, run } from "../query";
import type { Blobs } from "../schema.gen";
import type { Queryable } from "../types";

// Blobs: the organization's stored contents, one per object in the bucket (see the file-sets
// migration). Queries run as the caller: RLS shows stored blobs to members, pending ones to their
// uploader, and lets only the server store them.

export type BlobRow = Selectable<Blobs>;
export type BlobBackend = BlobRow["storage_backend"];
export type BlobVerdict = BlobRow["scan_verdict"];
export type BlobFinding = BlobRow["scan_findings"][number];

/** The organization's oldest live copy of these bytes, if it stores them. */
export async function findStoredBlob(tx: Queryable, orgId: string, sha256: string): Promise<BlobRow | undefined> {
  return first(
    tx,
    qb
      .selectFrom("blobs")
      .selectAll()
      .where("org_id", "=", orgId)
      .where("sha256", "=", sha256)
      .where("status", "=", "stored")
      .where("purged_at", "is", null)
      .orderBy("stored_at")
      .orderBy("id")
      .limit(1),
  );
}

/** findStoredBlob for many hashes at once: hash -> the oldest live copy. */
export async function findStoredBlobs(tx: Queryable, orgId: string, sha256s: string[]): Promise<Map<string, BlobRow>> {
  const out = new Map<string, BlobRow>();
  for (let i = 0; i < sha256s.length; i += 1000) {
    const rows = await all(
      tx,
      qb
        .selectFrom("blobs")
        .selectAll()
        .where("org_id", "=", orgId)
        .where("sha256", "in", sha256s.slice(i, i + 1000))
        .where("status", "=", "stored")
        .where("purged_at", "is", null)
        .orderBy("stored_at")
        .orderBy("id"),
    );
    for (const r of rows) if (!out.has(r.sha256!)) out.set(r.sha256!, r);
  }
  return out;
}

/** Reserves a blob for a commit's upload (pending, the caller's); its id is part of its key. */
export async function insertPendingBlob(
  tx: Queryable,
  b: {
    id: string;
    orgId: string;
    key: string;
    backend: BlobBackend;
    commitId: string;
    fileName: string;
    expectedSize?: number;
    expectedSha256?: string;
  },
): Promise<BlobRow> {
  const row = await first(
    tx,
    qb
      .insertInto("blobs")
      .values({
        id: b.id,
        org_id: b.orgId,
        object_key: b.key,
        storage_backend: b.backend,
        status: "pending",
        upload_version_id: b.commitId,
        file_name: b.fileName,
        expected_size: b.expectedSize ?? null,
        expected_sha256: b.expectedSha256 ?? null,
        created_by: sql`auth.uid()`,
      })
      .returningAll(),
  );
  return row!;
}

export async function findBlob(tx: Queryable, id: string): Promise<BlobRow | undefined> {
  return first(tx, qb.selectFrom("blobs").selectAll().where("id", "=", id));
}

export async function findBlobByKey(tx: Queryable, key: string): Promise<BlobRow | undefined> {
  return first(tx, qb.selectFrom("blobs").selectAll().where("object_key", "=", key));
}

export interface StoredContent {
  size: number;
  sha256: string;
  contentType: string;
  format: string;
  framework: string | null;
  metadata: Record<string, unknown>;
  verdict: "safe" | "suspicious" | "dangerous";
  findings: BlobFinding[];
}

/** Pending -> stored with what was measured and found (only the app's server may: a trigger checks). 0 when it is gone. */
export async function storeBlob(tx: Queryable, id: string, c: StoredContent): Promise<number> {
  return run(
    tx,
    qb
      .updateTable("blobs")
      .set({
        status: "stored",
        size_bytes: c.size,
        sha256: c.sha256,
        content_type: c.contentType,
        format: c.format,
        framework: c.framework,
        metadata: JSON.stringify(c.metadata),
        scan_verdict: c.verdict,
        scan_findings: JSON.stringify(c.findings),
        scanned_at: sql`now()`,
        upload_url: null,
      })
      .where("id", "=", id)
      .where("status", "=", "pending"),
  );
}

/** Supabase mode: the Storage resumable upload this blob streams through (any app server may continue it). */
export async function setBlobUploadUrl(tx: Queryable, id: string, url: string | null): Promise<void> {
  await run(tx, qb.updateTable("blobs").set({ upload_url: url }).where("id", "=", id).where("status", "=", "pending"));
}

/** Drops pending blobs (the caller's); their keys, for removing whatever bytes they got. */
export async function deletePendingBlobs(
  tx: Queryable,
  ids: string[],
): Promise<{ id: string; object_key: string; storage_backend: BlobBackend }[]> {
  if (!ids.length) return [];
  return all(
    tx,
    qb.deleteFrom("blobs").where("id", "in", ids).where("status", "=", "pending").returning(["id", "object_key", "storage_backend"]),
  );
}

/** Re-scan results for stored bytes (admin tool, service connection). */
export async function updateBlobScan(
  tx: Queryable,
  id: string,
  s: { verdict: BlobVerdict; findings: BlobFinding[]; format: string; framework: string | null; metadata: Record<string, unknown> },
): Promise<void> {
  await run(
    tx,
    qb
      .updateTable("blobs")
      .set({
        scan_verdict: s.verdict,
        scan_findings: JSON.stringify(s.findings),
        format: s.format,
        framework: s.framework,
        metadata: JSON.stringify(s.metadata),
        scanned_at: sql`now()`,
      })
      .where("id", "=", id),
  );
}
