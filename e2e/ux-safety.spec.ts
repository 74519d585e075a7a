import crypto from "node:crypto";
import fs from "node:fs";
import { test, expect, type APIRequestContext, type Page } from "@playwright/test";
import { authFile } from "./pages";

// Issue #15 part A, in Chromium against the real app: safe alias moves and protected aliases, the
// organization not-found page, roles explained, invitations, the model page, the audit trail.

const FIXTURES = "test/fixtures/models";
const MODEL_BYTES = fs.readFileSync(`${FIXTURES}/credit_risk_v2.1.pkl`);
const sha = (b: Buffer) => crypto.createHash("sha256").update(b).digest("hex");
// browser.newContext() inherits the describe's storageState: an explicit empty one is a stranger.
const NO_SESSION = { cookies: [], origins: [] };
const stamp = () => `${Date.now().toString(36)}${crypto.randomBytes(2).toString("hex")}`;

async function uploadVersions(request: APIRequestContext, slug: string, files: Buffer[]) {
  for (const [i, data] of files.entries()) {
    const r = await request.put(`/api/v1/orgs/demo_org/models/${slug}/versions/1.${i}?filename=m.pkl`, { data });
    expect(r.status(), await r.text()).toBe(201);
  }
}

/** Two safe models with different bytes, so the confirmation shows two different SHA-256s. */
const TWO_MODELS = [MODEL_BYTES, fs.readFileSync(`${FIXTURES}/price_optimization_v1.3.pkl`)];

test.describe("alias moves (alice, owner)", () => {
  test.use({ storageState: authFile("alice") });

  test("start on the alias's target, confirm with both SHA-256s and verdicts, cancel moves nothing", async ({ page }) => {
    const slug = `e2e_safe_alias_${stamp()}`;
    await uploadVersions(page.request, slug, TWO_MODELS);
    await page.goto(`/orgs/demo_org/models/${slug}`);
    // No alias yet: the form proposes production, new.
    await expect(page.getByTestId("alias-name")).toHaveValue("production");
    await expect(page.getByTestId("alias-current")).toContainText("is new");
    await page.getByTestId("alias-version").selectOption("1.0");
    await page.getByTestId("alias-submit").click();
    await expect(page.getByTestId("alias-confirm-title")).toHaveText("production: (new) → v1.0");
    await page.getByTestId("alias-confirm-submit").click();
    await expect(page.getByTestId("alias-history-row")).toHaveCount(1);

    // A fresh page starts on production's current target: submitting unchanged is not possible.
    await page.reload();
    await expect(page.getByTestId("alias-version")).toHaveValue("1.0");
    await expect(page.getByTestId("alias-current")).toContainText("points at v1.0");
    await expect(page.getByTestId("alias-submit")).toBeDisabled();

    await page.getByTestId("alias-version").selectOption("1.1");
    await page.getByTestId("alias-submit").click();
    const dialog = page.getByTestId("alias-confirm");
    await expect(dialog).toBeVisible();
    await expect(page.getByTestId("alias-confirm-title")).toHaveText("production: v1.0 → v1.1");
    await expect(page.getByTestId("alias-confirm-from")).toContainText(sha(TWO_MODELS[0]!).slice(0, 12));
    await expect(page.getByTestId("alias-confirm-to")).toContainText(sha(TWO_MODELS[1]!).slice(0, 12));
    await expect(page.getByTestId("alias-confirm-from").getByTestId("verdict")).toBeVisible();
    await expect(page.getByTestId("alias-confirm-to").getByTestId("verdict")).toBeVisible();
    await page.getByTestId("alias-confirm-cancel").click();
    await expect(dialog).toBeHidden();
    await page.reload();
    await expect(page.getByTestId("alias-history-row")).toHaveCount(1);
    await expect(page.locator('[data-testid="alias-item"][data-alias="production"]')).toHaveAttribute("data-version", "1.0");

    await page.getByTestId("alias-version").selectOption("1.1");
    await page.getByTestId("alias-submit").click();
    await page.getByTestId("alias-confirm-submit").click();
    await expect(page.getByTestId("form-message")).toContainText("production moved from 1.0 to 1.1");
    await expect(page.locator('[data-testid="alias-item"][data-alias="production"]')).toHaveAttribute("data-version", "1.1");
  });

  test("a protected alias: admins move it, a member is told why not and the API refuses", async ({ page, browser }) => {
    const slug = `e2e_protected_${stamp()}`;
    // A name of its own: protecting `production` in demo_org would change what other specs expect.
    const alias = `golden-${stamp()}`;
    await uploadVersions(page.request, slug, TWO_MODELS);
    await page.goto(`/orgs/demo_org/models/${slug}`);
    await page.getByTestId("protect-alias-name").fill(alias);
    await page.getByTestId("protect-alias-on").click();
    await expect(page.getByTestId("protect-alias-form").getByTestId("form-message")).toContainText(`${alias} is protected`);
    await page.reload();
    await page.getByTestId("alias-name").fill(alias);
    await page.getByTestId("alias-version").selectOption("1.0");
    await page.getByTestId("alias-submit").click();
    await page.getByTestId("alias-confirm-submit").click();
    await expect(page.locator(`[data-testid="alias-item"][data-alias="${alias}"]`)).toContainText("(protected)");

    const bobContext = await browser.newContext({ storageState: authFile("bob") });
    const bob = await bobContext.newPage();
    await bob.goto(`/orgs/demo_org/models/${slug}`);
    await bob.getByTestId("alias-name").fill(alias);
    await expect(bob.getByTestId("alias-locked")).toContainText("only owners and admins can move it");
    await expect(bob.getByTestId("alias-submit")).toBeDisabled();
    const r = await bob.request.put(`/api/v1/orgs/demo_org/models/${slug}/aliases/${alias}`, { data: { version: "1.1" } });
    expect(r.status()).toBe(403);
    expect((await r.json()).error.message).toMatch(/protected alias/);
    // Other aliases stay free for members.
    const staging = await bob.request.put(`/api/v1/orgs/demo_org/models/${slug}/aliases/staging`, { data: { version: "1.1" } });
    expect(staging.status()).toBe(200);
    await bobContext.close();

    await page.getByTestId("protect-alias-name").fill(alias);
    await page.getByTestId("protect-alias-off").click();
    await expect(page.getByTestId("protect-alias-form").getByTestId("form-message")).toContainText("no longer protected");
  });
});

