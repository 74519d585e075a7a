import { expect, type Page } from "@playwright/test";

export const PASSWORD = "fairmind-demo";
export const USERS = {
  alice: "alice@demo.org",
  bob: "bob@demo.org",
  vera: "vera@demo.org",
  carol: "carol@admin.org",
  dan: "dan@admin.org",
  sam: "sam@fairmind.dev",
} as const;
export type DemoUser = keyof typeof USERS;
export const authFile = (user: DemoUser) => `e2e/.auth/${user}.json`;

/** The sign-in screen. */
export class SignInPage {
  constructor(private readonly page: Page) {}
  async goto() {
    await this.page.goto("/sign-in");
  }
  async signIn(email: string, password = PASSWORD) {
    await this.page.getByTestId("email").fill(email);
    await this.page.getByTestId("password").fill(password);
    await this.page.getByTestId("submit").click();
  }
  message() {
    return this.page.getByTestId("form-message");
  }
}

/** The model browser of one organization. */
export class ModelsPage {
  constructor(private readonly page: Page) {}
  async goto(org: string, query = "") {
    await this.page.goto(`/orgs/${org}${query}`);
  }
  rows() {
    return this.page.getByTestId("model-row");
  }
  async slugs() {
    return this.rows().evaluateAll((rows) => rows.map((r) => r.getAttribute("data-model")));
  }
  /** Types a search; the list follows by itself (debounced) and the URL keeps it. */
  async search(text: string) {
    await this.page.getByTestId("search").fill(text);
    await expect(this.page).toHaveURL(new RegExp(`[?&]q=${encodeURIComponent(text)}(&|$)`));
  }
  async expectLoaded() {
    await expect(this.page.getByRole("heading", { name: "Models" })).toBeVisible();
  }
}
