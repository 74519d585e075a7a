// npm run restore -- <archive> [--data-dir <dir>] [--database-url <url> [--skip-migrate]]
// Restores a backup into an EMPTY data directory (default: DATA_DIR): the archive is verified
// entry by entry while extracting, the database loaded, row counts checked, and only then the
// directory appears. With --database-url the metadata goes into that (empty) Postgres database and
// the bytes into <data-dir>/storage. Exit: 0 ok, 1 the archive failed verification (nothing
// restored), 2 usage error or refused (target not empty).
import fs from "node:fs";
import path from "node:path";
import { formatBytes, formatDuration, parseCliArgs, Progress, runCli } from "@/lib/ops/cli";
import { EXIT, loadOpsConfig, UsageError } from "@/lib/ops/ops-env";
import { openAnsweringPostgres } from "@/lib/platform/admin-db";
import { isAppError } from "@/lib/errors";
import { restoreBackup, RestoreVerificationError } from "@/lib/ops/restore";
import { migrate } from "@/lib/db/migrate";

const USAGE = `Usage: npm run restore -- <archive.tar> [--data-dir <dir>] [--database-url <url> [--skip-migrate]]

  --data-dir <dir>      an empty or new directory (default: DATA_DIR, i.e. ${process.env.DATA_DIR ?? ".data"})
  --database-url <url>  restore the metadata into this empty Postgres database (schema applied first)
  --skip-migrate        the target's schema is already in place (e.g. a Supabase project after db push)`;

runCli("restore", async () => {
  const { values, positionals } = parseCliArgs(
    process.argv.slice(2),
    { "data-dir": { type: "string" }, "database-url": { type: "string" }, "skip-migrate": { type: "boolean" } },
    USAGE,
    true,
  );
  if (positionals.length !== 1) throw new UsageError(USAGE);
  const archive = positionals[0]!;
  if (!fs.existsSync(archive) || !fs.statSync(archive).isFile()) throw new UsageError(`${archive}: no such file.`);
  const dataDir = path.resolve(values["data-dir"] ?? loadOpsConfig().dataDir);
  const database = values["database-url"]
    ? await openAnsweringPostgres(values["database-url"]).catch((e) => {
        throw isAppError(e) ? new UsageError(e.message) : e;
      })
    : undefined;
  try {
    if (database && !values["skip-migrate"]) await migrate(database);
    const progress = new Progress("restore", fs.statSync(archive).size);
    console.log(`Restoring ${archive} into ${dataDir}${database ? " (metadata into the given database)" : ""}…`);
    const r = await restoreBackup({ archive, dataDir, database, log: (l) => console.log(l), onBytes: (n) => progress.add(n) });
    const rows = Object.values(r.tables).reduce((a, b) => a + b, 0);
    console.log(
      `Done in ${formatDuration(r.seconds)}: ${r.objects} objects (${formatBytes(r.objectBytes)}), ${rows} rows (${r.database}). Start the app with DATA_DIR=${r.dataDir}${database ? " and that DATABASE_URL" : ""}.`,
    );
    return EXIT.ok;
  } catch (e) {
    if (e instanceof RestoreVerificationError) {
      console.error(e.message);
      return EXIT.failed;
    }
    throw e;
  } finally {
    await database?.close();
  }
});
