import { test, expect, type APIRequestContext } from "@playwright/test";
import { authFile, ModelsPage, PASSWORD, USERS } from "./pages";

const DEMO = [
  "chatbot_gpt4_finetuned",
  "claude_content_gen",
  "credit_risk",
  "customer_segmentation",
  "fraud_detection",
  "medical_diagnosis",
  "recommendation_engine",
  "sentiment_analysis",
];
/** Other specs add models to demo_org as they run: check the demo is there and the other org is not. */
function expectOnly(slugs: (string | null)[], mine: string[], theirs: string[]) {
  for (const m of mine) expect(slugs).toContain(m);
  for (const t of theirs) expect(slugs).not.toContain(t);
}
const ADMIN = [
  "code_reviewer_claude",
  "hiring_assistant",
  "inventory_forecast",
  "legal_assistant_gpt4",
  "loan_approval",
  "price_optimization",
];

async function bearer(request: APIRequestContext, email: string) {
  const r = await request.post("/api/v1/auth/sign-in", { data: { email, password: PASSWORD } });
  expect(r.status()).toBe(200);
  return { Authorization: `Bearer ${(await r.json()).access_token}` };
}

test.describe("alice (demo_org owner)", () => {
  test.use({ storageState: authFile("alice") });
  test("sees demo_org's models and never admin_org's", async ({ page }) => {
    const models = new ModelsPage(page);
    await models.goto("demo_org", "?sort=name&limit=200");
    expectOnly(await models.slugs(), DEMO, ADMIN);
    const res = await page.goto("/orgs/admin_org");
    expect(res?.status()).toBe(404);
    const res2 = await page.goto("/orgs/admin_org/models/loan_approval");
    expect(res2?.status()).toBe(404);
  });
});

test.describe("carol (admin_org owner)", () => {
  test.use({ storageState: authFile("carol") });
  test("sees admin_org's models and never demo_org's", async ({ page }) => {
    const models = new ModelsPage(page);
    await models.goto("admin_org", "?sort=name&limit=200");
    expectOnly(await models.slugs(), ADMIN, DEMO);
    expect((await page.goto("/orgs/demo_org"))?.status()).toBe(404);
  });
});

test.describe("sam (in both)", () => {
  test.use({ storageState: authFile("sam") });
  test("switches between the two organizations", async ({ page }) => {
    await page.goto("/orgs/demo_org");
    await page.getByTestId("org-switcher").locator("summary").click();
    await page.getByTestId("switch-org-admin_org").click();
    await expect(page).toHaveURL(/\/orgs\/admin_org$/);
    await expect(page.getByTestId("current-org")).toHaveText("Admin Org");
    expectOnly(await new ModelsPage(page).slugs(), ADMIN, DEMO);
  });
});

test("the API answers the same: each user sees their org, another org's ids are 404", async ({ request }) => {
  const alice = await bearer(request, USERS.alice);
  const orgs = await (await request.get("/api/v1/orgs", { headers: alice })).json();
  expect(orgs.items.map((o: { slug: string }) => o.slug)).toEqual(["demo_org"]);
  const list = await (await request.get("/api/v1/orgs/demo_org/models?limit=200", { headers: alice })).json();
  expectOnly(
    list.items.map((m: { slug: string }) => m.slug),
    DEMO,
    ADMIN,
  );
  for (const path of [
    "/api/v1/orgs/admin_org/models",
    "/api/v1/orgs/admin_org/models/loan_approval",
    "/api/v1/orgs/admin_org/models/loan_approval/versions/3.0/download",
  ]) {
    const r = await request.get(path, { headers: alice });
    expect(r.status(), path).toBe(404);
    expect((await r.json()).error.code).toBe("not_found");
  }
});

test("forged and foreign tokens are refused", async ({ request }) => {
  const { Authorization } = await bearer(request, USERS.alice);
  const [h, p] = Authorization.slice(7).split(".");
  const none = `${Buffer.from(JSON.stringify({ alg: "none", typ: "JWT" })).toString("base64url")}.${p}.`;
  const otherKey = `${h}.${p}.${Buffer.alloc(32, 7).toString("base64url")}`;
  for (const token of [none, otherKey, "fm_" + "x".repeat(43), "garbage"]) {
    const r = await request.get("/api/v1/orgs", { headers: { Authorization: `Bearer ${token}` } });
    expect(r.status(), token).toBe(401);
    expect((await r.json()).error.code).toBe("unauthorized");
  }
  expect((await request.get("/api/v1/orgs")).status()).toBe(401);
});
