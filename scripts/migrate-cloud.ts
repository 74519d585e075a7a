// npm run migrate:cloud -- --to supabase [--dry-run] [--delete-local] [--max-rate <size/s>]
// Copies every locally stored file (a blob: each stored object once, however many versions share it)
// to the Supabase Storage bucket under the same key, reads each copy back to compare its SHA-256,
// then switches the blob to storage_backend='supabase'.
// Idempotent and resumable (rerun after a kill). Needs SUPABASE_URL + SUPABASE_SERVICE_ROLE_KEY.
// Exit: 0 ok, 1 some files failed or have no local bytes (listed), 2 usage error or refused.
import { formatBytes, formatDuration, parseByteSize, parseCliArgs, Progress, createThrottle, runCli } from "@/lib/ops/cli";
import { migrateToCloud, planMigration } from "@/lib/ops/migrate-cloud";
import { EXIT, openOpsContext, serviceSupabaseStore, UsageError } from "@/lib/ops/ops-env";

const USAGE = `Usage: npm run migrate:cloud -- --to supabase [--dry-run] [--delete-local] [--max-rate <size/s>]

  --to supabase    required: the target (with SUPABASE_URL and SUPABASE_SERVICE_ROLE_KEY set)
  --dry-run        print the plan (what would be copied, verified, skipped); change nothing
  --delete-local   after verifying each copy (again), delete the local bytes. Only once the app runs
                   in supabase mode: in the local modes the app reads bytes from local disk
  --max-rate <s>   limit transfer to this many bytes per second (e.g. 20M)`;

const SHOW = 50;

runCli("migrate:cloud", async () => {
  const { values } = parseCliArgs(
    process.argv.slice(2),
    { to: { type: "string" }, "dry-run": { type: "boolean" }, "delete-local": { type: "boolean" }, "max-rate": { type: "string" } },
    USAGE,
  );
  if (values.to !== "supabase") {
    throw new UsageError(
      `Refusing to run without an explicit target: pass --to supabase${values.to ? ` (not ${JSON.stringify(values.to)})` : ""}.\n\n${USAGE}`,
    );
  }
  if (!process.env.SUPABASE_URL?.trim() || !process.env.SUPABASE_SERVICE_ROLE_KEY?.trim()) {
    throw new UsageError("Refusing to run: set SUPABASE_URL and SUPABASE_SERVICE_ROLE_KEY (the target project) in the environment.");
  }
  const deleteLocal = Boolean(values["delete-local"]);
  const maxRate = values["max-rate"] ? parseByteSize(values["max-rate"], "--max-rate") : undefined;
  const ops = await openOpsContext({ migrate: true });
  const { config, platform, db } = ops;
  try {
    if (deleteLocal && platform.uploads.backend !== "supabase") {
      throw new UsageError(
        `--delete-local refused: this environment is in ${platform.mode} mode, where the app reads model bytes from local disk. Migrate first, switch the app to supabase mode (SUPABASE_URL, NEXT_PUBLIC_SUPABASE_ANON_KEY, DATABASE_URL), then rerun with --delete-local: it verifies every copy again before deleting.`,
      );
    }
    const source = platform.blobs.local();
    const target = serviceSupabaseStore(process.env, config.bucket);
    const ping = await target.ping();
    if (!ping.ok) throw new UsageError(`Supabase Storage is not reachable at ${process.env.SUPABASE_URL}: ${ping.detail ?? "no detail"}`);
    const plan = await planMigration({ db, source, target, deleteLocal });
    const count = (a: string) => plan.items.filter((i) => i.action === a).length;
    console.log(
      `Plan (${platform.mode} mode → bucket ${config.bucket} at ${process.env.SUPABASE_URL}): copy ${count("copy")} files (${formatBytes(plan.copyBytes)}), verify ${count("verify-existing")} already in the bucket${deleteLocal ? `, delete ${count("delete-local")} local copies of migrated files` : ""}; skip ${plan.skipped.length}.`,
    );
    for (const i of plan.items.slice(0, SHOW))
      console.log(`  ${i.action.padEnd(15)} ${i.label.padEnd(40)} ${formatBytes(i.size).padStart(10)}  ${i.key}`);
    if (plan.items.length > SHOW) console.log(`  … and ${plan.items.length - SHOW} more`);
    for (const s of plan.skipped) console.log(`  skip            ${s.label}: ${s.reason}`);
    const missing = plan.skipped.filter((s) => !/pending/.test(s.reason)).length;
    if (values["dry-run"]) {
      console.log("DRY RUN — nothing was changed.");
      return missing ? EXIT.failed : EXIT.ok;
    }
    const progress = new Progress("migrate:cloud", plan.copyBytes + plan.verifyBytes);
    const r = await migrateToCloud({
      db,
      source,
      target,
      plan,
      deleteLocal,
      throttle: createThrottle(maxRate),
      onBytes: (n) => progress.add(n),
      log: (l) => console.log(l),
    });
    console.log(
      `\nDone in ${formatDuration(r.seconds)}: copied ${r.copied.length} (${formatBytes(r.bytesCopied)}, ${formatBytes(r.bytesCopied / Math.max(r.seconds, 0.001))}/s), already there ${r.alreadyThere.length}, switched ${r.switched.length}, local copies deleted ${r.deletedLocal.length}, failed ${r.failed.length}, skipped ${plan.skipped.length}.`,
    );
    for (const f of r.failed) console.error(`FAILED ${f.label} (${f.key}): ${f.error}`);
    if (r.failed.length) console.error("Fix the failures above and rerun: finished files are skipped.");
    return r.failed.length || missing ? EXIT.failed : EXIT.ok;
  } finally {
    await ops.close();
  }
});
