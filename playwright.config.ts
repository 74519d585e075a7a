import { defineConfig, devices } from "@playwright/test";

// E2E in Debian's Chromium (no browser downloads here), against a production build of the app on
// its own port and its own embedded data directory, created fresh (with the demo) for every run.
const PORT = Number(process.env.E2E_PORT ?? 3100);
const baseURL = `http://127.0.0.1:${PORT}`;
// The same REST specs also run against a second server in postgres mode (DATABASE_URL), with a fresh
// database on the local Postgres server and the demo seeded by `npm run seed`.
const PG_PORT = PORT + 1;
const PG_URL = `http://127.0.0.1:${PG_PORT}`;
const PG_DB = process.env.E2E_PG_DB ?? "fairmind_e2e";
const PG_ADMIN = process.env.TEST_PG_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const PG_DATABASE_URL = PG_ADMIN.replace(/\/[^/]*$/, `/${PG_DB}`);
const HOSTILE_DIR = /[\\/]hostile[\\/]/;
const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

export default defineConfig({
  testDir: "e2e",
  outputDir: "test-results",
  forbidOnly: !!process.env.CI,
  retries: process.env.CI ? 1 : 0,
  workers: 1,
  timeout: 60_000,
  reporter: process.env.CI ? [["list"]] : [["list"], ["html", { open: "never" }]],
  use: {
    baseURL,
    trace: "retain-on-failure",
    screenshot: "only-on-failure",
    launchOptions: { executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium", args: CHROMIUM_ARGS },
  },
  projects: [
    { name: "setup", testMatch: /.*\.setup\.ts/, testIgnore: HOSTILE_DIR },
    {
      name: "chromium",
      testIgnore: [/screenshots\.spec\.ts/, HOSTILE_DIR],
      use: { ...devices["Desktop Chrome"], viewport: { width: 1366, height: 860 } },
      dependencies: ["setup"],
    },
    { name: "api-postgres", testMatch: /api\.spec\.ts/, testIgnore: HOSTILE_DIR, use: { baseURL: PG_URL } },
    // The hostile-input suite (issue 10, e2e/hostile): REST and raw HTTP, no browser, against both
    // servers. Its setup signs the demo users in once per server; metadata tells a spec which server
    // it talks to (and that server's DATA_DIR, as the webServer commands below set it).
    {
      name: "hostile-embedded-setup",
      testMatch: /[\\/]hostile[\\/][^\\/]+\.setup\.ts$/,
      metadata: { mode: "embedded", dataDir: ".data-e2e" },
    },
    {
      name: "hostile-embedded",
      testMatch: /[\\/]hostile[\\/][^\\/]+\.spec\.ts$/,
      metadata: { mode: "embedded", dataDir: ".data-e2e" },
      dependencies: ["hostile-embedded-setup"],
    },
    {
      name: "hostile-postgres-setup",
      testMatch: /[\\/]hostile[\\/][^\\/]+\.setup\.ts$/,
      use: { baseURL: PG_URL },
      metadata: { mode: "postgres", dataDir: ".data-e2e-pg" },
    },
    {
      name: "hostile-postgres",
      testMatch: /[\\/]hostile[\\/][^\\/]+\.spec\.ts$/,
      use: { baseURL: PG_URL },
      metadata: { mode: "postgres", dataDir: ".data-e2e-pg" },
      dependencies: ["hostile-postgres-setup"],
    },
    // npm run screenshots: refreshes docs/screenshots/ (not part of npm test).
    ...(process.env.SCREENSHOTS
      ? [{ name: "screenshots", testMatch: /screenshots\.spec\.ts/, use: { ...devices["Desktop Chrome"] }, dependencies: ["setup"] }]
      : []),
  ],
  webServer: [
    {
      command: `rm -rf .data-e2e && DATA_DIR=.data-e2e WEBHOOKS_ALLOW_PRIVATE=true WEBHOOKS_RETRY_BASE_MS=1500 WEBHOOKS_POLL_MS=300 PORT=${PORT} npm run start`,
      url: `${baseURL}/api/health`,
      reuseExistingServer: !process.env.CI,
      timeout: 180_000,
      stdout: "pipe",
      stderr: "pipe",
    },
    {
      command:
        `psql "${PG_ADMIN}" -q -c "drop database if exists ${PG_DB} with (force)" -c "create database ${PG_DB}" && rm -rf .data-e2e-pg && ` +
        `DATABASE_URL=${PG_DATABASE_URL} DATA_DIR=.data-e2e-pg npm run seed && ` +
        `DATABASE_URL=${PG_DATABASE_URL} DATA_DIR=.data-e2e-pg WEBHOOKS_ALLOW_PRIVATE=true WEBHOOKS_RETRY_BASE_MS=1500 WEBHOOKS_POLL_MS=300 PORT=${PG_PORT} npm run start`,
      url: `${PG_URL}/api/health`,
      reuseExistingServer: !process.env.CI,
      timeout: 180_000,
      stdout: "pipe",
      stderr: "pipe",
    },
  ],
});
