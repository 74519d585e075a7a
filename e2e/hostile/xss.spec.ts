import { test, expect } from "@playwright/test";
import { bearer, cookie, fixture, postActionForm, raw, signUp, slugFor, uid } from "./helpers";

// Stored and reflected XSS: names, descriptions, file names, user agents and query strings with
// markup render as inert text on every page that shows them; redirects after sign-in stay on site.

const MARKUP = {
  img: `<img src=x onerror=alert(1)>`,
  script: `<script>alert(1)</script>`,
  svg: `<svg onload=alert(1)>`,
  attr: `"><iframe srcdoc=x>`,
};

/** The raw markup must not appear in the page; its escaped text must (so it was rendered at all). */
function inertProblems(label: string, html: string, markup: string[], mustShowOne = true): string[] {
  const problems = markup.filter((m) => html.includes(m)).map((m) => `${label}: raw ${m}`);
  if (/href="\s*javascript:/i.test(html)) problems.push(`${label}: a javascript: link`);
  const escaped = (m: string) => m.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  if (mustShowOne && !markup.some((m) => html.includes(escaped(m)) || html.includes(escaped(m).replace(/"/g, "&quot;"))))
    problems.push(`${label}: the text is not shown at all (cannot tell if it is inert)`);
  return problems;
}

test.describe("stored and reflected XSS", () => {
  test("model names, descriptions and file names with markup render inert on the browser, model and audit pages", async ({ request }) => {
    const slug = slugFor("xss");
    const created = await request.post("/api/v1/orgs/demo_org/models", {
      headers: bearer("bob"),
      data: {
        name: `XSS ${MARKUP.img}`,
        slug,
        task_type: "other",
        description: `${MARKUP.script} ${MARKUP.attr} [click](javascript:alert(1))`,
      },
    });
    expect(created.status(), await created.text()).toBe(201);
    const up = await raw({
      method: "PUT",
      path: `/api/v1/orgs/demo_org/models/${slug}/versions/1.0?filename=${encodeURIComponent(`${MARKUP.svg}.onnx`)}`,
      headers: { ...bearer("bob"), "user-agent": `agent ${MARKUP.img}` },
      body: fixture("churn_model_v1.onnx"),
    });
    expect(up.status, up.body).toBe(201);
    const problems: string[] = [];
    // [page, markup it may show, must it show one of them]
    for (const [page, markup, shown] of [
      [`/orgs/demo_org?q=${encodeURIComponent("XSS")}`, [MARKUP.img], true],
      [`/orgs/demo_org/models/${slug}`, [MARKUP.img, MARKUP.script, MARKUP.attr, MARKUP.svg], true],
      [`/orgs/demo_org/audit?model=${slug}`, [MARKUP.img], false],
    ] as const) {
      const a = await raw({ method: "GET", path: page, headers: cookie("bob") });
      expect(a.status, page).toBe(200);
      problems.push(...inertProblems(page, a.body, [...markup], shown));
    }
    expect(problems).toEqual([]);
  });

  test("reflected: search terms, filters and error pages do not echo markup", async () => {
    const problems: string[] = [];
    for (const p of [
      `/orgs/demo_org?q=${encodeURIComponent(MARKUP.script)}`,
      `/orgs/demo_org?framework=${encodeURIComponent(MARKUP.img)}`,
      `/orgs/demo_org?tag=${encodeURIComponent(MARKUP.svg)}`,
      `/orgs/demo_org/audit?actor=${encodeURIComponent(MARKUP.script)}`,
      `/orgs/demo_org/models/${encodeURIComponent(MARKUP.img)}`,
      `/sign-in?next=${encodeURIComponent(`javascript:alert(1)`)}`,
      `/sign-in?next=${encodeURIComponent(`"><script>alert(1)</script>`)}`,
      `/sign-in?error=${encodeURIComponent(MARKUP.script)}`,
    ]) {
      const a = await raw({ method: "GET", path: p, headers: cookie("bob") });
      if (a.status >= 500) problems.push(`${p} → ${a.status}`);
      problems.push(...inertProblems(p, a.body, Object.values(MARKUP), false));
    }
    expect(problems).toEqual([]);
  });

  test("a display name with markup renders inert", async ({ request }) => {
    const email = `xss-${uid()}@hostile.test`;
    const r = await postActionForm(request, "/sign-up", "sign-up-form", {
      displayName: `Mallory ${MARKUP.img}`,
      email,
      password: "a-long-enough-password",
    });
    expect(r.status()).toBe(303);
    const token = /fm_session=([^;]+)/.exec(r.headers()["set-cookie"] ?? "")?.[1];
    for (const p of ["/orgs/new", "/"]) {
      const a = await raw({ method: "GET", path: p, headers: { cookie: `fm_session=${token}` } });
      expect(a.status).toBeLessThan(500);
      expect(inertProblems(p, a.body, [MARKUP.img], false)).toEqual([]);
    }
  });

  test("after sign-in, the next parameter never leaves the site", async ({ request }) => {
    // Nine sign-ins from this machine's address: allow for a throttle that also slows successes.
    test.setTimeout(180_000);
    const account = await signUp(request, "redirect");
    const problems: string[] = [];
    for (const next of [
      "//evil.example/x",
      "https://evil.example",
      "/\\evil.example",
      "\\\\evil.example",
      "javascript:alert(1)",
      "/%2F%2Fevil.example",
      "/%5Cevil.example",
      "http:evil.example",
      " //evil.example",
    ]) {
      const r = await postActionForm(request, "/sign-in", "sign-in-form", { email: account.email, password: account.password, next });
      const location = r.headers()["location"] ?? "";
      if (r.status() >= 500) problems.push(`next=${next} → ${r.status()}`);
      const target = new URL(location, "http://our.site");
      if (location && (target.host !== "our.site" || /^\s*(\/\/|\/\\|\\)/.test(location)))
        problems.push(`next=${next} → Location ${location}`);
    }
    expect(problems).toEqual([]);
  });
});
