// Scripts that create Supabase clients must work on Node 20 (no native WebSocket).
import { spawnSync } from "node:child_process";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ctx, lane, title } from "./support/lane";

const ROOT = path.resolve(import.meta.dirname, "../..");

describe.skipIf(!lane)(title("scripts in supabase mode"), () => {
  it("npm run seed -- --allow-supabase creates its Supabase clients on this Node without a WebSocket error", () => {
    const c = ctx();
    const r = spawnSync(
      path.join(ROOT, "node_modules", ".bin", "tsx"),
      ["--conditions=react-server", "scripts/seed.ts", "--allow-supabase"],
      {
        cwd: ROOT,
        encoding: "utf8",
        timeout: 60_000,
        env: {
          NODE_ENV: "production",
          PATH: process.env.PATH,
          HOME: process.env.HOME,
          SUPABASE_URL: c.storageBase,
          NEXT_PUBLIC_SUPABASE_URL: c.storageBase,
          NEXT_PUBLIC_SUPABASE_ANON_KEY: c.anonKey,
          SUPABASE_SERVICE_ROLE_KEY: c.serviceKey,
          SUPABASE_JWT_SECRET: c.jwtSecret,
          // A database the seed cannot reach: this checks client creation only, and must never seed the lane's.
          DATABASE_URL: "postgres://nobody@127.0.0.1:1/none",
        },
      },
    );
    const out = `${r.stdout}\n${r.stderr}`;
    expect(out, "the script must have started").toMatch(/Seeding the demo/);
    expect(out, `Node ${process.version}`).not.toMatch(/WebSocket/i);
  });
});
