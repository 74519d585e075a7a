import { test, expect, type APIRequestContext } from "@playwright/test";
import {
  baseURL,
  bearer,
  cookie,
  expectError,
  fixture,
  hiddenFormFields,
  problemWith,
  raw,
  slugFor,
  TUS,
  tusMetadata,
  uid,
  uploadVersion,
  type Answer,
} from "./helpers";

// Cross-site request forgery (issue 10 §3): a cross-origin text/plain POST carrying the victim's
// cookie created an admin API token. A cookie-authenticated write needs application/json (or the
// upload's own body type) AND a same-origin Origin / Sec-Fetch-Site; the same request with a bearer
// token, or same-origin JSON with the cookie, works. SameSite=Lax is not enough: another port or a
// subdomain is the same site. Server actions refused by Next's origin check answer 4xx, not 500.

interface Write {
  name: string;
  /** Sends the write with these headers (cookie or bearer, content type, origin…). */
  send: (headers: Record<string, string>, contentType: string) => Promise<Answer>;
  /** True when the write took effect. */
  happened: () => Promise<boolean>;
  /** The success status of the write. */
  ok: number;
  /** The write sends a JSON body, so its content type alone can give a forgery away. */
  jsonBody: boolean;
}

async function writes(request: APIRequestContext, user: "bob" | "alice"): Promise<Write[]> {
  const model = slugFor("csrf");
  await uploadVersion(request, bearer("bob"), { model, version: "1.0" });
  await uploadVersion(request, bearer("bob"), { model, version: "1.1" });
  const auth = bearer(user);
  const tokenName = `csrf-${uid()}`;
  const newModel = slugFor("csrfnew");
  const json = (h: Record<string, string>, ct: string, method: string, path: string, body: unknown) =>
    raw({ method, path, headers: { ...h, "content-type": ct }, body: JSON.stringify(body) });
  const tokenNames = async () =>
    ((await (await request.get("/api/v1/tokens?org=demo_org", { headers: auth })).json()).items as { name: string }[]).map((t) => t.name);
  const detail = async () => (await request.get(`/api/v1/orgs/demo_org/models/${model}`, { headers: auth })).json();
  const victimToken = (await (
    await request.post("/api/v1/tokens", { headers: auth, data: { org: "demo_org", name: `victim-${uid()}`, role: "viewer" } })
  ).json()) as { id: string };
  return [
    {
      name: "POST /api/v1/tokens",
      send: (h, ct) => json(h, ct, "POST", "/api/v1/tokens", { org: "demo_org", name: tokenName, role: "member" }),
      happened: async () => (await tokenNames()).includes(tokenName),
      ok: 201,
      jsonBody: true,
    },
    {
      name: "POST …/models",
      send: (h, ct) => json(h, ct, "POST", "/api/v1/orgs/demo_org/models", { name: "CSRF", slug: newModel, task_type: "other" }),
      happened: async () => (await request.get(`/api/v1/orgs/demo_org/models/${newModel}`, { headers: auth })).status() === 200,
      ok: 201,
      jsonBody: true,
    },
    {
      name: "PATCH …/models/{model}",
      send: (h, ct) => json(h, ct, "PATCH", `/api/v1/orgs/demo_org/models/${model}`, { description: "csrf was here" }),
      happened: async () => (await detail()).description === "csrf was here",
      ok: 200,
      jsonBody: true,
    },
    {
      name: "PUT …/aliases/{alias}",
      send: (h, ct) => json(h, ct, "PUT", `/api/v1/orgs/demo_org/models/${model}/aliases/production`, { version: "1.1" }),
      happened: async () => (await detail()).aliases.some((a: { alias: string }) => a.alias === "production"),
      ok: 200,
      jsonBody: true,
    },
    {
      name: "POST …/link",
      send: (h, ct) =>
        raw({
          method: "POST",
          path: `/api/v1/orgs/demo_org/models/${model}/versions/1.0/link`,
          headers: { ...h, "content-type": ct },
          body: "{}",
        }),
      happened: async () => {
        const a = await (await request.get(`/api/v1/orgs/demo_org/audit?model=${model}&action=link.create`, { headers: auth })).json();
        return a.items.length > 0;
      },
      ok: 201,
      jsonBody: false,
    },
    {
      name: "DELETE …/versions/{version}",
      send: (h, ct) =>
        raw({ method: "DELETE", path: `/api/v1/orgs/demo_org/models/${model}/versions/1.0`, headers: { ...h, "content-type": ct } }),
      happened: async () =>
        (await request.get(`/api/v1/orgs/demo_org/models/${model}/versions/1.0`, { headers: auth }))
          .json()
          .then((v) => v.status === "deleted" || v.error !== undefined),
      ok: 204,
      jsonBody: false,
    },
    {
      name: "DELETE /api/v1/tokens/{id}",
      send: (h, ct) => raw({ method: "DELETE", path: `/api/v1/tokens/${victimToken.id}`, headers: { ...h, "content-type": ct } }),
      happened: async () =>
        (
          (await (await request.get("/api/v1/tokens?org=demo_org", { headers: auth })).json()).items as {
            id: string;
            revoked_at: string | null;
          }[]
        ).some((t) => t.id === victimToken.id && t.revoked_at !== null),
      ok: 204,
      jsonBody: false,
    },
    {
      name: "POST /api/v1/uploads/reservations",
      send: (h, ct) =>
        json(h, ct, "POST", "/api/v1/uploads/reservations", { org: "demo_org", model, version: "5.0", filename: "m.pkl", size: 100 }),
      happened: async () =>
        (
          await request.put(`/api/v1/orgs/demo_org/models/${model}/versions/5.0?filename=m.onnx`, {
            headers: bearer("alice"),
            data: Buffer.from("probe"),
          })
        ).status() === 409,
      ok: 201,
      jsonBody: true,
    },
    {
      name: "POST /api/v1/uploads (tus)",
      send: (h) =>
        raw({
          method: "POST",
          path: "/api/v1/uploads",
          headers: {
            ...h,
            ...TUS,
            "upload-length": "100",
            "upload-metadata": tusMetadata({ org: "demo_org", model, version: "6.0", filename: "m.pkl" }),
          },
        }),
      happened: async () =>
        (
          await request.put(`/api/v1/orgs/demo_org/models/${model}/versions/6.0?filename=m.onnx`, {
            headers: bearer("alice"),
            data: Buffer.from("probe"),
          })
        ).status() === 409,
      ok: 201,
      jsonBody: false,
    },
  ];
}

