import "server-only";
import { withService } from "@/lib/db/client";
import { recordSystemAudit } from "@/lib/db/queries/audit";
import type { Database, Queryable } from "@/lib/db/types";
import type { BlobStore } from "@/lib/storage/blob-store";

// Retention and clean-up (npm run purge). Bytes live in blobs (one per stored object, shared by every
// version file with the same content); versions only point at them. The rules, in the order they run:
//
// 1. Stale commits: a `pending` version older than 24 h will never finish. Its row, the pending
//    blobs it reserved and their bytes go (upload.expire). Pending blobs whose commit is gone
//    (a dead process, a crash between steps) and older than an hour go the same way.
// 2. Expiry: a soft-deleted version whose deleted_at is older than RETENTION_DAYS stops holding
//    bytes: its purged_at is set (version.purge); the row and its file list stay as a tombstone.
//    Never expired ("held"), whatever its age:
//      - a version any alias points at now;
//      - a version a PROTECTED_ALIASES alias (default: production) pointed at during the
//        RETENTION_DAYS before its deletion. Those stay until an operator deletes them.
// 3. Purge, per blob: a stored blob loses its bytes (blob.purge; blobs.purged_at set, the row stays)
//    when no version that has not expired references it — live, pending, held or recently deleted
//    versions all keep it — and, when no version references it at all (its model was deleted, or
//    the commit that stored it was abandoned), RETENTION_DAYS passed since released_at (else
//    stored_at). IMPORTANT: a commit may reuse (deduplicate) a stored blob at any moment. The purge
//    locks the blob row (FOR UPDATE: it waits for a commit inserting a file that points at it, whose
//    foreign-key check holds a KEY SHARE lock) and re-checks the references in a later statement
//    before marking it purged; only then are the bytes deleted. A commit that referenced the blob
//    just before it was marked purged is refused at completion (commits.ts) and asked for the file.
// 4. Sweep: every stored object is matched against the blob rows.
//      - bytes without a row, older than an hour (younger ones may be an upload in flight), and
//        bytes of purged blobs (a purge that died before deleting them) are deleted;
//      - stored blobs a ready/quarantined version references whose bytes are missing, or whose size
//        differs, are reported loudly (MISSING / SIZE MISMATCH) — rows are never deleted for that;
//      - local modes: temporary upload files older than an hour are removed.
// Everything runs through the service connection (admin tool); --dry-run changes nothing.

export interface RetentionOptions {
  db: Database;
  /** The store as the app sees it (decrypting when encryption is on). */
  store: BlobStore;
  /** Which blobs live in `store` (blobs.storage_backend). */
  backend: "local" | "supabase";
  bucket: string;
  retentionDays: number;
  protectedAliases: string[];
  dryRun: boolean;
  now?: Date;
  orphanGraceMs?: number;
  pendingMaxAgeMs?: number;
  log?: (line: string) => void;
  /** Tests: runs between choosing a blob and locking it (where a concurrent commit may reuse it). */
  beforeBlobPurge?: (blobId: string) => Promise<void>;
}

export interface VersionRef {
  id: string;
  label: string;
}

/** A blob, with the versions that reference(d) it as its label ("org/model@1.0, …"). */
export interface BlobRef {
  id: string;
  key: string;
  label: string;
}

export interface RetentionReport {
  dryRun: boolean;
  /** Stale commits released (their pending blobs with them). */
  pendingReleased: VersionRef[];
  /** Pending blobs of commits that are gone, removed with whatever bytes they got. */
  pendingBlobsRemoved: BlobRef[];
  /** Deleted versions past retention: they no longer hold any bytes. */
  expired: VersionRef[];
  held: (VersionRef & { reason: string })[];
  /** Blobs whose bytes were deleted. */
  purged: BlobRef[];
  /** Purgeable blobs whose bytes live in another backend (run purge there). */
  elsewhere: BlobRef[];
  orphansDeleted: string[];
  orphansKept: { key: string; reason: string }[];
  /** Stored blobs of ready/quarantined versions whose bytes are missing. */
  missing: BlobRef[];
  sizeMismatches: (BlobRef & { recorded: number; stored: number })[];
  /** Local copies of blobs already migrated to another backend. */
  leftoverCopies: string[];
  tempFilesRemoved: number;
  errors: string[];
}

