import "server-only";
import { withService } from "@/lib/db/client";
import { recordSystemAudit } from "@/lib/db/queries/audit";
import type { Database } from "@/lib/db/types";
import { createInspector } from "@/lib/inspect/inspect";
import type { BlobStore } from "@/lib/storage/blob-store";

export interface RescanChange {
  key: string;
  from: string;
  to: string;
  status: string;
  aliases: string[];
}

export interface RescanSummary {
  scanned: number;
  changed: RescanChange[];
  failed: { key: string; error: string }[];
}

/**
 * Re-inspects stored versions after the scanner's rules changed (an admin tool: the service
 * connection, never a user request). A version now found dangerous is quarantined; a quarantined one
 * found clean is released only with `release` (that stays a human decision). Every change is audited.
 */
export async function rescanVersions(
  db: Database,
  store: BlobStore,
  opts: { org?: string; dryRun?: boolean; release?: boolean; log?: (line: string) => void } = {},
): Promise<RescanSummary> {
  const log = opts.log ?? (() => {});
  const rows = await withService(db, async (tx) => {
    const { rows } = await tx.query<{
      id: string;
      org_id: string;
      model_id: string;
      version: string;
      object_key: string;
      file_name: string;
      size_bytes: number;
      status: string;
      scan_verdict: string;
      aliases: string[];
    }>(
      `select v.id, v.org_id, v.model_id, v.version, v.object_key, v.file_name, v.size_bytes, v.status, v.scan_verdict,
              coalesce((select array_agg(a.alias) from public.model_aliases a where a.version_id = v.id), '{}') as aliases
       from public.model_versions v join public.organizations o on o.id = v.org_id
       where v.status in ('ready', 'quarantined') and ($1::text is null or o.slug = $1)
       order by v.created_at`,
      [opts.org ?? null],
    );
    return rows;
  });
  const summary: RescanSummary = { scanned: 0, changed: [], failed: [] };
  for (const v of rows) {
    try {
      const inspector = createInspector({
        fileName: v.file_name || v.object_key,
        size: v.size_bytes,
        readRange: async (start, end) => {
          if (end <= start) return new Uint8Array(0);
          const chunks: Buffer[] = [];
          for await (const c of (await store.get(v.object_key, { range: { start, end: end - 1 } })).stream) chunks.push(c as Buffer);
          return Buffer.concat(chunks);
        },
      });
      for await (const chunk of (await store.get(v.object_key)).stream) inspector.write(chunk as Buffer);
      const r = await inspector.end();
      summary.scanned++;
      // A file the new rules cannot read to the end is not safe; it stays stored, flagged.
      const verdict = r.verdict === "invalid" ? "suspicious" : r.verdict;
      let status = v.status;
      if (verdict === "dangerous") status = "quarantined";
      else if (v.status === "quarantined" && opts.release) status = "ready";
      if (verdict === v.scan_verdict && status === v.status) continue;
      const change = { key: v.object_key, from: `${v.scan_verdict}/${v.status}`, to: `${verdict}/${status}`, status, aliases: v.aliases };
      summary.changed.push(change);
      log(
        `${v.object_key}: ${change.from} -> ${change.to}${v.aliases.length && status === "quarantined" ? ` (WARNING: still aliased as ${v.aliases.join(", ")})` : ""}`,
      );
      if (opts.dryRun) continue;
      const metadata = {
        ...r.metadata,
        ...(r.globals.length ? { pickle_globals: r.globals } : {}),
        ...(r.extensionMismatch ? { extension_mismatch: true } : {}),
      };
      await withService(db, async (tx) => {
        await tx.query(
          `update public.model_versions set scan_verdict = $2, scan_findings = $3, metadata = $4, scanned_at = now(), status = $5 where id = $1`,
          [v.id, verdict, JSON.stringify(r.findings), JSON.stringify(metadata), status],
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
    } catch (e) {
      summary.failed.push({ key: v.object_key, error: (e as Error).message });
      log(`${v.object_key}: FAILED ${(e as Error).message}`);
    }
  }
  return summary;
}
