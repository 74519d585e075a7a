import "server-only";
import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import { withService } from "@/lib/db/client";
import { recordSystemAudit } from "@/lib/db/queries/audit";
import type { Database } from "@/lib/db/types";
import { isAppError } from "@/lib/errors";
import type { BlobStore } from "@/lib/storage/blob-store";

// Local -> Supabase Storage (npm run migrate:cloud). Per blob (each stored object once, however
// many version files share it), in this order:
//   1. copy the bytes to the target under the same key (skipped when the target already holds
//      exactly these bytes: a rerun copies nothing),
//   2. stream the target's copy back and compare its SHA-256 and size with the blob row,
//   3. switch the blob's storage_backend to the target in one transaction (+ a blob.migrate audit
//      event); versions whose files are all in the target are switched with it,
//   4. with deleteLocal only: delete the local bytes.
// A kill at any point leaves a state the next run finishes: a partial upload never becomes an
// object (every BlobStore put is atomic), a copied but unswitched blob is verified and switched,
// a switched blob whose local bytes remain is cleaned with deleteLocal. Purged blobs are skipped. The target is any
// BlobStore: Supabase Storage in production, a second local store in tests.

export type MigrationAction = "copy" | "verify-existing" | "delete-local";

export interface MigrationItem {
  id: string;
  key: string;
  label: string;
  size: number;
  sha256: string;
  contentType?: string;
  action: MigrationAction;
}

export interface MigrationPlan {
  items: MigrationItem[];
  /** Bytes that must be sent. */
  copyBytes: number;
  /** Bytes that must be read back for verification (copies and existing target objects). */
  verifyBytes: number;
  /** Blobs that cannot be migrated now, with why (missing local bytes, uploads in flight). */
  skipped: { key: string; label: string; reason: string }[];
}

export interface MigrationOptions {
  db: Database;
  /** The local store as the app sees it (decrypting when encryption is on): the target gets plaintext. */
  source: BlobStore;
  target: BlobStore;
  targetBackend?: "supabase";
  deleteLocal?: boolean;
  dryRun?: boolean;
  onBytes?: (n: number) => void;
  throttle?: (n: number) => Promise<void>;
  log?: (line: string) => void;
  signal?: AbortSignal;
  /** A plan from planMigration() (printed first); made afresh when absent. */
  plan?: MigrationPlan;
}

export interface MigrationReport {
  plan: MigrationPlan;
  copied: string[];
  alreadyThere: string[];
  switched: string[];
  deletedLocal: string[];
  failed: { key: string; label: string; error: string }[];
  bytesCopied: number;
  seconds: number;
}

interface Row {
  id: string;
  object_key: string;
  label: string;
  size_bytes: number;
  sha256: string;
  content_type: string | null;
  storage_backend: string;
  status: string;
}

/** What a run would do, without changing anything (also what --dry-run prints). */
export async function planMigration(
  opts: Pick<MigrationOptions, "db" | "source" | "target" | "deleteLocal" | "targetBackend">,
): Promise<MigrationPlan> {
  const backend = opts.targetBackend ?? "supabase";
  const { rows } = await opts.db.query<Row>(
    `select b.id, b.object_key, b.size_bytes, b.sha256, b.content_type, b.storage_backend, b.status,
            coalesce((select string_agg(distinct o.slug || '/' || m.slug || '@' || v.version || '/' || f.path, ', ')
                      from public.version_files f join public.model_versions v on v.id = f.version_id
                      join public.models m on m.id = v.model_id join public.organizations o on o.id = v.org_id
                      where f.blob_id = b.id), bo.slug || ' (no version)') as label
     from public.blobs b join public.organizations bo on bo.id = b.org_id
     where (b.storage_backend = 'local' or ($1 and b.storage_backend = $2)) and b.purged_at is null
     order by b.created_at, b.id`,
    [Boolean(opts.deleteLocal), backend],
  );
  const plan: MigrationPlan = { items: [], copyBytes: 0, verifyBytes: 0, skipped: [] };
  for (const r of rows) {
    if (r.status === "pending") {
      if (r.storage_backend === "local")
        plan.skipped.push({ key: r.object_key, label: r.label, reason: "upload in progress (pending); rerun later" });
      continue;
    }
    const local = await opts.source.stat(r.object_key).catch(() => null);
    const item = {
      id: r.id,
      key: r.object_key,
      label: r.label,
      size: Number(r.size_bytes),
      sha256: r.sha256,
      contentType: r.content_type ?? undefined,
    };
    if (r.storage_backend === backend) {
      // Already switched: only its leftover local copy is of interest (deleteLocal).
      if (local) {
        plan.items.push({ ...item, action: "delete-local" });
        plan.verifyBytes += item.size;
      }
      continue;
    }
    const remote = await opts.target.stat(r.object_key);
    if (remote) {
      plan.items.push({ ...item, action: "verify-existing" });
      plan.verifyBytes += item.size;
    } else if (!local) {
      plan.skipped.push({
        key: r.object_key,
        label: r.label,
        reason: "its local bytes are missing (restore them from a backup; purge reports these as MISSING)",
      });
    } else {
      plan.items.push({ ...item, action: "copy" });
      plan.copyBytes += item.size;
      plan.verifyBytes += item.size;
    }
  }
  return plan;
}