test.describe("an organization you cannot see", () => {
  test.use({ storageState: authFile("alice") });

  test("unknown and forbidden organizations get the same not-found page, with a way back", async ({ page }) => {
    const texts: string[] = [];
    for (const slug of ["admin_org", `nope_${stamp()}`]) {
      const r = await page.goto(`/orgs/${slug}/models/anything`);
      expect(r?.status()).toBe(404);
      const box = page.getByTestId("org-not-found");
      await expect(box).toBeVisible();
      texts.push((await box.innerText()).trim());
    }
    expect(texts[0]).toBe(texts[1]);
    await page.getByTestId("org-not-found-orgs").getByRole("link", { name: "Demo Org" }).click();
    await expect(page).toHaveURL(/\/orgs\/demo_org$/);
  });
});

test.describe("roles explained", () => {
  test("a viewer is told they can download but not upload", async ({ browser }) => {
    const ctx = await browser.newContext({ storageState: authFile("vera") });
    const page = await ctx.newPage();
    await page.goto("/orgs/demo_org/models/credit_risk");
    await expect(page.getByTestId("role-explainer")).toContainText("Viewers can download but not upload");
    await expect(page.getByTestId("alias-role-explainer")).toContainText("Viewers cannot move aliases");
    await ctx.close();
  });

  test("a member's read-only members page says why", async ({ browser }) => {
    const ctx = await browser.newContext({ storageState: authFile("bob") });
    const page = await ctx.newPage();
    await page.goto("/orgs/demo_org/members");
    await expect(page.getByTestId("members-read-only")).toContainText("only owners and admins invite people");
    await expect(page.getByTestId("invite-form")).toHaveCount(0);
    await ctx.close();
  });
});

async function signUp(page: Page, email: string) {
  await page.getByTestId("email").fill(email);
  await page.getByTestId("password").fill("a-long-enough-password");
  await page.getByTestId("submit").click();
}

