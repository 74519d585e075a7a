// npm run seed [-- --reset] [--allow-supabase]
// Creates (or with --reset re-creates) the demo organizations, users and models. Refuses to touch a
// Supabase project unless --allow-supabase is given. In the embedded mode, stop the app first: the
// database directory is locked to one process (you get a clear error otherwise).
import { DEMO_PASSWORD, DEMO_USERS, markDemoSeeded, removeDemo, seedDemo } from "@/lib/demo/seed";
import { parseCliArgs, runCli } from "@/lib/ops/cli";
import { EXIT, openOpsContext, UsageError } from "@/lib/ops/ops-env";
import { createServices } from "@/lib/services/services";

const USAGE = `Usage: npm run seed [-- --reset] [--allow-supabase]

  --reset           remove the demo organizations, users and files first
  --allow-supabase  required to seed a Supabase project (users through the Auth admin API)`;

runCli("seed", async () => {
  const { values } = parseCliArgs(process.argv.slice(2), { reset: { type: "boolean" }, "allow-supabase": { type: "boolean" } }, USAGE);
  const ops = await openOpsContext({ migrate: true, allowCreate: true });
  const { platform, db } = ops;
  try {
    if (platform.uploads.backend === "supabase" && !values["allow-supabase"]) {
      throw new UsageError("Refusing to seed a Supabase project. Pass --allow-supabase if you really mean it.");
    }
    console.log(`Seeding the demo (${platform.label})…`);
    const services = createServices(platform, db);
    if (values.reset) {
      const keys = await removeDemo(services);
      const store = platform.blobs.admin();
      for (const key of keys) await store.delete(key);
      console.log(`Removed the previous demo (${keys.length} stored files).`);
    }
    await seedDemo(services, (m) => console.log(m));
    await markDemoSeeded(db);
    console.log("\nDemo accounts (password for all: %s):", DEMO_PASSWORD);
    for (const u of DEMO_USERS)
      console.log(
        `  ${u.email.padEnd(20)} ${Object.entries(u.roles)
          .map(([o, r]) => `${r} of ${o}`)
          .join(", ")}`,
      );
    return EXIT.ok;
  } finally {
    await ops.close();
  }
});
