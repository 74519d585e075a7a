// npm run rescan [-- --org <slug>] [--dry-run] [--release]
// Re-inspects every stored file (blob, once however many versions share it) with the current scanner
// rules, then re-derives each version's verdict from its files'. Newly dangerous versions are
// quarantined; quarantined versions found clean are released only with --release. Every change is
// audited. Exit codes: 0 done (changes are printed), 1 some files could not be read, 2 usage error.
// Embedded mode: stop the app first (the database directory is locked to one process).
import { parseCliArgs, runCli } from "@/lib/ops/cli";
import { EXIT, openOpsContext, opsStore } from "@/lib/ops/ops-env";
import { rescanVersions } from "@/lib/ops/rescan";

const USAGE = `Usage: npm run rescan [-- --org <slug>] [--dry-run] [--release]

  --org <slug>  only this organization's versions
  --dry-run     report what would change; write nothing
  --release     also release quarantined versions the current rules find clean (a human decision)`;

runCli("rescan", async () => {
  const { values } = parseCliArgs(
    process.argv.slice(2),
    { org: { type: "string" }, "dry-run": { type: "boolean" }, release: { type: "boolean" } },
    USAGE,
  );
  const ops = await openOpsContext({ migrate: true });
  try {
    const s = await rescanVersions(
      ops.db,
      opsStore(() => ops.platform.blobs.admin()),
      {
        org: values.org,
        dryRun: values["dry-run"],
        release: values.release,
        log: (l) => console.log(l),
      },
    );
    console.log(
      `\n${s.scanned} stored file(s) scanned (${s.blobsChanged} with a new verdict), ${s.changed.length} version(s) changed${values["dry-run"] ? " (dry run: nothing written)" : ""}, ${s.failed.length} could not be read.`,
    );
    return s.failed.length ? EXIT.failed : EXIT.ok;
  } finally {
    await ops.close();
  }
});