test.describe("invitations (alice, owner)", () => {
  test.use({ storageState: authFile("alice") });

  test("invite by e-mail, sign up from the link, join with the invited role; change the role with undo", async ({ page, browser }) => {
    const email = `invitee-${stamp()}@example.test`;
    await page.goto("/orgs/demo_org/members");
    await page.getByTestId("invite-email").fill(email);
    await page.getByTestId("invite-role").selectOption("viewer");
    await page.getByTestId("invite-submit").click();
    const link = await page.getByTestId("invite-link").inputValue();
    expect(link).toMatch(/\/invite\/inv_[A-Za-z0-9_-]{43}$/);
    await page.reload();
    await expect(page.locator(`[data-testid="invitation-row"][data-email="${email}"]`)).toContainText("viewer");

    // The invitee, in a browser of their own: no account yet.
    const ctx = await browser.newContext({ storageState: NO_SESSION });
    const invitee = await ctx.newPage();
    await invitee.goto(link);
    await expect(invitee.getByTestId("invitation")).toHaveAttribute("data-status", "pending");
    await expect(invitee.getByTestId("invitation-role")).toHaveText("viewer");
    await invitee.getByTestId("invitation-sign-up").click();
    await signUp(invitee, email);
    await expect(invitee).toHaveURL(/\/invite\/inv_/);
    await invitee.getByTestId("accept-invitation").click();
    await expect(invitee).toHaveURL(/\/orgs\/demo_org$/);
    await expect(invitee.locator("main")).toHaveAttribute("data-role", "viewer");
    // The link worked once.
    await invitee.goto(link);
    await expect(invitee.getByTestId("invitation-problem")).toContainText("already been used");
    await ctx.close();

    // The role applies when chosen, and can be undone.
    await page.reload();
    await expect(page.locator(`[data-testid="invitation-row"][data-email="${email}"]`)).toHaveCount(0);
    const row = page.locator(`[data-testid="member-row"][data-email="${email}"]`);
    await row.getByTestId("member-role").selectOption("member");
    await expect(row.getByTestId("form-message")).toContainText(`${email} is now member`);
    await page.reload();
    await expect(row.getByTestId("member-role")).toHaveValue("member");
    await row.getByTestId("member-role").selectOption("admin");
    await expect(row.getByTestId("form-message")).toContainText("is now admin");
    await row.getByTestId("role-undo").click();
    await expect(row.getByTestId("form-message")).toContainText(`Undone: ${email} is member again`);
    await page.reload();
    await expect(row.getByTestId("member-role")).toHaveValue("member");
  });

  test("a withdrawn invitation's link says so; another account cannot use a link", async ({ page, browser }) => {
    const email = `withdrawn-${stamp()}@example.test`;
    await page.goto("/orgs/demo_org/members");
    await page.getByTestId("invite-email").fill(email);
    await page.getByTestId("invite-submit").click();
    const link = await page.getByTestId("invite-link").inputValue();

    // Signed in as someone else (bob): told the link is for another address.
    const bobCtx = await browser.newContext({ storageState: authFile("bob") });
    const bob = await bobCtx.newPage();
    await bob.goto(link);
    await expect(bob.getByTestId("invitation-wrong-account")).toContainText(email);
    await bobCtx.close();

    await page.reload();
    page.once("dialog", (d) => d.accept());
    await page.locator(`[data-testid="invitation-row"][data-email="${email}"]`).getByTestId("revoke-invitation").click();
    await expect(page.locator(`[data-testid="invitation-row"][data-email="${email}"]`)).toHaveCount(0);
    const ctx = await browser.newContext({ storageState: NO_SESSION });
    const anon = await ctx.newPage();
    await anon.goto(link);
    await expect(anon.getByTestId("invitation")).toHaveAttribute("data-status", "revoked");
    await expect(anon.getByTestId("invitation-problem")).toContainText("withdrawn");
    await anon.goto("/invite/inv_not-a-real-token");
    await expect(anon.getByTestId("invitation")).toHaveAttribute("data-status", "invalid");
    await ctx.close();
  });
});

