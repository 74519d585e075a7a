import { test, expect } from "@playwright/test";
import { bearer, cookie, leakIn, postActionForm, raw, slugFor, TUS, uid, uploadVersion, type Answer } from "./helpers";

// OWASP API8:2023 Security Misconfiguration. Issue 10 §5: every page and every API answer carries
// the security headers — a nonce-based CSP on pages, frame-ancestors / X-Frame-Options,
// X-Content-Type-Options: nosniff, a Referrer-Policy — and no answer shows server paths or pids
// (§9), including /api/health for anonymous callers.

const REFERRER_POLICIES = ["no-referrer", "same-origin", "strict-origin", "strict-origin-when-cross-origin"];

function directive(csp: string, name: string): string | undefined {
  return csp
    .split(";")
    .map((d) => d.trim())
    .find((d) => d.toLowerCase().startsWith(`${name} `) || d.toLowerCase() === name);
}

/** What is missing from an answer's common security headers. */
function headerProblems(label: string, a: Answer): string[] {
  const h = a.headers;
  const problems: string[] = [];
  if ((h["x-content-type-options"] ?? "").toLowerCase() !== "nosniff")
    problems.push(`${label}: X-Content-Type-Options is ${h["x-content-type-options"]}`);
  if (!REFERRER_POLICIES.includes((h["referrer-policy"] ?? "").toLowerCase()))
    problems.push(`${label}: Referrer-Policy is ${h["referrer-policy"]}`);
  const csp = h["content-security-policy"] ?? "";
  const fa = directive(csp, "frame-ancestors");
  const xfo = (h["x-frame-options"] ?? "").toUpperCase();
  const framingOk = (fa !== undefined && /'none'|'self'/.test(fa) && !fa.includes("*")) || xfo === "DENY" || xfo === "SAMEORIGIN";
  if (!framingOk) problems.push(`${label}: no frame-ancestors 'none'|'self' and X-Frame-Options ${h["x-frame-options"]}`);
  if (h["x-powered-by"]) problems.push(`${label}: X-Powered-By ${h["x-powered-by"]}`);
  const leak = leakIn(JSON.stringify(h));
  if (leak) problems.push(`${label}: headers ${leak}`);
  return problems;
}

/** A page's CSP: scripts only with this response's nonce, and every <script> in the HTML carries it. */
function cspProblems(label: string, a: Answer): string[] {
  const csp = a.headers["content-security-policy"];
  if (!csp) return [`${label}: no Content-Security-Policy`];
  const problems: string[] = [];
  const scriptSrc = directive(csp, "script-src") ?? directive(csp, "default-src");
  const nonce = /'nonce-([A-Za-z0-9+/=_-]{16,})'/.exec(scriptSrc ?? "")?.[1];
  if (!nonce) problems.push(`${label}: script-src has no nonce of 16+ characters: ${scriptSrc}`);
  if (scriptSrc && /(^|\s)(\*|https?:|data:)(\s|$)/.test(scriptSrc)) problems.push(`${label}: script-src allows any source: ${scriptSrc}`);
  if (!directive(csp, "object-src") && !/default-src 'none'/.test(csp)) problems.push(`${label}: no object-src`);
  if (!directive(csp, "base-uri")) problems.push(`${label}: no base-uri`);
  if (nonce) {
    const scripts = a.body.match(/<script\b[^>]*>/g) ?? [];
    const without = scripts.filter((s) => !s.includes(`nonce="${nonce}"`));
    if (scripts.length === 0) problems.push(`${label}: no <script> tags at all (is this the page?)`);
    if (without.length) problems.push(`${label}: ${without.length} of ${scripts.length} <script> tags lack the nonce, e.g. ${without[0]}`);
  }
  return problems;
}

