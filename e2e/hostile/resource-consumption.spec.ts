import http from "node:http";
import { test, expect } from "@playwright/test";
import {
  baseURL,
  bearer,
  collectProblems,
  expectError,
  fixture,
  partialBody,
  problemWith,
  raw,
  slugFor,
  TUS,
  tusMetadata,
  uploadVersion,
  type Answer,
} from "./helpers";

// OWASP API4:2023 Unrestricted Resource Consumption. JSON bodies are capped before they are read
// whole (issue 10 §1: five 100 MB sign-in bodies grew the server by 740 MB); a body that declares a
// large Content-Length is refused from its headers; list sizes, query strings and headers are bounded.

const JSON_CAP = 64 * 1024;
const MiB = 1024 * 1024;

/** Streams a chunked body of up to `max` bytes in 64 KiB pieces; how much went out before the answer. */
function streamUntilAnswered(path: string, headers: Record<string, string>, max: number): Promise<Answer & { sent: number }> {
  const url = new URL(baseURL());
  const t = performance.now();
  return new Promise((resolve) => {
    let sent = 0;
    let answered: Answer | undefined;
    const req = http.request({
      host: url.hostname,
      port: url.port,
      path,
      method: "POST",
      agent: false,
      headers: { ...headers, "transfer-encoding": "chunked" },
    });
    const finish = (a: Answer) => {
      if (answered) return;
      answered = a;
      clearTimeout(timer);
      resolve({ ...a, sent });
      req.destroy();
    };
    const timer = setTimeout(() => finish({ status: 0, headers: {}, body: "no answer within 30 s", ms: 30_000 }), 30_000);
    let status = 0;
    req.on("response", (res) => {
      status = res.statusCode ?? 0;
      const sentAtAnswer = sent;
      const chunks: Buffer[] = [];
      const done = () => {
        sent = sentAtAnswer;
        finish({
          status,
          headers: res.headers as Record<string, string>,
          body: Buffer.concat(chunks).toString(),
          ms: performance.now() - t,
        });
      };
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", done);
      res.on("error", done);
      setTimeout(done, 1000);
    });
    req.on("error", () => {
      if (!status) finish({ status: -1, headers: {}, body: "connection closed before an answer", ms: performance.now() - t });
    });
    const piece = Buffer.alloc(64 * 1024, 0x20);
    piece.write('{"email":"');
    const pump = () => {
      if (answered || status) return;
      if (sent >= max) return void req.end();
      sent += piece.length;
      if (req.write(sent === piece.length ? piece : Buffer.alloc(piece.length, 0x61))) setTimeout(pump, 2);
      else req.once("drain", () => setTimeout(pump, 2));
    };
    pump();
  });
}

