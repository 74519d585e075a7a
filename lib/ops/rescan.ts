import "server-only";
import { withService } from "@/lib/db/client";
import { recordSystemAudit } from "@/lib/db/queries/audit";
import { updateBlobScan, type BlobFinding } from "@/lib/db/queries/blobs";
import type { Database } from "@/lib/db/types";
import { createInspector } from "@/lib/inspect/inspect";
import type { BlobStore } from "@/lib/storage/blob-store";
import { blobContent, fileRole, locatedFindings, worstVerdict } from "@/lib/storage/version-content";

export interface RescanChange {
  /** The version, as org/model@version. */
  key: string;
  from: string;
  to: string;
  status: string;
  aliases: string[];
}

export interface RescanSummary {
  /** Stored blobs re-inspected (each once, however many versions share it). */
  scanned: number;
  /** Blobs whose verdict changed. */
  blobsChanged: number;
  /** Versions whose verdict or status changed. */
  changed: RescanChange[];
  /** Blobs that could not be read (key: the object key). */
  failed: { key: string; error: string }[];
}

interface BlobScan {
  verdict: string;
  findings: BlobFinding[];
}

/**
 * Re-inspects stored blobs after the scanner's rules changed (an admin tool: the service connection,
 * never a user request), then re-derives each version's verdict as the worst of its files' (as a
 * commit does). A version now found dangerous is quarantined; a quarantined one found clean is released
 * only with `release` (that stays a human decision). Every version change is audited.
 */
export async function rescanVersions(
  db: Database,
  store: BlobStore,
  opts: { org?: string; dryRun?: boolean; release?: boolean; log?: (line: string) => void } = {},
): Promise<RescanSummary> {
  const log = opts.log ?? (() => {});
  const summary: RescanSummary = { scanned: 0, blobsChanged: 0, changed: [], failed: [] };
  const { rows: blobs } = await db.query<{
    id: string;
    object_key: string;
    path: string;
    size_bytes: number;
    sha256: string;
    scan_verdict: string;
  }>(
    `select b.id, b.object_key, b.size_bytes, b.sha256, b.scan_verdict,
            (select min(f.path) from public.version_files f where f.blob_id = b.id) as path
     from public.blobs b join public.organizations o on o.id = b.org_id
     where b.status = 'stored' and b.purged_at is null and ($1::text is null or o.slug = $1)
       and exists (select 1 from public.version_files f join public.model_versions v on v.id = f.version_id
                   where f.blob_id = b.id and v.status in ('ready', 'quarantined'))
     order by b.created_at, b.id`,
    [opts.org ?? null],
  );
  // What this run found, by blob (a dry run writes nothing, so versions are judged from this).
  const found = new Map<string, BlobScan>();
  for (const b of blobs) {
    try {
      const size = Number(b.size_bytes);
      const inspector = createInspector({
        fileName: b.path.slice(b.path.lastIndexOf("/") + 1),
        size,
        readRange: async (start, end) => {
          if (end <= start) return new Uint8Array(0);
          const chunks: Buffer[] = [];
          for await (const c of (await store.get(b.object_key, { range: { start, end: end - 1 } })).stream) chunks.push(c as Buffer);
          return Buffer.concat(chunks);
        },
      });
      for await (const chunk of (await store.get(b.object_key)).stream) inspector.write(chunk as Buffer);
      const r = await inspector.end();
      summary.scanned++;
      const content = blobContent(b.path, r, size, b.sha256);
      // A model file the new rules cannot read to the end is not safe; it stays stored, flagged.
      const verdict = fileRole(r, b.path) === "invalid" ? "suspicious" : content.verdict;
      found.set(b.id, { verdict, findings: content.findings });
      if (verdict === b.scan_verdict) continue;
      summary.blobsChanged++;
      log(`${b.object_key} (${b.path}): ${b.scan_verdict} -> ${verdict}`);
      if (!opts.dryRun)
        await withService(db, (tx) =>
          updateBlobScan(tx, b.id, {
            verdict: verdict as "safe" | "suspicious" | "dangerous",
            findings: content.findings,
            format: content.format,
            framework: content.framework,
            metadata: content.metadata,
          }),
        );
    } catch (e) {
      summary.failed.push({ key: b.object_key, error: (e as Error).message });
      log(`${b.object_key}: FAILED ${(e as Error).message}`);
    }
  }

  // Versions: the worst verdict of their files, as completeCommit computes it.
  const { rows: versions } = await db.query<{
    id: string;
    org_id: string;
    model_id: string;
    version: string;
    label: string;
    status: string;
    scan_verdict: string;
    aliases: string[];
    files: { blob_id: string; path: string; verdict: string; findings: BlobFinding[] }[];
  }>(
    `select v.id, v.org_id, v.model_id, v.version, v.status, v.scan_verdict, o.slug || '/' || m.slug || '@' || v.version as label,
            coalesce((select array_agg(a.alias) from public.model_aliases a where a.version_id = v.id), '{}') as aliases,
            (select json_agg(json_build_object('blob_id', f.blob_id, 'path', f.path, 'verdict', b.scan_verdict, 'findings', b.scan_findings) order by f.path)
             from public.version_files f join public.blobs b on b.id = f.blob_id where f.version_id = v.id) as files
     from public.model_versions v join public.models m on m.id = v.model_id join public.organizations o on o.id = v.org_id
     where v.status in ('ready', 'quarantined') and ($1::text is null or o.slug = $1)
       and exists (select 1 from public.version_files f where f.version_id = v.id and f.blob_id = any($2::uuid[]))
     order by v.created_at`,
    [opts.org ?? null, [...found.keys()]],
  );
  for (const v of versions) {
    const files = (v.files ?? []).map((f) => ({ ...f, ...(found.get(f.blob_id) ?? {}) }));
    const verdict = worstVerdict(files.map((f) => f.verdict));
    let status = v.status;
    if (verdict === "dangerous") status = "quarantined";
    else if (v.status === "quarantined" && opts.release) status = "ready";
    if (verdict === v.scan_verdict && status === v.status) continue;
    const change = { key: v.label, from: `${v.scan_verdict}/${v.status}`, to: `${verdict}/${status}`, status, aliases: v.aliases };
    summary.changed.push(change);
    log(
      `${v.label}: ${change.from} -> ${change.to}${v.aliases.length && status === "quarantined" ? ` (WARNING: still aliased as ${v.aliases.join(", ")})` : ""}`,
    );
    if (opts.dryRun) continue;
    await withService(db, async (tx) => {
      await tx.query(
        `update public.model_versions set scan_verdict = $2, scan_findings = $3, scanned_at = now(), status = $4 where id = $1`,
        [v.id, verdict, JSON.stringify(locatedFindings(files.map((f) => ({ path: f.path, findings: f.findings })))), status],
      );
      await recordSystemAudit(tx, {
        orgId: v.org_id,
        action: "version.rescan",
        target: ["model_version", v.id],
        modelId: v.model_id,
        versionId: v.id,
        details: { version: v.version, from: change.from, to: change.to },
      });
    });
  }
  return summary;
}
