import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { test, expect, type Page } from "@playwright/test";
import { authFile, ModelsPage } from "./pages";

// The models list follows the search box and the filters as they change (no Apply), keeps its
// state in the URL, sorts by its column headers on the server and says how many models match.
test.use({ storageState: authFile("bob") });

const total = (page: Page) => page.getByTestId("model-count").getAttribute("data-total").then(Number);

test("search is live (debounced), kept in the URL, and the count follows", async ({ page }) => {
  const models = new ModelsPage(page);
  await models.goto("demo_org");
  const all = await total(page);
  expect(all).toBeGreaterThan(3);
  await expect(page.getByTestId("model-count")).toHaveText(`${all} models`);

  // Every search the page asked the server for (the list's own fetch and prefetched links alike).
  const searched = new Set<string>();
  page.on("request", (r) => {
    const q = new URL(r.url()).searchParams.get("q");
    if (q !== null) searched.add(q);
  });
  // Typed like a person: one key at a time, with no Enter and no button.
  await page.getByTestId("search").pressSequentially("credit", { delay: 40 });
  await expect(page).toHaveURL(/[?&]q=credit(&|$)/);
  await expect.poll(() => models.slugs()).toEqual(["credit_risk"]);
  await expect(page.getByTestId("model-count")).toHaveText("1 model matches");
  // Debounced: nothing was fetched for "c", "cr", "cre"… on the way to the word.
  expect([...searched].filter((q) => q !== "credit")).toEqual([]);

  // A select applies at once and joins the search in the URL; a reload keeps both.
  await page.getByTestId("filter-framework").selectOption("tensorflow-keras");
  await expect(page).toHaveURL(/framework=tensorflow-keras/);
  await expect(page.getByTestId("empty-state")).toContainText("No models match");
  await page.reload();
  await expect(page.getByTestId("search")).toHaveValue("credit");
  await expect(page.getByTestId("filter-framework")).toHaveValue("tensorflow-keras");

  // Clear empties the form too.
  await page.getByTestId("clear-filters").click();
  await expect(page).toHaveURL(/\/orgs\/demo_org$/);
  await expect(page.getByTestId("search")).toHaveValue("");
  await expect.poll(() => total(page)).toBe(all);
});

test("column headers sort on the server, both ways, and say so to screen readers", async ({ page }) => {
  const models = new ModelsPage(page);
  await models.goto("demo_org");
  const nameHeader = page.getByRole("columnheader", { name: /Model/ });
  await expect(nameHeader).toHaveAttribute("aria-sort", "none");

  await page.getByTestId("sort-name").click();
  await expect(page).toHaveURL(/sort=name/);
  await expect(nameHeader).toHaveAttribute("aria-sort", "ascending");
  const ascending = await models.slugs();

  await page.getByTestId("sort-name").click();
  await expect(page).toHaveURL(/sort=name&dir=desc|dir=desc.*sort=name/);
  await expect(nameHeader).toHaveAttribute("aria-sort", "descending");
  await expect.poll(() => models.slugs()).toEqual([...ascending].reverse());

  // Size: largest first, by the bytes each model stores (the API reports them).
  await page.getByTestId("sort-size").click();
  await expect(page.getByRole("columnheader", { name: /Size/ })).toHaveAttribute("aria-sort", "descending");
  const bySize = await models.slugs();
  const res = await page.request.get("/api/v1/orgs/demo_org/models?limit=200");
  const items = ((await res.json()) as { items: { slug: string; total_bytes: number }[] }).items;
  const bytes = new Map(items.map((m) => [m.slug, m.total_bytes]));
  const sizes = bySize.map((s) => bytes.get(s!) ?? -1);
  expect(sizes).toEqual([...sizes].sort((a, b) => b - a));
  expect(sizes.every((s) => s >= 0)).toBe(true);
});

test.describe("early refusals in the browser", () => {
  test("an image named .pt is refused before any byte is uploaded, saying what it is", async ({ page }) => {
    const png = path.join(os.tmpdir(), "fm-e2e-photo.png");
    // A real PNG signature and IHDR chunk, then padding: what a renamed photo starts with.
    fs.writeFileSync(
      png,
      Buffer.concat([Buffer.from("89504e470d0a1a0a0000000d4948445200000010000000100806000000", "hex"), Buffer.alloc(4096, 7)]),
    );
    const sent: string[] = [];
    page.on("request", (r) => {
      if (r.method() !== "GET" && /\/api\/(v1|tus|uploads)/.test(r.url())) sent.push(`${r.method()} ${r.url()}`);
    });
    await page.goto("/orgs/demo_org/upload", { waitUntil: "networkidle" });
    await page
      .getByTestId("dropzone-input")
      .setInputFiles({ name: "model.pt", mimeType: "application/octet-stream", buffer: fs.readFileSync(png) });
    await expect(page.getByTestId("dropzone-rejection")).toContainText("PNG image");
    await expect(page.getByTestId("dropzone-rejection")).toContainText("Nothing was uploaded");
    await expect(page.getByTestId("upload-item")).toHaveCount(0);
    expect(sent).toEqual([]);
  });

  test("a PDF and an HTML page are refused, a real model in the same drop is queued", async ({ page }) => {
    await page.goto("/orgs/demo_org/upload", { waitUntil: "networkidle" });
    await page.getByTestId("dropzone-input").setInputFiles([
      { name: "report.pkl", mimeType: "application/octet-stream", buffer: Buffer.from("%PDF-1.7\n%âãÏÓ\n1 0 obj\n<<>>\nendobj\n") },
      {
        name: "page.onnx",
        mimeType: "application/octet-stream",
        buffer: Buffer.from("<!DOCTYPE html><html><head><title>x</title></head></html>"),
      },
      {
        name: "credit_risk_v2.1.pkl",
        mimeType: "application/octet-stream",
        buffer: fs.readFileSync("test/fixtures/models/credit_risk_v2.1.pkl"),
      },
    ]);
    const refusals = page.getByTestId("dropzone-rejection");
    await expect(refusals).toHaveCount(2);
    await expect(refusals.filter({ hasText: "report.pkl" })).toContainText("PDF document");
    await expect(refusals.filter({ hasText: "page.onnx" })).toContainText("HTML page");
    await expect(page.getByTestId("upload-item")).toHaveCount(1);
  });
});