test.describe("unrestricted resource consumption (API4)", () => {
  test("an honest oversized JSON body is a 413 on every JSON route", async () => {
    const big = JSON.stringify({
      name: "x",
      description: "d".repeat(JSON_CAP * 2),
      email: "a@b.test",
      password: "p",
      org: "demo_org",
      version: "1.0",
    });
    const model = "credit_risk";
    const routes: [string, string, boolean][] = [
      ["POST", "/api/v1/auth/sign-in", false],
      ["POST", "/api/v1/orgs/demo_org/models", true],
      ["PATCH", `/api/v1/orgs/demo_org/models/${model}`, true],
      ["PUT", `/api/v1/orgs/demo_org/models/${model}/aliases/hx`, true],
      ["POST", "/api/v1/tokens", true],
      ["POST", "/api/v1/uploads/reservations", true],
      ["POST", `/api/v1/uploads/reservations/00000000-0000-0000-0000-000000000000/complete`, true],
    ];
    const problems = await collectProblems(routes, async ([method, p, auth]) =>
      problemWith(
        `${method} ${p} with ${big.length} bytes`,
        await raw({ method, path: p, headers: { "content-type": "application/json", ...(auth ? bearer("bob") : {}) }, body: big }),
        {
          status: [413],
          code: ["payload_too_large"],
        },
      ),
    );
    expect(problems).toEqual([]);
  });

  test("a body that declares 100 MB and sends 1 KB is refused at once from its headers, not waited for", async () => {
    const routes: [string, string, Record<string, string>][] = [
      ["POST", "/api/v1/auth/sign-in", {}],
      ["POST", "/api/v1/orgs/demo_org/models", bearer("bob")],
      ["POST", "/api/v1/tokens", bearer("bob")],
      ["PUT", "/api/v1/orgs/demo_org/models/credit_risk/aliases/hx", bearer("bob")],
    ];
    const problems: string[] = [];
    for (const [method, p, auth] of routes) {
      const a = await partialBody({
        method,
        path: p,
        headers: { "content-type": "application/json", ...auth },
        declared: 100 * MiB,
        send: 1024,
        waitMs: 5_000,
      });
      const problem = problemWith(`${method} ${p} declaring 100 MB`, a, { status: [413], code: ["payload_too_large"] });
      if (problem) problems.push(problem);
    }
    expect(problems).toEqual([]);
  });

  test("an unauthenticated chunked body is cut off at a small cap, not read to its end", async () => {
    const a = await streamUntilAnswered("/api/v1/auth/sign-in", { "content-type": "application/json" }, 32 * MiB);
    expect(problemWith("chunked 32 MiB sign-in", a, { status: [413], code: ["payload_too_large"] })).toBeNull();
    // Read whole, the server would answer only after all 32 MiB; a cap answers within a few MiB.
    expect(a.sent, `bytes sent before the server answered`).toBeLessThanOrEqual(4 * MiB);
  });

  test("list sizes are bounded: huge, negative, fractional and non-numeric limits are 4xx", async ({ request }) => {
    const bob = bearer("bob");
    const limits = ["1000000", "201", "-1", "0", "2.5", "1e3", "abc", "99999999999999999999999", "", " ", "[]"];
    const problems = await collectProblems(
      limits.flatMap((l) => [
        `/api/v1/orgs/demo_org/models?limit=${encodeURIComponent(l)}`,
        `/api/v1/orgs/demo_org/audit?limit=${encodeURIComponent(l)}`,
      ]),
      async (p) => {
        const r = await request.get(p, { headers: bob });
        const a = { status: r.status(), headers: r.headers(), body: await r.text(), ms: 0 };
        if (a.status === 200) {
          // Only an empty limit may fall back to the default; it must never list more than 200.
          const items = (JSON.parse(a.body) as { items: unknown[] }).items;
          return /limit=(%20)?$/.test(p) && items.length <= 200 ? null : `${p} → 200 with ${items.length} items`;
        }
        return problemWith(p, a, { status: [400, 422] });
      },
    );
    expect(problems).toEqual([]);
    const ok = await (await request.get("/api/v1/orgs/demo_org/models?limit=200", { headers: bob })).json();
    expect(ok.items.length).toBeLessThanOrEqual(200);
  });

  test("long query strings and headers are a 4xx, never a 5xx", async () => {
    const bob = bearer("bob");
    const cases: [string, Record<string, string>, number[], boolean][] = [
      [`/api/v1/orgs/demo_org/models?q=${"a".repeat(10_000)}`, bob, [400, 414, 422, 431], true],
      [`/api/v1/orgs/demo_org/models?framework=${"f".repeat(10_000)}`, bob, [400, 414, 422, 431], true],
      [`/api/v1/orgs/demo_org/audit?actor=${"a".repeat(10_000)}`, bob, [400, 414, 422, 431], true],
      // Beyond Node's 16 KiB header limit the HTTP layer answers (431, our JSON error shape, and a
      // graceful close: lib/http/node-server.ts answerClientError).
      [`/api/v1/orgs/demo_org/models?q=${"a".repeat(40_000)}`, bob, [431], true],
      ["/api/v1/orgs/demo_org/models", { ...bob, "x-padding": "p".repeat(40_000) }, [431], true],
      ["/api/v1/orgs", { authorization: `Bearer ${"x".repeat(12_000)}` }, [401], true],
      ["/api/v1/orgs", { ...bob, cookie: `fm_session=${"x".repeat(12_000)}` }, [200], true],
    ];
    const problems = await collectProblems(cases, async ([p, headers, status, json]) =>
      problemWith(
        `GET ${p.slice(0, 80)}… (${JSON.stringify(headers).length} header bytes)`,
        await raw({ method: "GET", path: p, headers }),
        { status, json },
      ),
    );
    expect(problems).toEqual([]);
  });

  test("oversized metadata, tags and nesting are refused with a 4xx", async ({ request }) => {
    const bob = bearer("bob");
    const slug = slugFor("big");
    const onnx = fixture("churn_model_v1.onnx");
    const put = (meta: string) =>
      raw({
        method: "PUT",
        path: `/api/v1/orgs/demo_org/models/${slug}/versions/1.0?filename=m.onnx`,
        headers: { ...bob, "x-model-metadata": meta },
        body: onnx,
      });
    const problems = [
      problemWith("X-Model-Metadata with a 12 KB description", await put(JSON.stringify({ description: "d".repeat(12_000) })), {
        status: [400, 413, 422, 431],
      }),
      problemWith(
        "X-Model-Metadata with 1,000 tags",
        await put(JSON.stringify({ tags: Array.from({ length: 1000 }, (_, i) => `t${i}`) })),
        { status: [400, 413, 422, 431] },
      ),
      problemWith("X-Model-Metadata nested 5,000 deep", await put(`${"[".repeat(5000)}${"]".repeat(5000)}`), { status: [400, 422, 431] }),
      problemWith(
        "model JSON nested 20,000 deep",
        await raw({
          method: "POST",
          path: "/api/v1/orgs/demo_org/models",
          headers: { ...bob, "content-type": "application/json" },
          body: `{"name":${"[".repeat(20_000)}${"]".repeat(20_000)}}`,
        }),
        { status: [400, 413, 422] },
      ),
      problemWith(
        "a model with 33 tags",
        await raw({
          method: "POST",
          path: "/api/v1/orgs/demo_org/models",
          headers: { ...bob, "content-type": "application/json" },
          body: JSON.stringify({ name: "tags", task_type: "other", tags: Array.from({ length: 33 }, (_, i) => `t${i}`) }),
        }),
        { status: [422] },
      ),
      problemWith(
        "a token name of 5,000 characters",
        await raw({
          method: "POST",
          path: "/api/v1/tokens",
          headers: { ...bob, "content-type": "application/json" },
          body: JSON.stringify({ org: "demo_org", name: "n".repeat(5000), role: "viewer" }),
        }),
        { status: [422] },
      ),
    ].filter(Boolean);
    expect(problems).toEqual([]);
    // Nothing was created by the refused uploads.
    expect((await request.get(`/api/v1/orgs/demo_org/models/${slug}/versions/1.0`, { headers: bob })).status()).toBe(404);
  });

  test("declared upload sizes beyond the limit are refused before a byte is read (PUT and tus)", async () => {
    const bob = bearer("bob");
    const slug = slugFor("huge");
    const put = await partialBody({
      method: "PUT",
      path: `/api/v1/orgs/demo_org/models/${slug}/versions/1.0?filename=m.onnx`,
      headers: bob,
      declared: 6 * 1024 ** 3,
      send: 1024,
      waitMs: 5_000,
    });
    const tus = await raw({
      method: "POST",
      path: "/api/v1/uploads",
      headers: {
        ...bob,
        ...TUS,
        "upload-length": String(6 * 1024 ** 3),
        "upload-metadata": tusMetadata({ org: "demo_org", model: slug, version: "1.0", filename: "m.onnx" }),
      },
    });
    const odd = await collectProblems(["-1", "abc", "1e9", "99999999999999999999999", "0x10", ""], async (len) =>
      problemWith(
        `tus Upload-Length ${JSON.stringify(len)}`,
        await raw({
          method: "POST",
          path: "/api/v1/uploads",
          headers: {
            ...bob,
            ...TUS,
            "upload-length": len,
            "upload-metadata": tusMetadata({ org: "demo_org", model: slug, version: "2.0", filename: "m.onnx" }),
          },
        }),
        {
          status: [400, 413, 422],
          json: false,
        },
      ),
    );
    expect(
      [
        problemWith("PUT declaring 6 GiB", put, { status: [413], code: ["payload_too_large"] }),
        problemWith("tus Upload-Length 6 GiB", tus, { status: [413], json: false }),
        ...odd,
      ].filter(Boolean),
    ).toEqual([]);
  });

  test("a thousand ranges in one Range header get a bounded answer", async ({ request }) => {
    const slug = slugFor("ranges");
    const v = await uploadVersion(request, bearer("bob"), { model: slug, version: "1.0" });
    const ranges = `bytes=${Array.from({ length: 1000 }, (_, i) => `${i}-${i}`).join(",")}`;
    const a = await raw({
      method: "GET",
      path: `/api/v1/orgs/demo_org/models/${slug}/versions/1.0/download`,
      headers: { ...bearer("bob"), range: ranges },
    });
    expect(problemWith("1,000 ranges", a, { status: [200, 206, 416] })).toBeNull();
    expect(a.bytes?.length ?? 0).toBeLessThanOrEqual(v.size_bytes * 2);
    await expectError(
      await request.get(`/api/v1/orgs/demo_org/models/${slug}/versions/1.0/download`, {
        headers: { ...bearer("bob"), range: `bytes=${v.size_bytes}-` },
      }),
      416,
      "range_not_satisfiable",
    );
  });
});
