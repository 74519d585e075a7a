import AxeBuilder from "@axe-core/playwright";
import { test, expect, type Page } from "@playwright/test";
import { authFile, type DemoUser } from "./pages";

// Accessibility (issue 15): axe-core on every main page, as each role sees it, finds no serious or
// critical violation (WCAG 2.x A and AA rules). A failure lists each rule with the offending nodes.

/** The serious and critical violations on the page: one entry per rule, with the offending nodes. */
async function seriousViolations(page: Page, what: string): Promise<string[]> {
  const results = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]).analyze();
  return results.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map(
      (v) =>
        `${what}: ${v.impact} ${v.id}: ${v.help}\n${v.nodes.map((n) => `    ${n.target.join(" ")}  ${n.failureSummary ?? ""}`).join("\n")}`,
    );
}

const ORG_PAGES = (org: string): [string, string][] => [
  ["models list", `/orgs/${org}`],
  ["models list, filtered and sorted", `/orgs/${org}?q=a&sort=name&dir=desc`],
  ["usage", `/orgs/${org}/usage`],
  ["audit log", `/orgs/${org}/audit`],
  ["members", `/orgs/${org}/members`],
  ["API tokens", `/orgs/${org}/tokens`],
  ["new organization", `/orgs/new`],
];

const ROLES: { user: DemoUser; org: string; model: string; writes: boolean }[] = [
  { user: "alice", org: "demo_org", model: "credit_risk", writes: true },
  { user: "bob", org: "demo_org", model: "credit_risk", writes: true },
  { user: "vera", org: "demo_org", model: "credit_risk", writes: false },
  { user: "dan", org: "admin_org", model: "", writes: true },
];

test("the sign-in and sign-up pages", async ({ browser }) => {
  const context = await browser.newContext({ storageState: { cookies: [], origins: [] } });
  const page = await context.newPage();
  const found: string[] = [];
  for (const url of ["/sign-in", "/sign-up"]) {
    await page.goto(url, { waitUntil: "networkidle" });
    found.push(...(await seriousViolations(page, url)));
  }
  expect(found, found.join("\n")).toEqual([]);
  await context.close();
});

for (const { user, org, model, writes } of ROLES) {
  test.describe(`as ${user} (${org})`, () => {
    test.use({ storageState: authFile(user) });

    test("every main page", async ({ page }) => {
      const pages = ORG_PAGES(org);
      if (writes) pages.push(["upload", `/orgs/${org}/upload`]);
      if (!model) {
        // The org's first model, whatever the demo put there.
        await page.goto(`/orgs/${org}`, { waitUntil: "networkidle" });
        const first = await page.getByTestId("model-row").first().getAttribute("data-model");
        if (first) pages.push(["model page", `/orgs/${org}/models/${first}`]);
      } else {
        pages.push(["model page", `/orgs/${org}/models/${model}`], ["compare", `/orgs/${org}/models/${model}/compare`]);
      }
      // Every page is checked before the test fails, so one run lists everything to fix.
      const found: string[] = [];
      for (const [what, url] of pages) {
        await page.goto(url, { waitUntil: "networkidle" });
        found.push(...(await seriousViolations(page, `${what} (${url})`)));
      }
      expect(found, found.join("\n")).toEqual([]);
    });
  });
}

test.describe("keyboard", () => {
  test.use({ storageState: authFile("bob") });

  test("the first Tab reaches a skip link that moves focus to the page's content", async ({ page }) => {
    await page.goto("/orgs/demo_org/usage", { waitUntil: "networkidle" });
    await page.keyboard.press("Tab");
    const skip = page.getByTestId("skip-link");
    await expect(skip).toBeFocused();
    await expect(skip).toBeVisible();
    await page.keyboard.press("Enter");
    await expect(page.locator("main#main")).toBeFocused();
    // The next Tab lands inside the page, not in the header.
    await page.keyboard.press("Tab");
    expect(await page.evaluate(() => document.activeElement?.closest("main") !== null)).toBe(true);
  });

  test("/favicon.ico is an icon", async ({ request }) => {
    const res = await request.get("/favicon.ico");
    expect(res.status()).toBe(200);
    expect(res.headers()["content-type"]).toMatch(/image\/(x-icon|vnd\.microsoft\.icon)/);
    const body = await res.body();
    // An ICO header: reserved 0, type 1 (icon), at least one image.
    expect([...body.subarray(0, 4)]).toEqual([0, 0, 1, 0]);
    expect(body.readUInt16LE(4)).toBeGreaterThan(0);
  });
});
