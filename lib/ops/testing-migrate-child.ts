// A child process for lib/ops/migrate-kill.test.ts: runs the real migrateToCloud() with a second
// local store standing in for Supabase Storage, throttled, so the test can SIGKILL it mid-copy.
//   node --import tsx --conditions=react-server lib/ops/testing-migrate-child.ts <pglite-dir|postgres-url> <source-root> <target-root> <bytes/s>
import { openPGlite } from "@/lib/db/pglite";
import { openPostgres } from "@/lib/db/postgres";
import { createLocalBlobStore } from "@/lib/storage/adapters/local";
import { createThrottle } from "./cli";
import { migrateToCloud } from "./migrate-cloud";

async function main() {
  const [dbArg, sourceRoot, targetRoot, rate] = process.argv.slice(2);
  const db = dbArg!.startsWith("postgres") ? openPostgres(dbArg!) : await openPGlite(dbArg!);
  const r = await migrateToCloud({
    db,
    source: createLocalBlobStore({ rootDir: sourceRoot!, bucket: "ai-models" }),
    target: createLocalBlobStore({ rootDir: targetRoot!, bucket: "ai-models" }),
    throttle: createThrottle(Number(rate)),
    log: (l) => console.log(l),
  });
  await db.close();
  console.log(`done ${r.copied.length}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
