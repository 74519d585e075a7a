// npm run backup:verify -- <archive>
// Re-hashes every entry of a backup archive against its manifest. Exit: 0 intact, 1 a file failed
// (each one named), 2 usage error.
import fs from "node:fs";
import { verifyBackup } from "@/lib/ops/archive";
import { formatBytes, parseCliArgs, Progress, runCli } from "@/lib/ops/cli";
import { EXIT, UsageError } from "@/lib/ops/ops-env";

const USAGE = "Usage: npm run backup:verify -- <archive.tar>";

runCli("backup:verify", async () => {
  const { positionals } = parseCliArgs(process.argv.slice(2), {}, USAGE, true);
  if (positionals.length !== 1) throw new UsageError(USAGE);
  const file = positionals[0]!;
  if (!fs.existsSync(file) || !fs.statSync(file).isFile()) throw new UsageError(`${file}: no such file.`);
  const progress = new Progress("verify", fs.statSync(file).size);
  const report = await verifyBackup(file, { onBytes: (n) => progress.add(n) });
  if (report.ok) {
    const m = report.manifest!;
    console.log(
      `OK ${file}: ${report.entries} entries, ${formatBytes(report.bytes)} re-hashed; ${m.objects.length} objects, ${m.tables.length} tables; made ${m.created_at} in ${m.mode} mode.`,
    );
    if (m.problems.length)
      console.log(`Note: the backup recorded ${m.problems.length} problem(s) in its source; see manifest.json "problems".`);
    return EXIT.ok;
  }
  console.error(`FAILED ${file}: ${report.failures.length} problem(s)`);
  for (const f of report.failures) console.error(`  ${f.name}: ${f.problem}`);
  return EXIT.failed;
});