const DAY = 86_400_000;
const LABEL = `o.slug || '/' || m.slug || '@' || v.version`;
/** The versions referencing blob b, as one label. */
const BLOB_LABEL = `coalesce((select string_agg(distinct ${LABEL}, ', ') from public.version_files f
  join public.model_versions v on v.id = f.version_id join public.models m on m.id = v.model_id
  join public.organizations o on o.id = v.org_id where f.blob_id = b.id), o2.slug || ' (no version)')`;
/**
 * Blob b may be purged: stored, not purged, no version that still holds bytes references it ($2: the
 * versions this run expires, which a dry run has not marked), and when nothing references it at all,
 * released (or stored) before the cutoff $1.
 */
const PURGEABLE = `b.status = 'stored' and b.purged_at is null
  and not exists (select 1 from public.version_files f join public.model_versions v on v.id = f.version_id
                  where f.blob_id = b.id and v.purged_at is null and not (v.id = any($2::uuid[])))
  and (exists (select 1 from public.version_files f where f.blob_id = b.id)
       or coalesce(b.released_at, b.stored_at, b.created_at) <= $1)`;

/** Runs the retention rules above; returns what it did (or, with dryRun, what it would do). */
export async function runRetention(opts: RetentionOptions): Promise<RetentionReport> {
  const now = opts.now ?? new Date();
  const log = opts.log ?? (() => {});
  const grace = opts.orphanGraceMs ?? 3_600_000;
  const pendingMaxAge = opts.pendingMaxAgeMs ?? DAY;
  const cutoff = new Date(now.getTime() - opts.retentionDays * DAY);
  const db = opts.db;
  const would = (done: string, todo: string) => (opts.dryRun ? todo : done);
  const r: RetentionReport = {
    dryRun: opts.dryRun,
    pendingReleased: [],
    pendingBlobsRemoved: [],
    expired: [],
    held: [],
    purged: [],
    elsewhere: [],
    orphansDeleted: [],
    orphansKept: [],
    missing: [],
    sizeMismatches: [],
    leftoverCopies: [],
    tempFilesRemoved: 0,
    errors: [],
  };
  const service = <T>(fn: (tx: Queryable) => Promise<T>) =>
    withService(db, async (tx) => {
      // Never wait long behind the app's row locks: fail this item, report it, go on.
      await tx.query("set local lock_timeout = '10s'");
      return fn(tx);
    });
  const removeBytes = async (key: string, backend: string) => {
    if (backend === opts.backend) await opts.store.delete(key);
  };

  // 1. Stale commits, then pending blobs whose commit is gone.
  const { rows: stale } = await db.query<{ id: string; org_id: string; model_id: string; label: string }>(
    `select v.id, v.org_id, v.model_id, ${LABEL} as label
     from public.model_versions v join public.models m on m.id = v.model_id join public.organizations o on o.id = v.org_id
     where v.status = 'pending' and v.created_at < $1 order by v.created_at`,
    [new Date(now.getTime() - pendingMaxAge)],
  );
  for (const v of stale) {
    try {
      if (!opts.dryRun) {
        const { rows: blobs } = await db.query<{ id: string; object_key: string; storage_backend: string }>(
          "select id, object_key, storage_backend from public.blobs where upload_version_id = $1 and status = 'pending'",
          [v.id],
        );
        for (const b of blobs) await removeBytes(b.object_key, b.storage_backend);
        await service(async (tx) => {
          const { rowCount } = await tx.query("delete from public.model_versions where id = $1 and status = 'pending'", [v.id]);
          if (!rowCount) return;
          await tx.query("delete from public.blobs where id = any($1::uuid[]) and status = 'pending'", [blobs.map((b) => b.id)]);
          await recordSystemAudit(tx, {
            orgId: v.org_id,
            action: "upload.expire",
            target: ["model_version", v.id],
            modelId: v.model_id,
            details: { label: v.label, keys: blobs.map((b) => b.object_key) },
          });
        });
      }
      r.pendingReleased.push({ id: v.id, label: v.label });
      log(`${would("released", "would release")} stale upload ${v.label}`);
    } catch (e) {
      r.errors.push(`${v.label}: could not release the stale upload: ${(e as Error).message}`);
    }
  }
  const { rows: deadPending } = await db.query<{ id: string; org_id: string; object_key: string; storage_backend: string; label: string }>(
    `select b.id, b.org_id, b.object_key, b.storage_backend, o.slug || ' (abandoned upload)' as label
     from public.blobs b join public.organizations o on o.id = b.org_id
     where b.status = 'pending' and b.created_at < $1
       and not exists (select 1 from public.model_versions v where v.id = b.upload_version_id and v.status = 'pending')
     order by b.created_at`,
    [new Date(now.getTime() - grace)],
  );
  for (const b of deadPending) {
    try {
      if (!opts.dryRun) {
        await removeBytes(b.object_key, b.storage_backend);
        await service(async (tx) => {
          const { rowCount } = await tx.query(
            `delete from public.blobs b where b.id = $1 and b.status = 'pending'
               and not exists (select 1 from public.model_versions v where v.id = b.upload_version_id and v.status = 'pending')`,
            [b.id],
          );
          if (rowCount)
            await recordSystemAudit(tx, {
              orgId: b.org_id,
              action: "upload.expire",
              target: ["blob", b.id],
              details: { key: b.object_key },
            });
        });
      }
      r.pendingBlobsRemoved.push({ id: b.id, key: b.object_key, label: b.label });
      log(`${would("removed", "would remove")} pending blob of a dead commit ${b.object_key}`);
    } catch (e) {
      r.errors.push(`${b.object_key}: could not remove the pending blob: ${(e as Error).message}`);
    }
  }

  // 2. Deleted versions past retention stop holding bytes (unless protected).
  const { rows: candidates } = await db.query<{
    id: string;
    org_id: string;
    model_id: string;
    deleted_at: Date | null;
    label: string;
    aliased: string[] | null;
    protected_by: string[] | null;
  }>(
    `select v.id, v.org_id, v.model_id, v.deleted_at, ${LABEL} as label,
            (select array_agg(a.alias order by a.alias) from public.model_aliases a where a.version_id = v.id) as aliased,
            (select array_agg(distinct h.alias) from public.model_alias_history h
              where h.from_version_id = v.id and h.alias = any($2::text[])
                and h.moved_at >= coalesce(v.deleted_at, v.created_at) - make_interval(days => $3)) as protected_by
     from public.model_versions v join public.models m on m.id = v.model_id join public.organizations o on o.id = v.org_id
     where v.status = 'deleted' and v.purged_at is null and coalesce(v.deleted_at, v.created_at) <= $1
     order by v.deleted_at`,
    [cutoff, opts.protectedAliases, opts.retentionDays],
  );
  for (const v of candidates) {
    const ref = { id: v.id, label: v.label };
    if (v.aliased?.length) {
      r.held.push({ ...ref, reason: `alias ${v.aliased.join(", ")} points at it` });
      continue;
    }
    if (v.protected_by?.length) {
      r.held.push({
        ...ref,
        reason: `protected alias ${v.protected_by.join(", ")} pointed at it within ${opts.retentionDays} days before it was deleted`,
      });
      continue;
    }
    try {
      if (!opts.dryRun) {
        await service(async (tx) => {
          const { rowCount } = await tx.query(
            "update public.model_versions set purged_at = $2 where id = $1 and status = 'deleted' and purged_at is null",
            [v.id, now],
          );
          if (rowCount) {
            await recordSystemAudit(tx, {
              orgId: v.org_id,
              action: "version.purge",
              target: ["model_version", v.id],
              modelId: v.model_id,
              versionId: v.id,
              details: { label: v.label, deleted_at: v.deleted_at, retention_days: opts.retentionDays },
            });
          }
        });
      }
      r.expired.push(ref);
      log(`${would("expired", "would expire")} ${v.label} (deleted ${v.deleted_at?.toISOString() ?? "?"})`);
    } catch (e) {
      r.errors.push(`${v.label}: could not expire: ${(e as Error).message}`);
    }
  }
  for (const h of r.held) log(`held ${h.label}: ${h.reason}`);

  // 3. Purge blobs no version holds any more.
  const expiring = r.expired.map((v) => v.id);
  const { rows: purgeable } = await db.query<{
    id: string;
    org_id: string;
    object_key: string;
    storage_backend: string;
    size_bytes: number;
    sha256: string;
    label: string;
  }>(
    `select b.id, b.org_id, b.object_key, b.storage_backend, b.size_bytes, b.sha256, ${BLOB_LABEL} as label
     from public.blobs b join public.organizations o2 on o2.id = b.org_id
     where ${PURGEABLE} order by b.stored_at, b.id`,
    [cutoff, expiring],
  );
  for (const b of purgeable) {
    const ref = { id: b.id, key: b.object_key, label: b.label };
    if (b.storage_backend !== opts.backend) {
      r.elsewhere.push(ref);
      continue;
    }
    try {
      if (!opts.dryRun) {
        await opts.beforeBlobPurge?.(b.id);
        const marked = await service(async (tx) => {
          const { rows: locked } = await tx.query("select id from public.blobs where id = $1 and purged_at is null for update", [b.id]);
          if (!locked.length) return false;
          // A new statement, so a commit that referenced the blob before the lock was granted is seen.
          const { rowCount } = await tx.query(`update public.blobs b set purged_at = $3 where b.id = $4 and ${PURGEABLE}`, [
            cutoff,
            expiring,
            now,
            b.id,
          ]);
          if (!rowCount) return false;
          await recordSystemAudit(tx, {
            orgId: b.org_id,
            action: "blob.purge",
            target: ["blob", b.id],
            details: {
              key: b.object_key,
              size: Number(b.size_bytes),
              sha256: b.sha256,
              versions: b.label,
              retention_days: opts.retentionDays,
            },
          });
          return true;
        });
        if (!marked) {
          log(`kept ${b.object_key}: a commit references it again`);
          continue;
        }
        // Marked first: from here no commit can pick it; a failure below leaves bytes the sweep deletes.
        await opts.store.delete(b.object_key);
      }
      r.purged.push(ref);
      log(`${would("purged", "would purge")} ${b.object_key} (${b.label})`);
    } catch (e) {
      r.errors.push(`${b.object_key} (${b.label}): could not purge: ${(e as Error).message}`);
    }
  }

  // 4. Sweep. The rows are read before the listing, so an upload reserved meanwhile is "young".
  const { rows: blobRows } = await db.query<{
    id: string;
    object_key: string;
    status: string;
    storage_backend: string;
    purged_at: Date | null;
    size_bytes: number | null;
    live: boolean;
    label: string;
  }>(
    `select b.id, b.object_key, b.status, b.storage_backend, b.purged_at, b.size_bytes, ${BLOB_LABEL} as label,
            exists (select 1 from public.version_files f join public.model_versions v on v.id = f.version_id
                    where f.blob_id = b.id and v.status in ('ready', 'quarantined')) as live
     from public.blobs b join public.organizations o2 on o2.id = b.org_id`,
  );
  const byKey = new Map(blobRows.map((b) => [b.object_key, b]));
  const stored = new Map<string, number>();
  for await (const s of opts.store.list("")) {
    stored.set(s.key, s.size);
    const row = byKey.get(s.key);
    if (row && row.purged_at === null) {
      if (row.storage_backend !== opts.backend) r.leftoverCopies.push(s.key);
      continue;
    }
    const age = s.updatedAt ? now.getTime() - s.updatedAt.getTime() : Infinity;
    if (!row && age < grace) {
      r.orphansKept.push({ key: s.key, reason: "younger than an hour (an upload may be in flight)" });
      continue;
    }
    if (r.purged.some((p) => p.key === s.key)) continue; // a dry run's purge already counts it
    try {
      if (!opts.dryRun) await opts.store.delete(s.key);
      r.orphansDeleted.push(s.key);
      log(`${would("deleted", "would delete")} ${row ? "leftover bytes of purged blob" : "orphan"} ${s.key}`);
    } catch (e) {
      r.errors.push(`${s.key}: could not delete the orphan: ${(e as Error).message}`);
    }
  }
  for (const b of blobRows) {
    if (!b.live || b.status !== "stored" || b.purged_at || b.storage_backend !== opts.backend) continue;
    const size = stored.get(b.object_key);
    const ref = { id: b.id, key: b.object_key, label: b.label };
    if (size === undefined) r.missing.push(ref);
    else if (b.size_bytes !== null && size !== Number(b.size_bytes))
      r.sizeMismatches.push({ ...ref, recorded: Number(b.size_bytes), stored: size });
  }
  const sweepTemp = (opts.store as { sweepTemp?: (ms: number) => Promise<number> }).sweepTemp;
  if (sweepTemp && !opts.dryRun) r.tempFilesRemoved = await sweepTemp(grace);
  return r;
}
