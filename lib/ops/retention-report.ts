import type { RetentionReport } from "./retention";

// What `npm run purge` reads from the environment, and how its report reads in a terminal.

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

/** The report as lines for a terminal; problems (MISSING, SIZE MISMATCH, errors) are loud. */
export function formatRetentionReport(r: RetentionReport): { lines: string[]; problems: string[] } {
  const would = r.dryRun ? "would be " : "";
  const lines = [
    `${r.dryRun ? "DRY RUN — nothing was changed.\n" : ""}Stale uploads ${would}released: ${r.pendingReleased.length}; pending files of dead uploads ${would}removed: ${r.pendingBlobsRemoved.length}`,
    `Deleted versions ${would}expired: ${r.expired.length}; held (protected): ${r.held.length}`,
    `Stored files ${would}purged: ${r.purged.length}${r.elsewhere.length ? `; in another backend (run purge there): ${r.elsewhere.length}` : ""}`,
    `Orphaned objects ${would}deleted: ${r.orphansDeleted.length}; kept: ${r.orphansKept.length}`,
  ];
  for (const h of r.held) lines.push(`  held ${h.label}: ${h.reason}`);
  for (const k of r.orphansKept) lines.push(`  kept ${k.key}: ${k.reason}`);
  if (r.leftoverCopies.length)
    lines.push(`Local copies of migrated files: ${r.leftoverCopies.length} (migrate:cloud --delete-local removes them after verifying)`);
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
