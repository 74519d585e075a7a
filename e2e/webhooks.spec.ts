import crypto from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { test, expect, type Page } from "@playwright/test";
import { authFile } from "./pages";

// Signed webhooks end to end: real receivers (node:http) in this process, the real app sending to
// them from its background dispatcher, the Webhooks page showing each attempt. The servers run with
// WEBHOOKS_ALLOW_PRIVATE=true (the receivers are on 127.0.0.1) and WEBHOOKS_RETRY_BASE_MS=1500.

interface Received {
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A receiver answering the next status of `statuses` (the last one repeats). */
async function receiver(statuses: number[]) {
  const got: Received[] = [];
  const server = http.createServer((req, res) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (c: string) => (body += c));
    req.on("end", () => {
      got.push({ headers: req.headers, body });
      res.statusCode = statuses[Math.min(got.length - 1, statuses.length - 1)]!;
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/fairmind`, got, close: () => server.close() };
}

/** What a receiver does (docs/webhooks.md): HMAC-SHA256 of "<t>.<raw body>", constant-time compare, fresh timestamp. */
function verify(secret: string, r: Received): boolean {
  const header = String(r.headers["fairmind-signature"] ?? "");
  const t = /(?:^|,)t=(\d+)/.exec(header)?.[1];
  const v1 = /(?:^|,)v1=([0-9a-f]{64})/.exec(header)?.[1];
  if (!t || !v1 || Math.abs(Date.now() / 1000 - Number(t)) > 300) return false;
  const expected = crypto.createHmac("sha256", secret).update(`${t}.${r.body}`).digest();
  return crypto.timingSafeEqual(expected, Buffer.from(v1, "hex"));
}

/** Adds a webhook for alias.moved only through the form; its secret, shown once. */
async function addWebhook(page: Page, url: string): Promise<string> {
  await page.getByTestId("webhook-url").fill(url);
  for (const e of ["version.created", "version.quarantined", "version.deleted"]) await page.getByTestId(`webhook-event-${e}`).uncheck();
  await page.getByTestId("webhook-create").click();
  const secret = (await page.getByTestId("webhook-secret").textContent())?.trim() ?? "";
  expect(secret).toMatch(/^whsec_/);
  await expect(page.locator(`[data-testid="webhook-row"][data-url="${url}"]`)).toBeVisible();
  return secret;
}

test.describe("webhooks (organization admin)", () => {
  test.use({ storageState: authFile("alice") });

  test("a signed alias.moved event is verified by its receiver; a failing receiver is retried and the page shows both attempts", async ({
    page,
  }) => {
    const good = await receiver([200]);
    const flaky = await receiver([500, 200]);
    try {
      await page.goto("/orgs/demo_org/webhooks");
      await expect(page.getByRole("heading", { name: "Webhooks", level: 1 })).toBeVisible();
      const goodSecret = await addWebhook(page, good.url);
      await page.reload(); // the secret is never shown again
      await expect(page.getByTestId("webhook-secret")).toHaveCount(0);
      const flakySecret = await addWebhook(page, flaky.url);

      // A new version and an alias move, over the REST API as alice (the session's cookies).
      const model = `hooked_${Date.now().toString(36)}`;
      const put = await page.request.put(`/api/v1/orgs/demo_org/models/${model}/versions/1.0?filename=m.pkl`, {
        data: fs.readFileSync("test/fixtures/models/credit_risk_v2.1.pkl"),
      });
      expect(put.status()).toBe(201);
      const started = Date.now();
      const move = await page.request.put(`/api/v1/orgs/demo_org/models/${model}/aliases/production`, { data: { version: "1.0" } });
      expect(move.status()).toBe(200);
      // The request that moved the alias did not wait for any receiver.
      expect(good.got.length + flaky.got.length).toBe(0);

      await expect.poll(() => good.got.length, { timeout: 15_000 }).toBe(1);
      const event = JSON.parse(good.got[0]!.body) as { id: string; type: string; org: { slug: string }; data: Record<string, unknown> };
      expect(event).toMatchObject({ type: "alias.moved", org: { slug: "demo_org" } });
      expect(event.data).toMatchObject({ alias: "production", from: null, to: "1.0", model: { slug: model } });
      expect(good.got[0]!.headers["fairmind-event"]).toBe("alias.moved");
      expect(verify(goodSecret, good.got[0]!)).toBe(true);
      expect(verify(flakySecret, good.got[0]!)).toBe(false); // each endpoint has its own secret

      // 500, then the retry (1.5 s later) succeeds.
      await expect.poll(() => flaky.got.length, { timeout: 20_000 }).toBe(2);
      expect(Date.now() - started).toBeGreaterThan(1_000);
      expect(flaky.got.map((g) => verify(flakySecret, g))).toEqual([true, true]);
      expect(JSON.parse(flaky.got[1]!.body).id).toBe(JSON.parse(flaky.got[0]!.body).id); // the same event

      await page.reload();
      const flakyRow = page.locator('[data-testid="delivery-row"][data-event="alias.moved"]').filter({ hasText: flaky.url }).first();
      await expect(flakyRow).toHaveAttribute("data-status", "succeeded");
      await expect(flakyRow).toHaveAttribute("data-attempts", "2");
      await flakyRow.getByTestId("delivery-attempts").locator("summary").click();
      const attempts = flakyRow.getByTestId("delivery-attempt");
      await expect(attempts).toHaveCount(2);
      await expect(attempts.nth(0)).toHaveAttribute("data-status-code", "500");
      await expect(attempts.nth(0)).toContainText("HTTP 500");
      await expect(attempts.nth(1)).toHaveAttribute("data-status-code", "200");
      await expect(attempts.nth(1)).toContainText(/HTTP 200 · \d+ ms/);

      // Redeliver sends the same event again; a test ping reaches the endpoint too.
      const goodRow = page.locator('[data-testid="delivery-row"][data-event="alias.moved"]').filter({ hasText: good.url }).first();
      await goodRow.getByTestId("delivery-redeliver").click();
      await expect.poll(() => good.got.length, { timeout: 15_000 }).toBe(2);
      expect(JSON.parse(good.got[1]!.body).id).toBe(event.id);
      expect(verify(goodSecret, good.got[1]!)).toBe(true);
      await page.locator(`[data-testid="webhook-row"][data-url="${good.url}"]`).getByTestId("webhook-ping").click();
      await expect.poll(() => good.got.length, { timeout: 15_000 }).toBe(3);
      expect(JSON.parse(good.got[2]!.body).type).toBe("ping");

      // Removing the endpoints leaves the organization as it was.
      page.on("dialog", (d) => void d.accept());
      for (const url of [good.url, flaky.url]) {
        await page.locator(`[data-testid="webhook-row"][data-url="${url}"]`).getByTestId("webhook-delete").click();
        await expect(page.locator(`[data-testid="webhook-row"][data-url="${url}"]`)).toHaveCount(0);
      }
    } finally {
      good.close();
      flaky.close();
    }
  });

  test("refuses a URL that is not http(s)", async ({ page }) => {
    await page.goto("/orgs/demo_org/webhooks");
    await page.getByTestId("webhook-url").fill("ftp://example.com/hook");
    await page.getByTestId("webhook-create").click();
    await expect(page.getByTestId("webhook-url-error")).toContainText("http");
  });
});

test.describe("webhooks (member)", () => {
  test.use({ storageState: authFile("bob") });

  test("members see no Webhooks link, the page tells them who manages webhooks, and the API refuses", async ({ page }) => {
    await page.goto("/orgs/demo_org");
    await expect(page.getByRole("link", { name: "Webhooks" })).toHaveCount(0);
    await page.goto("/orgs/demo_org/webhooks");
    await expect(page.getByTestId("webhooks-admins-only")).toBeVisible();
    const r = await page.request.get("/api/v1/orgs/demo_org/webhooks");
    expect(r.status()).toBe(403);
  });
});