async function hashObject(store: BlobStore, key: string, onBytes?: (n: number) => void, throttle?: (n: number) => Promise<void>) {
  const got = await store.get(key);
  const h = createHash("sha256");
  let size = 0;
  for await (const c of got.stream) {
    const b = c as Buffer;
    h.update(b);
    size += b.length;
    onBytes?.(b.length);
    await throttle?.(b.length);
  }
  return { sha256: h.digest("hex"), size };
}

/** Copies, verifies and switches every locally stored blob (see the steps above). */
export async function migrateToCloud(opts: MigrationOptions): Promise<MigrationReport> {
  const started = performance.now();
  const log = opts.log ?? (() => {});
  const backend = opts.targetBackend ?? "supabase";
  const plan = opts.plan ?? (await planMigration(opts));
  const report: MigrationReport = {
    plan,
    copied: [],
    alreadyThere: [],
    switched: [],
    deletedLocal: [],
    failed: [],
    bytesCopied: 0,
    seconds: 0,
  };
  if (opts.dryRun) {
    report.seconds = (performance.now() - started) / 1000;
    return report;
  }
  for (const item of plan.items) {
    if (opts.signal?.aborted) throw opts.signal.reason ?? new Error("aborted");
    try {
      if (item.action === "copy") {
        const got = await opts.source.get(item.key);
        const counted = (async function* () {
          for await (const c of got.stream) {
            const b = c as Buffer;
            opts.onBytes?.(b.length);
            await opts.throttle?.(b.length);
            yield b;
          }
        })();
        try {
          // expectedSha256: local bytes that do not match their row are refused, nothing is kept.
          await opts.target.put(item.key, Readable.from(counted), {
            expectedSize: item.size,
            expectedSha256: item.sha256,
            contentType: item.contentType,
            signal: opts.signal,
          });
          report.copied.push(item.key);
          report.bytesCopied += item.size;
        } catch (e) {
          if (isAppError(e) && (e.code === "checksum_mismatch" || e.code === "length_mismatch")) {
            throw new Error(
              `the local bytes do not match the size/SHA-256 recorded for this blob (damaged on disk?); nothing was copied. ${e.message}`,
            );
          }
          if (!(isAppError(e) && e.code === "conflict")) throw e;
          // Appeared meanwhile (another run): verified below like any existing object.
        } finally {
          got.stream.destroy();
        }
      }
      // Verification always reads the target's copy back (and again before deleting local bytes).
      const back = await hashObject(opts.target, item.key, opts.onBytes, opts.throttle);
      if (back.sha256 !== item.sha256 || back.size !== item.size) {
        throw new Error(
          `the target holds different bytes at this key (SHA-256 ${back.sha256}, ${back.size} bytes; expected ${item.sha256}, ${item.size} bytes). It was not touched; inspect it before deleting it.`,
        );
      }
      if (item.action === "verify-existing") report.alreadyThere.push(item.key);
      if (item.action !== "delete-local") {
        await withService(opts.db, async (tx) => {
          await tx.query("set local lock_timeout = '10s'");
          const { rows } = await tx.query<{ org_id: string; model_id: string }>(
            "update public.blobs set storage_backend = $2 where id = $1 and storage_backend = 'local' and status = 'stored' returning org_id",
            [item.id, backend],
          );
          if (rows[0]) {
            await recordSystemAudit(tx, {
              orgId: rows[0].org_id,
              action: "blob.migrate",
              target: ["blob", item.id],
              details: { key: item.key, from: "local", to: backend, sha256: item.sha256, size: item.size, files: item.label },
            });
            // A version's own backend column follows once all of its files are there.
            await tx.query(
              `update public.model_versions v set storage_backend = $2
               where v.storage_backend = 'local' and v.id in (select f.version_id from public.version_files f where f.blob_id = $1)
                 and not exists (select 1 from public.version_files f join public.blobs b on b.id = f.blob_id
                                 where f.version_id = v.id and b.storage_backend <> $2)`,
              [item.id, backend],
            );
          }
        });
        report.switched.push(item.key);
      }
      if (opts.deleteLocal) {
        await opts.source.delete(item.key);
        report.deletedLocal.push(item.key);
      }
      log(
        `${item.action === "copy" ? "copied" : item.action === "verify-existing" ? "already there" : "verified"} ${item.label}${opts.deleteLocal ? " (local copy deleted)" : ""}`,
      );
    } catch (e) {
      if (opts.signal?.aborted) throw e;
      const error = (e as Error).message;
      report.failed.push({ key: item.key, label: item.label, error });
      log(`FAILED ${item.label} (${item.key}): ${error}`);
    }
  }
  report.seconds = (performance.now() - started) / 1000;
  return report;
}
