import crypto from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import { test, expect, type APIRequestContext } from "@playwright/test";
import { PASSWORD, USERS } from "./pages";

// The REST API over real HTTP against the running app (embedded PGlite + local disk).

const FIXTURES = "test/fixtures/models";
const sha = (b: Buffer) => crypto.createHash("sha256").update(b).digest("hex");
const stamp = () => `${Date.now().toString(36)}${crypto.randomBytes(2).toString("hex")}`;

async function signIn(request: APIRequestContext, email: string) {
  const r = await request.post("/api/v1/auth/sign-in", { data: { email, password: PASSWORD } });
  expect(r.status()).toBe(200);
  return { Authorization: `Bearer ${(await r.json()).access_token}` };
}

/** A raw HTTP request, for what fetch clients refuse to do (lying Content-Length, hanging up). */
function raw(
  baseURL: string,
  opts: { method: string; path: string; headers: Record<string, string>; body?: Buffer; hangUpAfter?: number },
) {
  const url = new URL(opts.path, baseURL);
  return new Promise<{ status: number; body: string } | "hung-up">((resolve, reject) => {
    const req = http.request({
      host: url.hostname,
      port: url.port,
      path: url.pathname + url.search,
      method: opts.method,
      headers: opts.headers,
      agent: false,
    });
    req.on("response", (res) => {
      let body = "";
      res.on("data", (c) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", (e) => (opts.hangUpAfter !== undefined ? resolve("hung-up") : reject(e)));
    if (opts.hangUpAfter !== undefined) {
      req.write(opts.body!.subarray(0, opts.hangUpAfter));
      setTimeout(() => req.destroy(), 300);
    } else {
      req.end(opts.body);
    }
  });
}

test.describe("REST API v1", () => {
  let bob: Record<string, string>;
  let vera: Record<string, string>;
  const file = fs.readFileSync(`${FIXTURES}/churn_model_v1.onnx`);
  const model = `api_churn_${stamp()}`;
  const base = `/api/v1/orgs/demo_org/models/${model}`;

  test.beforeAll(async ({ playwright, baseURL }) => {
    const request = await playwright.request.newContext({ baseURL });
    bob = await signIn(request, USERS.bob);
    vera = await signIn(request, USERS.vera);
    await request.dispose();
  });

  test("upload, read back, download with Range/ETag, and refuse a second upload of the version", async ({ request }) => {
    const up = await request.put(`${base}/versions/1.0?filename=churn.onnx`, {
      headers: {
        ...bob,
        "content-type": "application/octet-stream",
        "x-model-metadata": JSON.stringify({ name: "API churn", task_type: "classification", tags: ["api"] }),
        "x-content-sha256": sha(file),
      },
      data: file,
    });
    expect(up.status(), await up.text()).toBe(201);
    const v = await up.json();
    expect(v).toMatchObject({
      version: "1.0",
      size_bytes: file.length,
      sha256: sha(file),
      format: "onnx",
      status: "ready",
      scan: { verdict: "safe" },
    });
    expect({ file_count: v.file_count, layout: v.layout, file_name: v.file_name }).toEqual({
      file_count: 1,
      layout: "single-file",
      file_name: "churn.onnx",
    });
    const listed = await (await request.get(`${base}/versions/1.0/files`, { headers: bob })).json();
    expect(listed.items.map((f: { path: string; sha256: string }) => [f.path, f.sha256])).toEqual([["churn.onnx", sha(file)]]);

    const again = await request.put(`${base}/versions/1.0?filename=churn.onnx`, {
      headers: bob,
      data: fs.readFileSync(`${FIXTURES}/credit_risk_v2.1.pkl`),
    });
    expect(again.status()).toBe(409);
    expect((await again.json()).error.code).toBe("conflict");

    const dl = await request.get(`${base}/versions/1.0/download`, { headers: vera });
    expect(dl.status()).toBe(200);
    expect(sha(await dl.body())).toBe(sha(file));
    expect(dl.headers()["etag"]).toBe(`"${sha(file)}"`);
    expect(dl.headers()["x-content-sha256"]).toBe(sha(file));
    // A file downloads under its own name (docs/decisions.md); a whole version as <model>-<version>.zip|tar.
    expect(dl.headers()["content-disposition"]).toContain(`filename="churn.onnx"`);

    const part = await request.get(`${base}/versions/1.0/download`, { headers: { ...vera, range: "bytes=100-199" } });
    expect(part.status()).toBe(206);
    expect(part.headers()["content-range"]).toBe(`bytes 100-199/${file.length}`);
    expect(Buffer.compare(await part.body(), file.subarray(100, 200))).toBe(0);
    expect((await request.get(`${base}/versions/1.0/download`, { headers: { ...vera, range: `bytes=${file.length}-` } })).status()).toBe(
      416,
    );
    expect((await request.get(`${base}/versions/1.0/download`, { headers: { ...vera, "if-none-match": `"${sha(file)}"` } })).status()).toBe(
      304,
    );

    const list = await (await request.get(`/api/v1/orgs/demo_org/models?q=${model}`, { headers: vera })).json();
    expect(list.items.map((m: { slug: string }) => m.slug)).toEqual([model]);
  });

  test("signed links download without a session; tampered links do not", async ({ request }) => {
    const r = await request.post(`/api/v1/orgs/demo_org/models/credit_risk/versions/2.1/link`, { headers: vera });
    expect(r.status()).toBe(201);
    const { url, expires_at } = await r.json();
    expect(new Date(expires_at).getTime()).toBeGreaterThan(Date.now());
    const ok = await request.get(url);
    expect(ok.status()).toBe(200);
    expect(sha(await ok.body())).toBe(sha(fs.readFileSync(`${FIXTURES}/credit_risk_v2.1.pkl`)));
    const bad = await request.get(url.slice(0, -3) + "AAA");
    expect(bad.status()).toBe(401);
  });

  test("hostile names, versions, types and sizes get a clear 4xx and store nothing", async ({ request, baseURL }) => {
    const body = fs.readFileSync(`${FIXTURES}/credit_risk_v2.1.pkl`);
    const cases: [string, number[]][] = [
      [`/api/v1/orgs/demo_org/models/%2e%2e/versions/1.0?filename=m.pkl`, [404, 422]],
      [`/api/v1/orgs/demo_org/models/..%2f..%2fetc/versions/1.0?filename=m.pkl`, [404, 422]],
      [`/api/v1/orgs/demo_org/models/ok_${stamp()}/versions/1.0?filename=..%2F..%2Fpasswd.pkl`, [201]],
      [`/api/v1/orgs/demo_org/models/ok_${stamp()}/versions/1.0?filename=m.exe`, [415]],
      [`/api/v1/orgs/demo_org/models/ok_${stamp()}/versions/01.2?filename=m.pkl`, [422]],
      [`/api/v1/orgs/demo_org/models/ok_${stamp()}/versions/1.0.0.0?filename=m.pkl`, [422]],
      [`/api/v1/orgs/demo_org/models/ok_${stamp()}/versions/1.0%00?filename=m.pkl`, [404, 422]],
      [`/api/v1/orgs/demo_org/models/%EF%BD%8Dodel/versions/1.0?filename=m.pkl`, [404, 422]],
      [`/api/v1/orgs/..%5C..%5Cadmin_org/models/x/versions/1.0?filename=m.pkl`, [404]],
    ];
    for (const [path, statuses] of cases) {
      const r = await request.put(path, { headers: bob, data: body });
      expect(statuses, `${path} -> ${r.status()} ${await r.text()}`).toContain(r.status());
      if (r.status() === 201) {
        // The client's file name is display-only (its last segment, cleaned): the key is built by the server.
        const v = await r.json();
        expect(v.file_name).toBe("passwd.pkl");
        expect(v.file_count).toBe(1);
      } else {
        expect((await r.json()).error.code).toMatch(/^[a-z_]+$/);
      }
    }
    // Too large by its headers: refused before the body is read.
    const big = await raw(baseURL!, {
      method: "PUT",
      path: `${base}/versions/9.0?filename=big.pkl`,
      headers: { ...bob, "content-length": String(6 * 1024 ** 3) },
    });
    expect(big !== "hung-up" && big.status).toBe(413);
    // Bad metadata is a 422 with field errors.
    const meta = await request.put(`${base}/versions/9.1?filename=m.pkl`, {
      headers: { ...bob, "x-model-metadata": '{"task_type":"astrology"}' },
      data: body,
    });
    expect(meta.status()).toBe(422);
    expect((await meta.json()).error.details.fields).toHaveProperty("task_type");
    // A wrong expected SHA-256 is refused and the version stays free.
    const wrong = await request.put(`${base}/versions/9.2?filename=m.pkl`, {
      headers: { ...bob, "x-content-sha256": "0".repeat(64) },
      data: body,
    });
    expect(wrong.status()).toBe(422);
    expect((await wrong.json()).error.code).toBe("checksum_mismatch");
    expect((await request.get(`${base}/versions/9.2`, { headers: bob })).status()).toBe(404);
  });

  test("a client that hangs up halfway leaves no version, and the version can be uploaded again", async ({ request, baseURL }) => {
    const body = fs.readFileSync(`${FIXTURES}/demand_arima_v1.0.pkl`);
    const r = await raw(baseURL!, {
      method: "PUT",
      path: `${base}/versions/2.0?filename=m.pkl`,
      headers: { ...bob, "content-length": String(body.length) },
      body,
      hangUpAfter: 50_000,
    });
    expect(r).toBe("hung-up");
    await expect.poll(async () => (await request.get(`${base}/versions/2.0`, { headers: bob })).status()).toBe(404);
    await expect
      .poll(async () => (await request.put(`${base}/versions/2.0?filename=m.pkl`, { headers: bob, data: body })).status(), {
        timeout: 10_000,
      })
      .toBe(201);
  });

  test("viewers cannot write; tokens are capped, revocable and shown once", async ({ request }) => {
    const denied = await request.put(`${base}/versions/3.0?filename=m.pkl`, {
      headers: vera,
      data: fs.readFileSync(`${FIXTURES}/credit_risk_v2.1.pkl`),
    });
    expect(denied.status()).toBe(403);
    expect((await request.delete(`/api/v1/orgs/demo_org/models/credit_risk/versions/2.1`, { headers: vera })).status()).toBe(403);

    const tooStrong = await request.post("/api/v1/tokens", { headers: vera, data: { org: "demo_org", name: "ci", role: "member" } });
    expect(tooStrong.status()).toBe(403);
    const created = await request.post("/api/v1/tokens", {
      headers: bob,
      data: { org: "demo_org", name: "pipeline", role: "viewer", expires_in_days: 1 },
    });
    expect(created.status()).toBe(201);
    const { token, id } = await created.json();
    expect(token).toMatch(/^fm_/);
    const listed = await (await request.get("/api/v1/tokens?org=demo_org", { headers: bob })).json();
    expect(JSON.stringify(listed)).not.toContain(token);
    const auth = { Authorization: `Bearer ${token}` };
    expect((await request.get("/api/v1/orgs/demo_org/models", { headers: auth })).status()).toBe(200);
    expect((await request.put(`${base}/versions/3.1?filename=m.pkl`, { headers: auth, data: Buffer.from("x") })).status()).toBe(403);
    expect((await request.delete(`/api/v1/tokens/${id}`, { headers: bob })).status()).toBe(204);
    const revoked = await request.get("/api/v1/orgs/demo_org/models", { headers: auth });
    expect(revoked.status()).toBe(401);
  });

  test("aliases move and keep their history", async ({ request }) => {
    const file2 = fs.readFileSync(`${FIXTURES}/churn_model_v1.onnx`);
    const m = `alias_${stamp()}`;
    for (const version of ["1.0", "1.1"]) {
      expect(
        (
          await request.put(`/api/v1/orgs/demo_org/models/${m}/versions/${version}?filename=c.onnx`, { headers: bob, data: file2 })
        ).status(),
      ).toBe(201);
    }
    for (const version of ["1.0", "1.1"]) {
      const r = await request.put(`/api/v1/orgs/demo_org/models/${m}/aliases/production`, { headers: bob, data: { version } });
      expect(r.status()).toBe(200);
    }
    expect(
      (await request.put(`/api/v1/orgs/demo_org/models/${m}/aliases/production`, { headers: vera, data: { version: "1.0" } })).status(),
    ).toBe(403);
    const a = await (await request.get(`/api/v1/orgs/demo_org/models/${m}/aliases`, { headers: vera })).json();
    expect(a.items).toMatchObject([{ alias: "production", version: "1.1" }]);
    expect(a.history.map((h: { from: string | null; to: string }) => [h.from, h.to])).toEqual([
      ["1.0", "1.1"],
      [null, "1.0"],
    ]);
  });

  test("resumable upload (tus): create, send in two parts, resume from the offset, finish", async ({ request }) => {
    const body = fs.readFileSync(`${FIXTURES}/price_optimization_v1.3.pkl`);
    const m = `tus_${stamp()}`;
    const b64 = (s: string) => Buffer.from(s).toString("base64");
    const create = await request.post("/api/v1/uploads", {
      headers: {
        ...bob,
        "tus-resumable": "1.0.0",
        "upload-length": String(body.length),
        "upload-metadata": [
          `org ${b64("demo_org")}`,
          `model ${b64(m)}`,
          `version ${b64("1.0")}`,
          `filename ${b64("price.pkl")}`,
          `metadata ${b64(JSON.stringify({ task_type: "regression" }))}`,
        ].join(","),
      },
    });
    expect(create.status(), await create.text()).toBe(201);
    const location = create.headers()["location"]!;
    const path = new URL(location, "http://x").pathname;
    const half = 40_000;
    const p1 = await request.patch(path, {
      headers: { ...bob, "tus-resumable": "1.0.0", "upload-offset": "0", "content-type": "application/offset+octet-stream" },
      data: body.subarray(0, half),
    });
    expect(p1.status()).toBe(204);
    const head = await request.head(path, { headers: { ...bob, "tus-resumable": "1.0.0" } });
    expect(head.headers()["upload-offset"]).toBe(String(half));
    // Another user cannot touch it.
    expect((await request.head(path, { headers: { ...vera, "tus-resumable": "1.0.0" } })).status()).toBe(404);
    const p2 = await request.patch(path, {
      headers: { ...bob, "tus-resumable": "1.0.0", "upload-offset": String(half), "content-type": "application/offset+octet-stream" },
      data: body.subarray(half),
    });
    expect(p2.status(), await p2.text()).toBe(200);
    expect(await p2.json()).toMatchObject({ version: "1.0", sha256: sha(body), size_bytes: body.length, status: "ready" });
    const dl = await request.get(`/api/v1/orgs/demo_org/models/${m}/versions/1.0/download`, { headers: vera });
    expect(sha(await dl.body())).toBe(sha(body));
    // Creating the same version again is refused before any byte is sent.
    const dup = await request.post("/api/v1/uploads", {
      headers: {
        ...bob,
        "tus-resumable": "1.0.0",
        "upload-length": "10",
        "upload-metadata": [`org ${b64("demo_org")}`, `model ${b64(m)}`, `version ${b64("1.0")}`, `filename ${b64("p.pkl")}`].join(","),
      },
    });
    expect(dup.status()).toBe(409);
  });

  test("the OpenAPI document and the health check answer", async ({ request }) => {
    const doc = await (await request.get("/api/v1/openapi.json")).json();
    expect(doc.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.paths)).toContain("/api/v1/orgs/{org}/models/{model}/versions/{version}");
    const health = await (await request.get("/api/health")).json();
    const mode = test.info().project.name === "api-postgres" ? "postgres" : "embedded";
    expect(health).toMatchObject({
      status: "ok",
      mode,
      database: { ok: true },
      storage: { ok: true, backend: "local", bucket: "ai-models" },
    });
  });
});