test.describe("model page (bob, member)", () => {
  test.use({ storageState: authFile("bob") });

  test("an unknown ?version= says so; Copy signed link gives a working link and its expiry; snippets fit their box", async ({ page }) => {
    const slug = `e2e_model_page_${stamp()}`;
    await uploadVersions(page.request, slug, [MODEL_BYTES]);
    await page.goto(`/orgs/demo_org/models/${slug}?version=9.9`);
    await expect(page.getByTestId("version-not-found")).toContainText("Version 9.9 not found");
    await expect(page.getByTestId("version-details")).toHaveCount(0);
    await page.getByTestId("version-not-found-latest").click();
    await expect(page.getByTestId("version-details")).toHaveAttribute("data-version", "1.0");

    await page.getByTestId("signed-link-button").click();
    const url = await page.getByTestId("signed-link-url").inputValue();
    expect(url).toMatch(/\/api\/v1\/links\//);
    await expect(page.getByTestId("signed-link-expiry")).toContainText("until");
    // The link works without any cookie.
    const anon = await page.context().browser()!.newContext({ storageState: NO_SESSION });
    const r = await anon.request.get(url);
    expect(r.status()).toBe(200);
    expect(sha(await r.body())).toBe(sha(MODEL_BYTES));
    await anon.close();

    for (const id of ["snippet-curl", "snippet-python"]) {
      const overflow = await page.getByTestId(id).evaluate((el) => el.scrollWidth - el.clientWidth);
      expect(overflow).toBeLessThanOrEqual(0);
    }
  });
});

test.describe("audit log (bob, member)", () => {
  test.use({ storageState: authFile("bob") });

  test("refused uploads (409, 415, 422) and models created by uploads are recorded; details expand", async ({ page }) => {
    const slug = `e2e_refused_${stamp()}`;
    await uploadVersions(page.request, slug, [MODEL_BYTES]);
    // 409 and 415 are refused before a byte is sent (a resumable upload's creation carries no body);
    // the 422 is refused after the server read the file.
    const b64 = (t: string) => Buffer.from(t).toString("base64");
    const create = (version: string, filename: string) =>
      page.request.post("/api/v1/uploads", {
        headers: {
          "tus-resumable": "1.0.0",
          "upload-length": "10",
          "upload-metadata": [`org ${b64("demo_org")}`, `model ${b64(slug)}`, `version ${b64(version)}`, `filename ${b64(filename)}`].join(
            ",",
          ),
        },
      });
    expect((await create("1.0", "m.pkl")).status()).toBe(409);
    expect((await create("3.0", "notes.docx")).status()).toBe(415);
    const junk = await page.request.put(`/api/v1/orgs/demo_org/models/${slug}/versions/2.0?filename=not_a_model.h5`, {
      data: fs.readFileSync(`${FIXTURES}/not_a_model.h5`),
    });
    expect(junk.status()).toBe(422);

    await page.goto(`/orgs/demo_org/audit?action=upload.refused`);
    const rows = page.locator('[data-testid="audit-row"][data-action="upload.refused"]').filter({ hasText: slug });
    await expect(rows).toHaveCount(3);
    const statuses = await rows.evaluateAll((els) => els.map((e) => e.textContent ?? ""));
    expect(statuses.some((t) => t.includes("409 conflict"))).toBe(true);
    expect(statuses.some((t) => t.includes("422 invalid_model_file"))).toBe(true);
    expect(statuses.some((t) => t.includes("415 unsupported_media_type"))).toBe(true);
    // Long details expand to every field.
    const refused = rows.filter({ hasText: "invalid_model_file" }).first();
    await refused.getByTestId("audit-details").locator("summary").click();
    await expect(refused.getByTestId("audit-details-full")).toBeVisible();
    await expect(refused.getByTestId("audit-details-full")).toContainText('"path": "not_a_model.h5"');

    await page.goto(`/orgs/demo_org/audit?action=model.create`);
    await expect(page.locator('[data-testid="audit-row"][data-action="model.create"]').filter({ hasText: slug }).first()).toContainText(
      "by the upload of v1.0",
    );
  });
});
