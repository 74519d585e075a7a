import { defineConfig } from "vitest/config";
import path from "node:path";
import { APP_NODE_OPTIONS } from "./lib/http/server-process";

// The real-Supabase lane (npm run test:supabase): the app's production build in supabase mode against
// a real Supabase Storage server. Its files are test/supabase/*.lane.ts, never picked up by `npm test`.
export default defineConfig({
  resolve: { alias: { "@": path.resolve(import.meta.dirname) } },
  test: {
    include: ["test/supabase/**/*.lane.ts"],
    environment: "node",
    globalSetup: ["test/supabase/global-setup.ts"],
    testTimeout: 120_000,
    hookTimeout: 600_000,
    // One app, one Storage server, two cores: files run one after another.
    fileParallelism: false,
    maxWorkers: 1,
    // The tests are the clients that move the lane's gigabytes: started like the app
    // (lib/http/server-process.ts), or their own garbage collection swings the throughput samples.
    execArgv: [APP_NODE_OPTIONS],
    server: { deps: { inline: ["server-only"] } },
    alias: { "server-only": path.resolve(import.meta.dirname, "test/server-only-stub.ts") },
  },
});
