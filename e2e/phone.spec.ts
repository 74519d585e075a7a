import { test, expect } from "@playwright/test";
import { authFile } from "./pages";

// Phones (issue 15): at 390 px the main pages never pan sideways (wide tables scroll inside their
// own box), and every navigation link is on screen without scrolling the nav.
test.use({ storageState: authFile("alice"), viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });

const PAGES: [string, string][] = [
  ["models list", "/orgs/demo_org"],
  ["model page", "/orgs/demo_org/models/credit_risk"],
  ["upload", "/orgs/demo_org/upload"],
  ["API tokens", "/orgs/demo_org/tokens"],
  ["members", "/orgs/demo_org/members"],
  ["usage", "/orgs/demo_org/usage"],
  ["audit log", "/orgs/demo_org/audit"],
  ["new organization", "/orgs/new"],
];

for (const [name, url] of PAGES) {
  test(`the ${name} page does not scroll sideways at 390 px`, async ({ page }) => {
    await page.goto(url, { waitUntil: "networkidle" });
    await expect(page.locator("main")).toBeVisible();
    const { scrollWidth, innerWidth, bodyWidth } = await page.evaluate(() => ({
      scrollWidth: document.documentElement.scrollWidth,
      innerWidth: window.innerWidth,
      bodyWidth: document.body.scrollWidth,
    }));
    // On a phone the layout viewport grows to fit content that is too wide: that is the failure.
    expect(innerWidth, `${url} made the layout viewport ${innerWidth} px wide`).toBe(390);
    expect(scrollWidth, `${url} is ${scrollWidth} px wide`).toBeLessThanOrEqual(innerWidth);
    expect(bodyWidth).toBeLessThanOrEqual(innerWidth);
  });
}

test("every navigation link is on screen at 390 px", async ({ page }) => {
  await page.goto("/orgs/demo_org", { waitUntil: "networkidle" });
  const nav = page.getByRole("navigation", { name: "Organization" });
  for (const label of ["Models", "Upload", "Usage & cost", "Audit log", "Members", "API tokens"]) {
    const link = nav.getByRole("link", { name: label, exact: true });
    await expect(link).toBeInViewport({ ratio: 1 });
  }
  await nav.getByRole("link", { name: "API tokens" }).tap();
  await expect(page).toHaveURL(/\/orgs\/demo_org\/tokens$/);
});
