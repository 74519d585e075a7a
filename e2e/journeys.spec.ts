import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { test, expect, type Page } from "@playwright/test";
import { authFile, ModelsPage } from "./pages";

// The journeys of the people who use it every day, in Chromium against the real app.

const FIXTURES = "test/fixtures/models";
const sha = (b: Buffer) => crypto.createHash("sha256").update(b).digest("hex");
const stamp = () => `${Date.now().toString(36)}${crypto.randomBytes(2).toString("hex")}`;

/** Drops a file on the drop zone the way a browser does: a DataTransfer carrying a File. */
async function dropFile(page: Page, file: string, name = path.basename(file)) {
  const b64 = fs.readFileSync(file).toString("base64");
  const dataTransfer = await page.evaluateHandle(
    async ({ b64, name }) => {
      const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      const dt = new DataTransfer();
      // A fixed lastModified, like a file on disk: tus-js-client fingerprints name, size and mtime.
      dt.items.add(new File([bytes], name, { type: "application/octet-stream", lastModified: 1_764_000_000_000 }));
      return dt;
    },
    { b64, name },
  );
  const zone = page.getByTestId("dropzone");
  await zone.dispatchEvent("dragenter", { dataTransfer });
  await zone.dispatchEvent("dragover", { dataTransfer });
  await zone.dispatchEvent("drop", { dataTransfer });
}

/** A valid safetensors file of about `mib` MiB (big enough to interrupt). */
function bigModel(mib: number): string {
  const file = path.join(os.tmpdir(), `fm-e2e-${mib}mib.safetensors`);
  if (fs.existsSync(file)) return file;
  const n = mib * 1024 * 1024;
  const header = Buffer.from(JSON.stringify({ w: { dtype: "U8", shape: [n], data_offsets: [0, n] } }));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(header.length));
  fs.writeFileSync(file, Buffer.concat([len, header, crypto.randomBytes(n)]));
  return file;
}