const ORIGIN = () => new URL(baseURL()).origin;
const otherPort = () => {
  const u = new URL(baseURL());
  return `${u.protocol}//${u.hostname}:${Number(u.port) + 7}`;
};

test.describe("cross-site request forgery", () => {
  // [variant, headers, content type, cross-origin?]: same-origin variants differ only in the body type.
  const hostile: [string, (c: Record<string, string>) => Record<string, string>, string, boolean][] = [
    [
      "cookie, text/plain, cross-origin",
      (c) => ({ ...c, origin: "http://evil.example", "sec-fetch-site": "cross-site" }),
      "text/plain",
      true,
    ],
    ["cookie, text/plain, same origin", (c) => ({ ...c, origin: ORIGIN(), "sec-fetch-site": "same-origin" }), "text/plain", false],
    [
      "cookie, form-urlencoded, same origin",
      (c) => ({ ...c, origin: ORIGIN(), "sec-fetch-site": "same-origin" }),
      "application/x-www-form-urlencoded",
      false,
    ],
    ["cookie, multipart, cross-origin", (c) => ({ ...c, origin: "http://evil.example" }), "multipart/form-data; boundary=x", true],
    ["cookie, JSON, cross-origin Origin", (c) => ({ ...c, origin: "http://evil.example" }), "application/json", true],
    ["cookie, JSON, Origin: null", (c) => ({ ...c, origin: "null" }), "application/json", true],
    [
      "cookie, JSON, same site but another port",
      (c) => ({ ...c, origin: otherPort(), "sec-fetch-site": "same-site" }),
      "application/json",
      true,
    ],
    [
      "cookie, JSON, Sec-Fetch-Site: cross-site without Origin",
      (c) => ({ ...c, "sec-fetch-site": "cross-site" }),
      "application/json",
      true,
    ],
    ["cookie, JSON, a look-alike origin", (c) => ({ ...c, origin: `${ORIGIN()}.evil.example` }), "application/json", true],
  ];

  for (const [variant, headersFor, contentType, crossOrigin] of hostile) {
    test(`refused with 403 and no effect: ${variant}`, async ({ request }) => {
      const problems: string[] = [];
      // A same-origin request is only given away by its body type: that applies to writes with a JSON body.
      for (const w of (await writes(request, "alice")).filter((x) => crossOrigin || x.jsonBody)) {
        const a = await w.send(headersFor(cookie("alice")), contentType);
        // A wrong body type may also be a 415; what matters is that nothing happens.
        const want = crossOrigin ? [403] : [403, 415];
        const p = problemWith(`${variant}: ${w.name}`, a, { status: want, contentType: !w.name.includes("tus") });
        if (p) problems.push(p);
        if (await w.happened()) problems.push(`${variant}: ${w.name} took effect (${a.status})`);
      }
      expect(problems).toEqual([]);
    });
  }

  test("controls: the same writes work with a bearer token (any body type, any origin) and as same-origin JSON with the cookie", async ({
    request,
  }) => {
    const problems: string[] = [];
    for (const w of await writes(request, "alice")) {
      const a = await w.send({ ...bearer("alice"), origin: "http://evil.example" }, "text/plain");
      if (a.status !== w.ok) problems.push(`bearer: ${w.name} → ${a.status} ${a.body.slice(0, 120)}`);
      else if (!(await w.happened())) problems.push(`bearer: ${w.name} answered ${a.status} but did nothing`);
    }
    for (const w of await writes(request, "alice")) {
      const a = await w.send({ ...cookie("alice"), origin: ORIGIN(), "sec-fetch-site": "same-origin" }, "application/json");
      if (a.status !== w.ok) problems.push(`same-origin cookie: ${w.name} → ${a.status} ${a.body.slice(0, 120)}`);
      else if (!(await w.happened())) problems.push(`same-origin cookie: ${w.name} answered ${a.status} but did nothing`);
    }
    expect(problems).toEqual([]);
  });

  test("server actions refused by the origin check answer 4xx, not 500, and do nothing", async ({ request }) => {
    const page = await request.get("/orgs/demo_org/tokens", { headers: cookie("bob") });
    expect(page.status()).toBe(200);
    const hidden = hiddenFormFields(await page.text(), "token-form");
    const actionId = JSON.parse(Object.entries(hidden).find(([k]) => /^\$ACTION_\d+:0$/.test(k))?.[1] ?? "{}").id as string;
    expect(actionId, "the token form's action id").toMatch(/^[0-9a-f]{40,}$/);
    const names = async () =>
      ((await (await request.get("/api/v1/tokens?org=demo_org", { headers: bearer("bob") })).json()).items as { name: string }[]).map(
        (t) => t.name,
      );
    const problems: string[] = [];
    for (const [label, origin] of [
      ["a cross-origin form post", "http://evil.example"],
      ["a same-site form post from another port", otherPort()],
    ] as const) {
      const name = `action-${uid()}`;
      const r = await request.post("/orgs/demo_org/tokens", {
        headers: { ...cookie("bob"), origin },
        multipart: { ...hidden, name, role: "member", expires_in_days: "never" },
        maxRedirects: 0,
      });
      if (r.status() < 400 || r.status() >= 500) problems.push(`${label} → ${r.status()}`);
      if ((await names()).includes(name)) problems.push(`${label} created a token`);
    }
    const fetchStyle = await raw({
      method: "POST",
      path: "/orgs/demo_org/tokens",
      headers: {
        ...cookie("bob"),
        origin: "http://evil.example",
        "next-action": actionId,
        "content-type": "text/plain;charset=UTF-8",
        accept: "text/x-component",
      },
      body: JSON.stringify(["demo_org", { status: "idle" }]),
    });
    if (fetchStyle.status < 400 || fetchStyle.status >= 500) problems.push(`a cross-origin Next-Action fetch → ${fetchStyle.status}`);
    const unknown = await raw({
      method: "POST",
      path: "/sign-in",
      headers: { origin: ORIGIN(), "next-action": "00deadbeef", "content-type": "text/plain;charset=UTF-8" },
      body: "[]",
    });
    if (unknown.status < 400 || unknown.status >= 500) problems.push(`an unknown action id → ${unknown.status}`);
    const signUp = await request.post("/sign-up", {
      headers: { origin: "http://evil.example" },
      multipart: {
        ...hiddenFormFields(await (await request.get("/sign-up")).text(), "sign-up-form"),
        displayName: "CSRF",
        email: `csrf-${uid()}@hostile.test`,
        password: "a-long-enough-password",
      },
      maxRedirects: 0,
    });
    if (signUp.status() < 400 || signUp.status() >= 500) problems.push(`a cross-origin sign-up → ${signUp.status()}`);
    // Control: the same form from our own origin works.
    const okName = `action-${uid()}`;
    const ok = await request.post("/orgs/demo_org/tokens", {
      headers: { ...cookie("bob"), origin: ORIGIN() },
      multipart: { ...hidden, name: okName, role: "viewer", expires_in_days: "never" },
      maxRedirects: 0,
    });
    expect(ok.status()).toBeLessThan(400);
    expect(await names()).toContain(okName);
    expect(problems).toEqual([]);
  });

  test("a cookie-authenticated upload PUT from another origin is refused and stores nothing", async ({ request }) => {
    const model = slugFor("csrfput");
    const a = await raw({
      method: "PUT",
      path: `/api/v1/orgs/demo_org/models/${model}/versions/1.0?filename=m.onnx`,
      headers: {
        ...cookie("bob"),
        origin: "http://evil.example",
        "sec-fetch-site": "cross-site",
        "content-type": "application/octet-stream",
      },
      body: fixture("churn_model_v1.onnx"),
    });
    expect(problemWith("cross-origin cookie PUT", a, { status: [403] })).toBeNull();
    await expectError(
      await request.get(`/api/v1/orgs/demo_org/models/${model}/versions/1.0`, { headers: bearer("bob") }),
      404,
      "not_found",
    );
  });
});