test.describe("security headers and misconfiguration (API8)", () => {
  test("pages carry a nonce-based CSP and the other security headers, with a fresh nonce per response", async ({ request }) => {
    const slug = slugFor("headers");
    await uploadVersion(request, bearer("bob"), { model: slug, version: "1.0" });
    const pages: [string, Record<string, string>][] = [
      ["/sign-in", {}],
      ["/sign-up", {}],
      ["/orgs/demo_org", cookie("bob")],
      [`/orgs/demo_org/models/${slug}`, cookie("bob")],
      ["/orgs/demo_org/upload", cookie("bob")],
      ["/orgs/demo_org/tokens", cookie("bob")],
      ["/orgs/demo_org/audit", cookie("bob")],
      ["/orgs/demo_org/usage", cookie("bob")],
    ];
    const problems: string[] = [];
    for (const [p, headers] of pages) {
      const a = await raw({ method: "GET", path: p, headers });
      if (a.status !== 200) {
        problems.push(`${p} → ${a.status}`);
        continue;
      }
      problems.push(...headerProblems(p, a), ...cspProblems(p, a));
      const again = await raw({ method: "GET", path: p, headers });
      const n1 = /'nonce-([^']+)'/.exec(a.headers["content-security-policy"] ?? "")?.[1];
      const n2 = /'nonce-([^']+)'/.exec(again.headers["content-security-policy"] ?? "")?.[1];
      if (n1 && n1 === n2) problems.push(`${p}: the same nonce twice (${n1}): a cached page cannot carry a per-response nonce`);
    }
    expect(problems).toEqual([]);
  });

  test("API answers — success, errors, downloads, health, tus — carry nosniff, a Referrer-Policy and refuse framing", async ({
    request,
  }) => {
    const slug = slugFor("apiheaders");
    await uploadVersion(request, bearer("bob"), { model: slug, version: "1.0" });
    const bob = bearer("bob");
    const answers: [string, Answer][] = [
      ["GET /api/v1/orgs (200)", await raw({ method: "GET", path: "/api/v1/orgs", headers: bob })],
      ["GET /api/v1/orgs (401)", await raw({ method: "GET", path: "/api/v1/orgs" })],
      ["GET a missing model (404)", await raw({ method: "GET", path: "/api/v1/orgs/demo_org/models/nope_nothing", headers: bob })],
      ["GET an unknown API path", await raw({ method: "GET", path: "/api/v1/nothing-here" })],
      ["GET a download", await raw({ method: "GET", path: `/api/v1/orgs/demo_org/models/${slug}/versions/1.0/download`, headers: bob })],
      ["GET the audit CSV", await raw({ method: "GET", path: "/api/v1/orgs/demo_org/audit?format=csv&limit=1", headers: bob })],
      ["GET /api/health", await raw({ method: "GET", path: "/api/health" })],
      ["GET /api/v1/openapi.json", await raw({ method: "GET", path: "/api/v1/openapi.json" })],
      [
        "POST /api/v1/auth/sign-in (401)",
        await raw({
          method: "POST",
          path: "/api/v1/auth/sign-in",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ email: `nobody-${uid()}@hostile.test`, password: "x" }),
        }),
      ],
      ["OPTIONS /api/v1/uploads", await raw({ method: "OPTIONS", path: "/api/v1/uploads", headers: { origin: "http://evil.example" } })],
      [
        "HEAD an unknown upload",
        await raw({ method: "HEAD", path: "/api/v1/uploads/0123456789abcdef0123456789abcdef", headers: { ...bob, ...TUS } }),
      ],
    ];
    const problems = answers.flatMap(([label, a]) => headerProblems(label, a));
    expect(problems).toEqual([]);
  });

  test("/api/health tells anonymous callers the state, not paths, pids or internals", async () => {
    const a = await raw({ method: "GET", path: "/api/health" });
    expect(a.status).toBe(200);
    expect(leakIn(a.body)).toBeNull();
    const walk = (v: unknown, at: string): string[] =>
      v && typeof v === "object"
        ? Object.entries(v).flatMap(([k, x]) => [
            ...(/path|dir|pid|file|host|url|user|error|stack/i.test(k) ? [`${at}.${k}`] : []),
            ...walk(x, `${at}.${k}`),
          ])
        : [];
    expect(walk(JSON.parse(a.body), "health")).toEqual([]);
    // Query tricks do not unlock more detail.
    for (const q of ["?verbose=1", "?debug=true", "?detail=full"]) {
      const b = await raw({ method: "GET", path: `/api/health${q}` });
      expect(leakIn(b.body)).toBeNull();
      expect(b.body.length).toBeLessThanOrEqual(a.body.length + 64);
    }
  });

  test("error pages and CORS do not open doors", async () => {
    const problems: string[] = [];
    for (const p of [
      "/orgs/no_such_org_hx",
      "/orgs/demo_org/models/no_such_model_hx",
      "/orgs/%00",
      "/orgs/demo_org/models/%2e%2e%2f%2e%2e%2fetc",
    ]) {
      const a = await raw({ method: "GET", path: p, headers: cookie("bob") });
      if (a.status >= 500) problems.push(`${p} → ${a.status}`);
      const leak = leakIn(a.body);
      if (leak) problems.push(`${p}: ${leak}`);
    }
    // No API answer lets another origin read it with the user's cookie.
    for (const [method, p] of [
      ["GET", "/api/v1/orgs"],
      ["OPTIONS", "/api/v1/orgs"],
      ["OPTIONS", "/api/v1/uploads"],
      ["POST", "/api/v1/uploads"],
    ] as const) {
      const a = await raw({
        method,
        path: p,
        headers: { ...cookie("bob"), origin: "http://evil.example", "access-control-request-method": "POST", ...TUS },
      });
      const allowOrigin = a.headers["access-control-allow-origin"];
      const allowCreds = a.headers["access-control-allow-credentials"];
      if (allowOrigin === "http://evil.example" && allowCreds === "true")
        problems.push(`${method} ${p}: lets http://evil.example read answers with credentials`);
    }
    expect(problems).toEqual([]);
  });

  test("the session cookie is HttpOnly, SameSite, site-wide and set only on success", async ({ request }) => {
    const failed = await request.post("/api/v1/auth/sign-in", { data: { email: `nobody-${uid()}@hostile.test`, password: "x" } });
    expect(failed.headers()["set-cookie"]).toBeUndefined();
    const email = `cookie-${uid()}@hostile.test`;
    const r = await postActionForm(request, "/sign-up", "sign-up-form", {
      displayName: "Cookie",
      email,
      password: "a-long-enough-password",
    });
    expect(r.status()).toBe(303);
    const setCookie = r.headers()["set-cookie"] ?? "";
    expect(setCookie).toMatch(/fm_session=[^;]+/);
    const attrs = setCookie.split(";").map((a) => a.trim().toLowerCase());
    expect(attrs).toContain("httponly");
    expect(attrs).toContain("path=/");
    expect(attrs.some((a) => a === "samesite=lax" || a === "samesite=strict")).toBe(true);
    expect(attrs.some((a) => a.startsWith("domain="))).toBe(false);
  });
});
