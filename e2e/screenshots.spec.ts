import { test, expect } from "@playwright/test";
import { authFile } from "./pages";

// `npm run screenshots` (not part of npm test): the main pages, as a user sees them, into
// docs/screenshots/ for the README.
test.use({ storageState: authFile("alice"), viewport: { width: 1366, height: 860 } });

const shots: [string, string, string][] = [
  ["models", "/orgs/demo_org", "models-table"],
  ["model", "/orgs/demo_org/models/credit_risk", "versions-table"],
  ["upload", "/orgs/demo_org/upload", "dropzone"],
  ["usage", "/orgs/demo_org/usage", "usage-total-bytes"],
  ["audit", "/orgs/demo_org/audit", "audit-row"],
  ["members", "/orgs/demo_org/members", "members-table"],
  ["tokens", "/orgs/demo_org/tokens", "token-form"],
];

for (const [name, url, ready] of shots) {
  test(`screenshot: ${name}`, async ({ page }) => {
    await page.goto(url, { waitUntil: "networkidle" });
    await expect(page.getByTestId(ready).first()).toBeVisible();
    await page.screenshot({ path: `docs/screenshots/${name}.png`, fullPage: true });
  });
}

test("screenshot: sign-in", async ({ browser }) => {
  const page = await browser.newPage({ storageState: { cookies: [], origins: [] } });
  await page.goto("/sign-in", { waitUntil: "networkidle" });
  await page.screenshot({ path: "docs/screenshots/sign-in.png" });
  await page.close();
});

test("screenshot: phone (390 px)", async ({ browser }) => {
  const context = await browser.newContext({
    storageState: authFile("alice"),
    viewport: { width: 390, height: 844 },
    deviceScaleFactor: 2,
    isMobile: true,
    hasTouch: true,
  });
  const page = await context.newPage();
  await page.goto("/orgs/demo_org", { waitUntil: "networkidle" });
  await expect(page.getByTestId("models-table")).toBeVisible();
  await page.screenshot({ path: "docs/screenshots/phone-models.png" });
  await context.close();
});
