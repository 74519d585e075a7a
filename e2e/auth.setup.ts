import { test as setup, expect } from "@playwright/test";
import { authFile, SignInPage, USERS, type DemoUser } from "./pages";

// Sign every demo user in once and save their sessions for the other specs.
for (const user of Object.keys(USERS) as DemoUser[]) {
  setup(`sign in as ${user}`, async ({ page }) => {
    const signIn = new SignInPage(page);
    await signIn.goto();
    await signIn.signIn(USERS[user]);
    await expect(page).toHaveURL(/\/orgs\/[a-z_]+$/);
    await expect(page.getByTestId("user-email")).toHaveText(USERS[user]);
    await page.context().storageState({ path: authFile(user) });
  });
}
