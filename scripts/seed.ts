// npm run seed [-- --reset] [--allow-supabase]
// Creates (or with --reset re-creates) the demo organizations, users and models. Refuses to touch a
// Supabase project unless --allow-supabase is given. In the embedded mode, stop the app first: the
// database directory is locked to one process (you get a clear error otherwise).
import { parseConfig } from "@/lib/config";
import { openDatabase } from "@/lib/db/client";
import { DEMO_PASSWORD, DEMO_USERS, markDemoSeeded, removeDemo, seedDemo } from "@/lib/demo/seed";
import { createConfiguredLocalStore } from "@/lib/storage/service";

async function main() {
  const args = new Set(process.argv.slice(2));
  const config = { ...parseConfig(process.env), seedDemo: "never" as const };
  if (config.mode === "supabase" && !args.has("--allow-supabase")) {
    console.error(`Refusing to seed the Supabase project at ${config.supabase?.url}. Pass --allow-supabase if you really mean it.`);
    process.exit(2);
  }
  console.log(
    `Seeding the demo (${config.mode} mode, data in ${config.mode === "embedded" ? config.dataDir : "the configured database"})…`,
  );
  const db = await openDatabase(config);
  try {
    if (args.has("--reset")) {
      const keys = await removeDemo(db);
      if (config.mode !== "supabase") {
        const store = createConfiguredLocalStore(config);
        for (const key of keys) await store.delete(key);
      }
      console.log(`Removed the previous demo (${keys.length} stored files).`);
    }
    await seedDemo(db, config, (m) => console.log(m));
    if (config.mode !== "supabase") await markDemoSeeded(db);
    console.log("\nDemo accounts (password for all: %s):", DEMO_PASSWORD);
    for (const u of DEMO_USERS)
      console.log(
        `  ${u.email.padEnd(20)} ${Object.entries(u.roles)
          .map(([o, r]) => `${r} of ${o}`)
          .join(", ")}`,
      );
  } finally {
    await db.close();
  }
}

main().catch((e) => {
  console.error(`Seeding failed: ${(e as Error).message}`);
  process.exit(1);
});
