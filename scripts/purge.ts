// npm run purge [-- --dry-run] [--json]
// Retention and clean-up (lib/ops/retention.ts), per stored file (blob): soft-deleted versions older
// than RETENTION_DAYS (default 30), except protected ones (PROTECTED_ALIASES, default production),
// stop holding bytes; a blob no unexpired version references loses its bytes (unreferenced blobs count
// from when they were released). Also releases uploads pending for more than 24 h, deletes orphaned
// bytes older than an hour, and reports ready versions' files whose bytes are missing. Exit: 0 ok, 1
// something is MISSING / mismatched / failed, 2 usage error or refused (the embedded database is in
// use by the running app).
import { parseCliArgs, runCli } from "@/lib/ops/cli";
import { EXIT, openOpsContext, opsStore } from "@/lib/ops/ops-env";
import { runRetention } from "@/lib/ops/retention";
import { formatRetentionReport } from "@/lib/ops/retention-report";

const USAGE = `Usage: npm run purge [-- --dry-run] [--json]

  --dry-run  report what would be purged, released and deleted; change nothing
  --json     print the full report as JSON (for monitoring)

  RETENTION_DAYS     days a soft-deleted version (or an unreferenced file) is kept (default 30)
  PROTECTED_ALIASES  comma-separated aliases whose versions are never purged (default production)`;

runCli("purge", async () => {
  const { values } = parseCliArgs(process.argv.slice(2), { "dry-run": { type: "boolean" }, json: { type: "boolean" } }, USAGE);
  const ops = await openOpsContext({ migrate: true });
  const { config, platform, db } = ops;
  const settings = { retentionDays: config.retention.days, protectedAliases: config.retention.protectedAliases };
  try {
    const report = await runRetention({
      db,
      store: opsStore(() => platform.blobs.admin()),
      backend: platform.uploads.backend,
      bucket: config.bucket,
      ...settings,
      dryRun: Boolean(values["dry-run"]),
      log: values.json ? undefined : (l) => console.log(l),
    });
    const { lines, problems } = formatRetentionReport(report);
    if (values.json) console.log(JSON.stringify({ ...report, problems }, null, 2));
    else {
      console.log(`\nRetention: ${settings.retentionDays} days; protected aliases: ${settings.protectedAliases.join(", ") || "(none)"}`);
      for (const l of lines) console.log(l);
    }
    for (const p of problems) console.error(p);
    return problems.length ? EXIT.failed : EXIT.ok;
  } finally {
    await ops.close();
  }
});
