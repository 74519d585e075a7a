// npm run backup [-- --out <file>] [--max-rate <bytes/s, e.g. 50M>] [--online]
// One self-contained archive (tar) of the database and every stored object, with a manifest of
// SHA-256s. Written to <out>.partial and renamed when complete. Exit: 0 ok, 1 failed or the source
// has missing/damaged bytes (named; the archive is still written), 2 usage error or refused (the
// embedded database is in use by the running app). See docs/operations.md.
import pkg from "@/package.json";
import { createBackup } from "@/lib/ops/backup";
import { formatBytes, formatDuration, parseByteSize, parseCliArgs, Progress, runCli } from "@/lib/ops/cli";
import { defaultArchiveName } from "@/lib/ops/files";
import { EXIT, loadOpsConfig, openOpsContext, opsStore, UsageError } from "@/lib/ops/ops-env";
import { createPlatform } from "@/lib/platform/platform";

const USAGE = `Usage: npm run backup [-- --out <file.tar>] [--max-rate <size/s>] [--online]

  --out <file>       where to write the archive (default: ./fairmind-backup-<UTC time>.tar)
  --max-rate <size>  limit reading to this many bytes per second (e.g. 50M) to spare a live app
  --online           accepted in postgres/supabase mode (always online there); refused for the
                     embedded database, which serves one process: stop the app first`;

runCli("backup", async () => {
  const { values } = parseCliArgs(
    process.argv.slice(2),
    { out: { type: "string" }, "max-rate": { type: "string" }, online: { type: "boolean" } },
    USAGE,
  );
  if (values.online && createPlatform(loadOpsConfig()).traits.singleProcessDatabase) {
    throw new UsageError(
      "--online is not available for the embedded database: PGlite serves one process at a time, so a backup needs the app stopped. Stop the app, or run against DATABASE_URL (postgres mode), where backups are always online.",
    );
  }
  const out = values.out ?? defaultArchiveName();
  const ops = await openOpsContext();
  const { config, platform, db } = ops;
  const progress = new Progress("backup", 0);
  try {
    console.log(`Backing up (${platform.mode} mode) to ${out}…`);
    const report = await createBackup({
      db,
      mode: platform.mode,
      schemas: platform.traits.backupSchemas,
      bucket: config.bucket,
      store: opsStore(() => platform.blobs.atRest()),
      out,
      dataDir: platform.traits.ownsDataDir ? config.dataDir : undefined,
      maxBytesPerSecond: values["max-rate"] ? parseByteSize(values["max-rate"], "--max-rate") : undefined,
      appVersion: pkg.version,
      log: (l) => console.log(l),
      onTotal: (n) => progress.setTotal(n),
      onBytes: (n) => progress.add(n),
    });
    const rows = report.tables.reduce((n, t) => n + t.rows, 0);
    console.log(
      `Done: ${report.archive} — ${formatBytes(report.archiveBytes)}, ${report.objects} objects (${formatBytes(report.objectBytes)}), ${rows} rows in ${report.tables.length} tables, ${formatDuration(report.seconds)} (${(report.seconds / Math.max(report.archiveBytes / 1024 ** 3, 1e-9)).toFixed(1)} s/GiB).`,
    );
    if (report.problems.length) {
      console.error(`\nThe source has ${report.problems.length} problem(s) (the archive holds what was there):`);
      for (const p of report.problems) console.error(`  PROBLEM ${p}`);
      return EXIT.failed;
    }
    return EXIT.ok;
  } finally {
    await ops.close();
  }
});
