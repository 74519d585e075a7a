import { test, expect } from "@playwright/test";
import { PASSWORD, SignInPage, USERS } from "./pages";

test.describe("signing in", () => {
  test("a wrong password and an unknown e-mail get the same clear answer", async ({ page }) => {
    const signIn = new SignInPage(page);
    await signIn.goto();
    await signIn.signIn(USERS.alice, "not-the-password");
    await expect(signIn.message()).toHaveText("Wrong e-mail address or password.");
    await signIn.signIn("nobody@nowhere.test", PASSWORD);
    await expect(signIn.message()).toHaveText("Wrong e-mail address or password.");
    await expect(page).toHaveURL(/\/sign-in/);
  });

  test("pages need a session; a tampered session cookie counts as signed out", async ({ page, context, baseURL }) => {
    await page.goto("/orgs/demo_org");
    await expect(page).toHaveURL(/\/sign-in\?next=%2Forgs%2Fdemo_org/);
    const signIn = new SignInPage(page);
    await signIn.signIn(USERS.bob);
    await expect(page).toHaveURL(/\/orgs\/demo_org$/);
    const cookie = (await context.cookies()).find((c) => c.name === "fm_session")!;
    expect(cookie.httpOnly).toBe(true);
    expect(cookie.sameSite).toBe("Lax");
    const [h, p, s] = cookie.value.split(".");
    const claims = JSON.parse(Buffer.from(p!, "base64url").toString());
    const forged = Buffer.from(JSON.stringify({ ...claims, sub: "00000000-0000-0000-0000-000000000001" })).toString("base64url");
    await context.addCookies([{ name: "fm_session", value: `${h}.${forged}.${s}`, url: baseURL! }]);
    await page.goto("/orgs/demo_org");
    await expect(page).toHaveURL(/\/sign-in/);
  });

  test("sign up, create an organization, sign out", async ({ page }) => {
    const email = `new-${Date.now()}@example.test`;
    await page.goto("/sign-up");
    await page.getByLabel("Name").fill("New Person");
    await page.getByTestId("email").fill(email);
    await page.getByTestId("password").fill("short");
    await page.getByTestId("submit").click();
    await expect(page.getByText("Use at least 10 characters.")).toBeVisible();
    await page.getByTestId("password").fill("a-long-enough-password");
    await page.getByTestId("submit").click();
    await expect(page).toHaveURL(/\/orgs\/new/);
    const slug = `team_${Date.now()}`;
    await page.getByLabel("Name", { exact: true }).fill("My Team");
    await page.getByLabel(/Short name/).fill(slug);
    await page.getByRole("button", { name: "Create organization" }).click();
    await expect(page).toHaveURL(new RegExp(`/orgs/${slug}$`));
    await expect(page.getByTestId("empty-state")).toContainText("No models yet");
    await page.getByTestId("sign-out").click();
    await expect(page).toHaveURL(/\/sign-in/);
    await page.goto(`/orgs/${slug}`);
    await expect(page).toHaveURL(/\/sign-in/);
  });
});
