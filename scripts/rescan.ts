// npm run rescan [-- --org <slug>] [--dry-run] [--release]
// Re-inspects every stored version with the current scanner rules. Newly dangerous versions are
// quarantined; quarantined versions found clean are released only with --release. Every change is
// audited. Exit codes: 0 done (changes are printed), 1 some files could not be read, 2 usage error.
// Embedded mode: stop the app first (the database directory is locked to one process).
import { parseConfig } from "@/lib/config";
import { openDatabase } from "@/lib/db/client";
import { createBlobStore } from "@/lib/storage/create-blob-store";
import { createConfiguredLocalStore } from "@/lib/storage/service";
import { rescanVersions } from "@/lib/storage/rescan";

async function main() {
  const args = process.argv.slice(2);
  const known = new Set(["--dry-run", "--release", "--org"]);
  const bad = args.filter((a, i) => a.startsWith("--") && !known.has(a) && args[i - 1] !== "--org");
  if (bad.length) {
    console.error(`Unknown option ${bad[0]}. Usage: npm run rescan -- [--org <slug>] [--dry-run] [--release]`);
    process.exit(2);
  }
  const org = args.includes("--org") ? args[args.indexOf("--org") + 1] : undefined;
  const config = { ...parseConfig(process.env), seedDemo: "never" as const };
  let db;
  try {
    db = await openDatabase(config);
  } catch (e) {
    console.error((e as Error).message);
    process.exit(2);
  }
  const store =
    config.mode === "supabase"
      ? createBlobStore({
          kind: "supabase",
          url: config.supabase!.url,
          anonKey: config.supabase!.anonKey,
          accessToken: process.env.SUPABASE_SERVICE_ROLE_KEY ?? "",
          bucket: config.bucket,
        })
      : createConfiguredLocalStore(config);
  try {
    const s = await rescanVersions(db, store, {
      org,
      dryRun: args.includes("--dry-run"),
      release: args.includes("--release"),
      log: (l) => console.log(l),
    });
    console.log(
      `\n${s.scanned} version(s) scanned, ${s.changed.length} changed${args.includes("--dry-run") ? " (dry run: nothing written)" : ""}, ${s.failed.length} could not be read.`,
    );
    process.exitCode = s.failed.length ? 1 : 0;
  } finally {
    await db.close();
  }
}

main().catch((e) => {
  console.error(`Rescan failed: ${(e as Error).message}`);
  process.exit(1);
});
