import type { Database } from "./types";

/**
 * Keeps public.storage_settings.bucket — the bucket the storage.objects policies guard — equal to
 * STORAGE_BUCKET. The local modes also create the bucket row in their own storage schema; in supabase
 * mode that row is Storage's (created by the migration, the dashboard or supabase/storage-policies.sql).
 */
export async function syncBucketSetting(db: Database, bucket: string, opts: { createBucketRow: boolean }): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.query("update public.storage_settings set bucket = $1 where bucket is distinct from $1", [bucket]);
    if (opts.createBucketRow) {
      await tx.query("insert into storage.buckets (id, name, public) values ($1, $1, false) on conflict (id) do nothing", [bucket]);
    }
  });
}