test.describe("as a member (bob)", () => {
  test.use({ storageState: authFile("bob") });

  test("browse, search and filter the model browser", async ({ page }) => {
    const models = new ModelsPage(page);
    await models.goto("demo_org");
    await expect(models.rows().first()).toBeVisible();
    await models.search("credit");
    await expect.poll(() => models.slugs()).toEqual(["credit_risk"]);
    await models.goto("demo_org", "?framework=tensorflow-keras&sort=name");
    await expect
      .poll(async () => (await models.slugs()).filter((s) => !s?.startsWith("e2e_")))
      .toEqual(["fraud_detection", "medical_diagnosis"]);
    await models.goto("demo_org", "?type=llm&sort=name");
    expect(await models.slugs()).toEqual(expect.arrayContaining(["chatbot_gpt4_finetuned", "claude_content_gen"]));
    await models.goto("demo_org", "?q=zzzz-nothing-matches");
    await expect(page.getByTestId("empty-state")).toContainText("No models match");
  });

  test("drag and drop a real model file, fill the form, see the new version with its SHA-256, download the same bytes", async ({
    page,
  }) => {
    const file = `${FIXTURES}/churn_model_v1.onnx`;
    const bytes = fs.readFileSync(file);
    const name = `E2E churn ${stamp()}`;
    await page.goto("/orgs/demo_org/upload", { waitUntil: "networkidle" });
    await dropFile(page, file);
    const item = page.getByTestId("upload-item");
    await expect(item).toHaveCount(1);
    await item.getByTestId("upload-name").fill(name);
    await item.getByTestId("upload-version").fill("1.0");
    await item.getByTestId("upload-type").selectOption("classification");
    await expect(item.getByTestId("upload-framework")).toHaveValue("onnx");
    await item.getByTestId("upload-tags").fill("e2e, churn");
    await item.getByTestId("upload-start").click();
    const result = item.getByTestId("upload-result");
    await expect(result).toBeVisible({ timeout: 30_000 });
    await expect(result).toHaveAttribute("data-sha256", sha(bytes));
    await expect(result).toHaveAttribute("data-status", "ready");

    await item.getByTestId("upload-model-link").click();
    await expect(page.getByTestId("model-title")).toHaveText(name);
    const row = page
      .getByTestId("version-row")
      .filter({ has: page.locator('[data-version="1.0"]') })
      .or(page.locator('[data-testid="version-row"][data-version="1.0"]'))
      .first();
    await expect(row.getByTestId("version-sha256")).toHaveAttribute("title", sha(bytes));
    const [download] = await Promise.all([page.waitForEvent("download"), row.getByTestId("download-link").click()]);
    const saved = await download.path();
    expect(sha(fs.readFileSync(saved))).toBe(sha(bytes));
  });

  test("an interrupted upload resumes after a page reload and stores identical bytes", async ({ page }) => {
    const file = bigModel(40);
    const bytes = fs.readFileSync(file);
    const model = `E2E resumable ${stamp()}`;
    // A slow uplink (Chromium's own network throttling), so the upload is mid-way when the page goes away.
    const cdp = await page.context().newCDPSession(page);
    await cdp.send("Network.enable");
    await cdp.send("Network.emulateNetworkConditions", {
      offline: false,
      latency: 20,
      downloadThroughput: -1,
      uploadThroughput: 4 * 1024 * 1024,
    });
    await page.goto("/orgs/demo_org/upload", { waitUntil: "networkidle" });
    await dropFile(page, file, "resumable.safetensors");
    const item = page.getByTestId("upload-item");
    await item.getByTestId("upload-name").fill(model);
    await item.getByTestId("upload-version").fill("1.0");
    await item.getByTestId("upload-start").click();
    const progress = item.getByTestId("upload-progress");
    await expect.poll(async () => Number(await progress.getAttribute("aria-valuenow")), { timeout: 30_000 }).toBeGreaterThan(15);
    expect(Number(await progress.getAttribute("aria-valuenow"))).toBeLessThan(100);

    await page.reload();
    await cdp.send("Network.emulateNetworkConditions", { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
    await page.waitForLoadState("networkidle");
    await dropFile(page, file, "resumable.safetensors");
    const again = page.getByTestId("upload-item");
    await expect(again).toHaveCount(1);
    await expect(again.getByTestId("upload-previous")).toBeVisible();
    await again.getByTestId("upload-name").fill(model);
    await again.getByTestId("upload-version").fill("1.0");
    await again.getByTestId("upload-previous").getByTestId("upload-resume").click();
    const result = again.getByTestId("upload-result");
    await expect(result).toBeVisible({ timeout: 60_000 });
    await expect(result).toHaveAttribute("data-sha256", sha(bytes));

    const slug = model.toLowerCase().replace(/[^a-z0-9]+/g, "_");
    const dl = await page.request.get(`/api/v1/orgs/demo_org/models/${slug}/versions/1.0/download`);
    expect(dl.status()).toBe(200);
    expect(sha(await dl.body())).toBe(sha(bytes));
  });

  test("move an alias and see its history", async ({ page }) => {
    const slug = `e2e_alias_${stamp()}`;
    const body = fs.readFileSync(`${FIXTURES}/credit_risk_v2.1.pkl`);
    for (const v of ["1.0", "1.1"]) {
      const r = await page.request.put(`/api/v1/orgs/demo_org/models/${slug}/versions/${v}?filename=m.pkl`, { data: body });
      expect(r.status()).toBe(201);
    }
    await page.goto(`/orgs/demo_org/models/${slug}`);
    for (const v of ["1.0", "1.1"]) {
      await page.getByTestId("alias-name").fill("production");
      await page.getByTestId("alias-version").selectOption(v);
      await page.getByTestId("alias-submit").click();
      await page.getByTestId("alias-confirm-submit").click();
      await expect(page.getByTestId("alias-history-row").first()).toContainText(v);
    }
    const rows = page.getByTestId("alias-history-row");
    await expect(rows).toHaveCount(2);
    await expect(rows.nth(0)).toContainText("1.0");
    await expect(rows.nth(0)).toContainText("1.1");
    await expect(rows.nth(1)).toContainText("1.0");
  });
});

test.describe("as a viewer (vera)", () => {
  test.use({ storageState: authFile("vera") });

  test("sees no upload, alias or delete controls, and the server refuses anyway", async ({ page }) => {
    await page.goto("/orgs/demo_org");
    await expect(page.getByTestId("upload-link")).toHaveCount(0);
    await expect(page.getByRole("link", { name: "Upload", exact: true })).toHaveCount(0);
    await page.goto("/orgs/demo_org/upload");
    await expect(page.getByTestId("upload-read-only")).toBeVisible();
    await expect(page.getByTestId("dropzone")).toHaveCount(0);
    await page.goto("/orgs/demo_org/models/credit_risk");
    await expect(page.getByTestId("version-row").first()).toBeVisible();
    await expect(page.getByTestId("delete-version")).toHaveCount(0);
    await expect(page.getByTestId("alias-submit")).toHaveCount(0);
    const put = await page.request.put("/api/v1/orgs/demo_org/models/credit_risk/versions/9.9?filename=m.pkl", { data: Buffer.from("x") });
    expect(put.status()).toBe(403);
    const del = await page.request.delete("/api/v1/orgs/demo_org/models/credit_risk/versions/2.1");
    expect(del.status()).toBe(403);
  });
});

test("the usage dashboard's totals equal what was uploaded and downloaded", async ({ page }) => {
  const email = `usage-${stamp()}@example.test`;
  await page.goto("/sign-up");
  await page.getByTestId("email").fill(email);
  await page.getByTestId("password").fill("a-long-enough-password");
  await page.getByTestId("submit").click();
  await expect(page).toHaveURL(/\/orgs\/new/);
  const org = `usage_${stamp()}`;
  await page.getByLabel("Name", { exact: true }).fill("Usage Co");
  await page.getByLabel(/Short name/).fill(org);
  await page.getByRole("button", { name: "Create organization" }).click();
  await expect(page).toHaveURL(new RegExp(`/orgs/${org}$`));

  const files = ["credit_risk_v2.1.pkl", "churn_model_v1.onnx"].map((f) => fs.readFileSync(`${FIXTURES}/${f}`));
  for (const [i, data] of files.entries()) {
    const r = await page.request.put(`/api/v1/orgs/${org}/models/m${i}/versions/1.0?filename=${i ? "m.onnx" : "m.pkl"}`, { data });
    expect(r.status()).toBe(201);
  }
  const dl = await page.request.get(`/api/v1/orgs/${org}/models/m1/versions/1.0/download`);
  expect(dl.status()).toBe(200);

  await page.goto(`/orgs/${org}/usage`);
  const total = files.reduce((a, b) => a + b.length, 0);
  await expect(page.getByTestId("usage-total-bytes")).toHaveAttribute("data-bytes", String(total));
  await expect(page.getByTestId("usage-logical-bytes")).toHaveAttribute("data-bytes", String(total));
  await expect(page.getByTestId("usage-logical-bytes")).toHaveAttribute("data-count", "2");
  await expect(page.getByTestId("usage-egress-bytes")).toHaveAttribute("data-bytes", String(files[1]!.length));
  await expect(page.getByTestId("usage-monthly-cost")).toBeVisible();
});
