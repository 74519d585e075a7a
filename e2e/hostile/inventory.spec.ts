import { test, expect } from "@playwright/test";
import { bearer, collectProblems, problemWith, raw } from "./helpers";

// OWASP API9:2023 Improper Inventory Management. Unknown API paths answer our JSON 404 (not the HTML
// page), known paths refuse methods they do not have in the same shape, every documented endpoint is
// really routed, and nothing outside public/ (sources, env files, the data directory) is served.

const CATCH_ALL = "No such API endpoint.";

test.describe("improper inventory (API9)", () => {
  test("unknown /api paths answer a JSON 404 for every method", async () => {
    const paths = [
      "/api",
      "/api/v0/orgs",
      "/api/v2/orgs",
      "/api/v1",
      "/api/v1/admin",
      "/api/v1/users",
      "/api/v1/debug",
      "/api/v1/auth/sign-up",
      "/api/v1/auth/sign-out",
      "/api/v1/orgs/demo_org/members",
      "/api/v1/orgs/demo_org/models/credit_risk/versions/2.1/download/extra",
      "/api/v1/orgs/demo_org/models/credit_risk/files",
      "/api/internal/health",
      "/api/v1/orgs/demo_org/models/%2e%2e/%2e%2e/%2e%2e/health",
    ];
    const methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"];
    const problems = await collectProblems(
      paths.flatMap((p) => methods.map((m) => [m, p] as const)),
      async ([method, p]) =>
        problemWith(`${method} ${p}`, await raw({ method, path: p, headers: bearer("bob") }), {
          status: [404],
          code: ["not_found"],
          json: method !== "HEAD",
        }),
    );
    expect(problems).toEqual([]);
  });

  test("a known path with a method it does not have answers 404 or 405 in the JSON shape", async () => {
    const cases: [string, string][] = [
      ["POST", "/api/v1/orgs"],
      ["DELETE", "/api/v1/orgs"],
      ["PUT", "/api/v1/orgs/demo_org/models"],
      ["POST", "/api/v1/orgs/demo_org/models/credit_risk"],
      ["POST", "/api/v1/orgs/demo_org/models/credit_risk/versions"],
      ["PATCH", "/api/v1/orgs/demo_org/models/credit_risk/versions/2.1"],
      ["DELETE", "/api/v1/orgs/demo_org/models/credit_risk/versions/2.1/download"],
      ["GET", "/api/v1/orgs/demo_org/models/credit_risk/versions/2.1/link"],
      ["DELETE", "/api/v1/orgs/demo_org/models/credit_risk/aliases"],
      ["GET", "/api/v1/auth/sign-in"],
      ["PUT", "/api/v1/tokens"],
      ["GET", "/api/v1/tokens/00000000-0000-0000-0000-000000000000"],
      ["POST", "/api/health"],
      ["GET", "/api/v1/uploads/reservations"],
      ["PUT", "/api/v1/uploads"],
    ];
    const problems = await collectProblems(cases, async ([method, p]) =>
      problemWith(`${method} ${p}`, await raw({ method, path: p, headers: bearer("bob") }), { status: [404, 405] }),
    );
    expect(problems).toEqual([]);
  });

  test("every endpoint the OpenAPI document lists is routed (never the catch-all)", async ({ request }) => {
    const doc = await (await request.get("/api/v1/openapi.json")).json();
    const ops = Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(([p, item]) =>
      Object.keys(item)
        .filter((m) => ["get", "post", "put", "patch", "delete", "head"].includes(m))
        .map(
          (m) =>
            [
              m.toUpperCase(),
              p.replace(
                /\{[^}]+\}/g,
                (x) =>
                  ({ "{org}": "demo_org", "{model}": "credit_risk", "{version}": "2.1", "{alias}": "production" })[x] ??
                  "00000000-0000-0000-0000-000000000000",
              ),
            ] as const,
        ),
    );
    expect(ops.length).toBeGreaterThan(10);
    const problems = await collectProblems(ops, async ([method, p]) => {
      const a = await raw({
        method,
        path: p,
        headers: { "content-type": "application/json" },
        body: method === "GET" || method === "HEAD" ? undefined : "{}",
      });
      if (a.status >= 500) return `${method} ${p} → ${a.status} ${a.body.slice(0, 120)}`;
      return a.body.includes(CATCH_ALL) || a.status === 405 ? `${method} ${p} is documented but not routed (${a.status})` : null;
    });
    expect(problems).toEqual([]);
  });

  test("sources, env files, the data directory and build internals are never served", async () => {
    const paths = [
      "/.env",
      "/.env.local",
      "/.env.local.example",
      "/.git/config",
      "/.git/HEAD",
      "/package.json",
      "/next.config.mjs",
      "/.next/BUILD_ID",
      "/.next/server/app/page.js",
      "/_next/../package.json",
      "/_next/static/../../package.json",
      "/_next/static/%2e%2e/%2e%2e/package.json",
      "/_next/static/..%2f..%2fpackage.json",
      "/.data/auth-secret",
      "/.data-e2e/auth-secret",
      "/.data-e2e-pg/auth-secret",
      "/storage/ai-models/demo_org/credit_risk_v2.1.pkl",
      "/ai-models/demo_org/credit_risk_v2.1.pkl",
      "/supabase/local/shim.sql",
      "/lib/config.ts",
    ];
    const problems = await collectProblems(paths, async (p) => {
      const a = await raw({ method: "GET", path: p });
      if (a.status >= 500) return `${p} → ${a.status}`;
      if (a.status === 200 && !/<html/i.test(a.body)) return `${p} → 200 with ${a.body.slice(0, 80)}`;
      if (/"dependencies"|AUTH_SECRET=|\[core\]|ref: refs\/|create table|getConfig/.test(a.body)) return `${p} serves a server file`;
      return null;
    });
    expect(problems).toEqual([]);
  });
});
