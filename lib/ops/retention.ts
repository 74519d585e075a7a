import "server-only";
import { withService } from "@/lib/db/client";
import { recordSystemAudit } from "@/lib/db/queries/audit";
import type { Database, Queryable } from "@/lib/db/types";
import type { BlobStore } from "@/lib/storage/blob-store";

// Retention and clean-up (npm run purge). The rules, in the order they run:
//
// 1. Stale reservations: a `pending` version older than 24 h is an upload that will never finish.
//    Its bytes (if any) and its row are deleted.
// 2. Purge: a soft-deleted version whose deleted_at is older than RETENTION_DAYS loses its bytes
//    Its version row stays as a tombstone with
//    purged_at set; audit events are append-only and untouched (a version.purge event is added).
//    Never purged ("held"), whatever its age:
//      - a version any alias points at now;
//      - a version a PROTECTED_ALIASES alias (default: production) pointed at during the
//        RETENTION_DAYS before its deletion — which includes "it was production when deleted",
//        since deleting a version removes its aliases. Those stay until an operator deletes them.
// 3. Sweep: every stored object is matched against the version rows.
//      - bytes without a row, older than an hour (younger ones may be an upload in flight), are
//        deleted — unless they belong to a model deleted within RETENTION_DAYS (deleting a model
//        removes its version rows; its bytes then get the same retention as a deleted version);
//      - bytes of an already purged version are deleted;
//      - ready/quarantined versions whose bytes are missing, or whose size differs, are reported
//        loudly and marked MISSING / SIZE MISMATCH — rows are never deleted for that;
//      - local modes: temporary upload files older than an hour are removed.
// Everything runs through the service connection (admin tool); --dry-run changes nothing.

export interface RetentionOptions {
  db: Database;
  /** The store as the app sees it (decrypting when encryption is on). */
  store: BlobStore;
  /** Which versions live in `store` (model_versions.storage_backend). */
  backend: "local" | "supabase";
  bucket: string;
  retentionDays: number;
  protectedAliases: string[];
  dryRun: boolean;
  now?: Date;
  orphanGraceMs?: number;
  pendingMaxAgeMs?: number;
  log?: (line: string) => void;
}

export interface VersionRef {
  id: string;
  key: string;
  label: string;
}

export interface RetentionReport {
  dryRun: boolean;
  pendingReleased: VersionRef[];
  purged: VersionRef[];
  held: (VersionRef & { reason: string })[];
  /** Soft-deleted versions whose bytes live in another backend (run purge there). */
  elsewhere: VersionRef[];
  orphansDeleted: string[];
  orphansKept: { key: string; reason: string }[];
  /** Ready/quarantined versions whose bytes are missing. */
  missing: VersionRef[];
  sizeMismatches: (VersionRef & { recorded: number; stored: number })[];
  /** Local copies of versions already migrated to another backend. */
  leftoverCopies: string[];
  tempFilesRemoved: number;
  errors: string[];
}

export const DEFAULT_RETENTION_DAYS = 30;
export const DEFAULT_PROTECTED_ALIASES = ["production"];

/** RETENTION_DAYS and PROTECTED_ALIASES from the environment, validated. */
export function retentionSettings(env: Record<string, string | undefined>): { retentionDays: number; protectedAliases: string[] } {
  const raw = env.RETENTION_DAYS?.trim();
  const retentionDays = raw ? Number(raw) : DEFAULT_RETENTION_DAYS;
  if (!Number.isInteger(retentionDays) || retentionDays < 0)
    throw new Error(`RETENTION_DAYS must be a whole number of days (got ${JSON.stringify(raw)}).`);
  const aliases =
    env.PROTECTED_ALIASES === undefined
      ? DEFAULT_PROTECTED_ALIASES
      : env.PROTECTED_ALIASES.split(",")
          .map((a) => a.trim())
          .filter(Boolean);
  return { retentionDays, protectedAliases: aliases };
}

const DAY = 86_400_000;

async function auditSystem(
  tx: Queryable,
  e: {
    org: string | null;
    action: string;
    model?: string | null;
    version?: string | null;
    target: string;
    details: Record<string, unknown>;
  },
) {
  await recordSystemAudit(tx, {
    orgId: e.org,
    action: e.action,
    target: ["model_version", e.target],
    modelId: e.model ?? undefined,
    versionId: e.version ?? undefined,
    details: e.details,
  });
}

