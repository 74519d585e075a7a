import { first, qb, run } from "../query";
import type { Queryable } from "../types";

// Resumable uploads proxied to Supabase Storage: our upload id -> the Storage upload it streams into.

export interface ResumableRow {
  id: string;
  user_id: string;
  version_id: string;
  blob_id: string;
  path: string;
  size_bytes: number;
  storage_url: string;
  one_file: boolean;
}

export async function insertResumable(tx: Queryable, r: ResumableRow): Promise<void> {
  await run(tx, qb.insertInto("resumable_uploads").values(r));
}

/** The caller's own upload (RLS: nobody else's). */
export async function findResumable(tx: Queryable, id: string): Promise<ResumableRow | undefined> {
  const row = await first(
    tx,
    qb
      .selectFrom("resumable_uploads")
      .select(["id", "user_id", "version_id", "blob_id", "path", "size_bytes", "storage_url", "one_file"])
      .where("id", "=", id),
  );
  return row ? { ...row, size_bytes: Number(row.size_bytes) } : undefined;
}

export async function deleteResumable(tx: Queryable, id: string): Promise<void> {
  await run(tx, qb.deleteFrom("resumable_uploads").where("id", "=", id));
}
