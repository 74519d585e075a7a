import { defineConfig, devices } from "@playwright/test";

// E2E in Debian's Chromium (no browser downloads here), against a production build of the app on
// its own port and its own embedded data directory, created fresh (with the demo) for every run.
const PORT = Number(process.env.E2E_PORT ?? 3100);
const baseURL = `http://127.0.0.1:${PORT}`;
const CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"];

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
    { name: "setup", testMatch: /.*\.setup\.ts/ },
    { name: "chromium", testIgnore: /screenshots\.spec\.ts/, use: { ...devices["Desktop Chrome"], viewport: { width: 1366, height: 860 } }, dependencies: ["setup"] },
    // npm run screenshots: refreshes docs/screenshots/ (not part of npm test).
    ...(process.env.SCREENSHOTS ? [{ name: "screenshots", testMatch: /screenshots\.spec\.ts/, use: { ...devices["Desktop Chrome"] }, dependencies: ["setup"] }] : []),
  ],
  webServer: {
    command: `rm -rf .data-e2e && DATA_DIR=.data-e2e PORT=${PORT} npm run start`,
    url: `${baseURL}/api/health`,
    reuseExistingServer: !process.env.CI,
    timeout: 180_000,
    stdout: "pipe",
    stderr: "pipe",
  },
});
