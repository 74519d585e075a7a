import { defineConfig } from "vitest/config";
import path from "node:path";

// Two lanes (supabase/storage keeps them apart the same way):
//   fast         *.test.ts      — no database, no network: `npm run test:fast`, well under a minute
//   integration  *.int.test.ts  — PGlite and the Postgres server at TEST_PG_URL (each file creates
//                                 and drops its own databases)
// `vitest run` (npm run test:unit) runs both.
const shared = {
  environment: "node" as const,
  testTimeout: 60_000,
  hookTimeout: 120_000,
  server: { deps: { inline: ["server-only"] } },
  alias: { "server-only": path.resolve(import.meta.dirname, "test/server-only-stub.ts") },
};

export default defineConfig({
  resolve: { alias: { "@": path.resolve(import.meta.dirname) } },
  test: {
    // Integration files each open their own PGlite / Postgres database; two cores are the limit.
    maxWorkers: 2,
    projects: [
      {
        extends: true,
        test: {
          ...shared,
          name: "fast",
          include: ["{lib,app,components,scripts,test}/**/*.test.ts"],
          exclude: ["**/*.int.test.ts", "**/node_modules/**"],
        },
      },
      {
        extends: true,
        test: {
          ...shared,
          name: "integration",
          include: ["{lib,app,components,scripts,test}/**/*.int.test.ts"],
          globalSetup: ["test/global-setup.ts"],
        },
      },
    ],
  },
});