/** "<org>/<model>" of a key "<org>/<model>_v<version>.<ext>" (versions never contain "_"). */
function modelOfKey(key: string): string {
  const cut = key.lastIndexOf("_v");
  return cut > 0 ? key.slice(0, cut) : key;
}

/** Runs the retention rules above; returns what it did (or, with dryRun, what it would do). */
export async function runRetention(opts: RetentionOptions): Promise<RetentionReport> {
  const now = opts.now ?? new Date();
  const log = opts.log ?? (() => {});
  const grace = opts.orphanGraceMs ?? 3_600_000;
  const pendingMaxAge = opts.pendingMaxAgeMs ?? DAY;
  const cutoff = new Date(now.getTime() - opts.retentionDays * DAY);
  const db = opts.db;
  const r: RetentionReport = {
    dryRun: opts.dryRun,
    pendingReleased: [],
    purged: [],
    held: [],
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

  // 1. Stale reservations.
  const { rows: stale } = await db.query<{
    id: string;
    org_id: string;
    model_id: string;
    object_key: string;
    storage_backend: string;
    label: string;
  }>(
    `select v.id, v.org_id, v.model_id, v.object_key, v.storage_backend, o.slug || '/' || m.slug || '@' || v.version as label
     from public.model_versions v join public.models m on m.id = v.model_id join public.organizations o on o.id = v.org_id
     where v.status = 'pending' and v.created_at < $1 order by v.created_at`,
    [new Date(now.getTime() - pendingMaxAge)],
  );
  for (const v of stale) {
    const ref = { id: v.id, key: v.object_key, label: v.label };
    try {
      if (!opts.dryRun) {
        if (v.storage_backend === opts.backend) await opts.store.delete(v.object_key);
        await service(async (tx) => {
          const { rowCount } = await tx.query("delete from public.model_versions where id = $1 and status = 'pending'", [v.id]);
          if (rowCount) {
            await auditSystem(tx, {
              org: v.org_id,
              action: "upload.expire",
              model: v.model_id,
              target: v.id,
              details: { key: v.object_key, label: v.label },
            });
          }
        });
      }
      r.pendingReleased.push(ref);
      log(`${opts.dryRun ? "would release" : "released"} stale upload ${v.label} (${v.object_key})`);
    } catch (e) {
      r.errors.push(`${v.label}: could not release the stale upload: ${(e as Error).message}`);
    }
  }

  // 2. Purge soft-deleted versions past retention.
  const { rows: candidates } = await db.query<{
    id: string;
    org_id: string;
    model_id: string;
    object_key: string;
    storage_backend: string;
    deleted_at: Date | null;
    label: string;
    aliased: string[] | null;
    protected_by: string[] | null;
  }>(
    `select v.id, v.org_id, v.model_id, v.object_key, v.storage_backend, v.deleted_at,
            o.slug || '/' || m.slug || '@' || v.version as label,
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
    const ref = { id: v.id, key: v.object_key, label: v.label };
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
    if (v.storage_backend !== opts.backend) {
      r.elsewhere.push(ref);
      continue;
    }
    try {
      if (!opts.dryRun) {
        // Bytes first: a crash before the row update leaves a row the next run purges again.
        await opts.store.delete(v.object_key);
        await service(async (tx) => {
          const { rowCount } = await tx.query("update public.model_versions set purged_at = $2 where id = $1 and purged_at is null", [
            v.id,
            now,
          ]);
          if (rowCount) {
            await auditSystem(tx, {
              org: v.org_id,
              action: "version.purge",
              model: v.model_id,
              version: v.id,
              target: v.id,
              details: { key: v.object_key, label: v.label, deleted_at: v.deleted_at, retention_days: opts.retentionDays },
            });
          }
        });
      }
      r.purged.push(ref);
      log(`${opts.dryRun ? "would purge" : "purged"} ${v.label} (deleted ${v.deleted_at?.toISOString() ?? "?"})`);
    } catch (e) {
      r.errors.push(`${v.label}: could not purge: ${(e as Error).message}`);
    }
  }
  for (const h of r.held) log(`held ${h.label}: ${h.reason}`);

  // 3. Sweep. The rows are read before the listing, so an upload reserved meanwhile is "young".
  const { rows: versionRows } = await db.query<{
    id: string;
    object_key: string;
    status: string;
    storage_backend: string;
    purged_at: Date | null;
    size_bytes: number | null;
    label: string;
  }>(
    `select v.id, v.object_key, v.status, v.storage_backend, v.purged_at, v.size_bytes, o.slug || '/' || m.slug || '@' || v.version as label
     from public.model_versions v join public.models m on m.id = v.model_id join public.organizations o on o.id = v.org_id`,
  );
  const byKey = new Map(versionRows.map((v) => [v.object_key, v]));
  const { rows: deletedModelRows } = await db.query<{ model: string; at: Date }>(
    `select o.slug || '/' || (e.details ->> 'slug') as model, max(e.created_at) as at
     from public.audit_events e join public.organizations o on o.id = e.org_id
     where e.action = 'model.delete' and e.created_at > $1 and e.details ? 'slug'
     group by 1`,
    [cutoff],
  );
  const deletedModels = new Map(deletedModelRows.map((d) => [d.model, d.at]));

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
    const modelDeletedAt = !row ? deletedModels.get(modelOfKey(s.key)) : undefined;
    if (modelDeletedAt) {
      r.orphansKept.push({
        key: s.key,
        reason: `its model was deleted ${modelDeletedAt.toISOString()}; kept for ${opts.retentionDays} days`,
      });
      continue;
    }
    try {
      if (!opts.dryRun) {
        await opts.store.delete(s.key);
      }
      r.orphansDeleted.push(s.key);
      log(`${opts.dryRun ? "would delete" : "deleted"} ${row ? "leftover bytes of purged version" : "orphan"} ${s.key}`);
    } catch (e) {
      r.errors.push(`${s.key}: could not delete the orphan: ${(e as Error).message}`);
    }
  }
  for (const v of versionRows) {
    if ((v.status !== "ready" && v.status !== "quarantined") || v.storage_backend !== opts.backend) continue;
    const size = stored.get(v.object_key);
    const ref = { id: v.id, key: v.object_key, label: v.label };
    if (size === undefined) r.missing.push(ref);
    else if (v.size_bytes !== null && size !== v.size_bytes) r.sizeMismatches.push({ ...ref, recorded: v.size_bytes, stored: size });
  }
  const sweepTemp = (opts.store as { sweepTemp?: (ms: number) => Promise<number> }).sweepTemp;
  if (sweepTemp && !opts.dryRun) r.tempFilesRemoved = await sweepTemp(grace);
  return r;
}

/** The report as lines for a terminal; problems (MISSING, SIZE MISMATCH, errors) are loud. */
export function formatRetentionReport(r: RetentionReport): { lines: string[]; problems: string[] } {
  const would = r.dryRun ? "would be " : "";
  const lines = [
    `${r.dryRun ? "DRY RUN — nothing was changed.\n" : ""}Stale uploads ${would}released: ${r.pendingReleased.length}`,
    `Deleted versions ${would}purged: ${r.purged.length}; held (protected): ${r.held.length}${r.elsewhere.length ? `; in another backend (run purge there): ${r.elsewhere.length}` : ""}`,
    `Orphaned objects ${would}deleted: ${r.orphansDeleted.length}; kept: ${r.orphansKept.length}`,
  ];
  for (const h of r.held) lines.push(`  held ${h.label}: ${h.reason}`);
  for (const k of r.orphansKept) lines.push(`  kept ${k.key}: ${k.reason}`);
  if (r.leftoverCopies.length)
    lines.push(`Local copies of migrated versions: ${r.leftoverCopies.length} (migrate:cloud --delete-local removes them after verifying)`);
  if (r.tempFilesRemoved) lines.push(`Temporary upload files removed: ${r.tempFilesRemoved}`);
  const problems = [
    ...r.missing.map(
      (m) => `MISSING bytes for ${m.label} (${m.key}): the version is listed but cannot be downloaded. Restore the file from a backup.`,
    ),
    ...r.sizeMismatches.map((m) => `SIZE MISMATCH for ${m.label} (${m.key}): recorded ${m.recorded} bytes, stored ${m.stored}.`),
    ...r.errors.map((e) => `ERROR ${e}`),
  ];
  return { lines, problems };
}
