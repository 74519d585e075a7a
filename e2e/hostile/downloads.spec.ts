import { test, expect } from "@playwright/test";
import {
  bearer,
  collectProblems,
  createToken,
  expectError,
  fixture,
  problemWith,
  raw,
  sha256,
  slugFor,
  tokenAuth,
  uploadVersion,
  type Answer,
  type DemoUser,
} from "./helpers";

// Downloads: Range edge cases give exactly the bytes promised or a 416; HEAD tells no more than GET
// allows (issue 10 §6: HEAD of a quarantined version answered 200 with its ETag and SHA-256 to a
// member whose GET is 403); signed links die with the API token that made them (§6) and with their
// version, and cannot be turned into other credentials.

const FILE = fixture("demand_arima_v1.0.pkl");
const N = FILE.length;

/** 206 with exactly the bytes its Content-Range names, 200 with the whole file, or a 416 — nothing else. */
function rangeProblem(label: string, a: Answer, method: string): string | null {
  const base = problemWith(label, a, { status: [200, 206, 416], json: method !== "HEAD" });
  if (base) return base;
  const body = a.bytes ?? Buffer.alloc(0);
  if (a.status === 416) {
    const cr = a.headers["content-range"];
    return cr === undefined || cr === `bytes */${N}` ? null : `${label}: 416 with Content-Range ${cr}`;
  }
  // Content-Length is optional (a chunked answer has none), but when present it must be right.
  const length = a.headers["content-length"] === undefined ? undefined : Number(a.headers["content-length"]);
  if (a.status === 200) {
    if (length !== undefined && length !== N) return `${label}: 200 with Content-Length ${length}`;
    return method === "HEAD" || body.equals(FILE) ? null : `${label}: 200 with different bytes`;
  }
  const m = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(a.headers["content-range"] ?? "");
  if (!m) return `${label}: 206 with Content-Range ${a.headers["content-range"]}`;
  const [start, end, total] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (total !== N || start > end || end >= N) return `${label}: 206 with an impossible Content-Range ${a.headers["content-range"]}`;
  if (length !== undefined && length !== end - start + 1) return `${label}: Content-Length ${length} for ${a.headers["content-range"]}`;
  if (method !== "HEAD" && !body.equals(FILE.subarray(start, end + 1)))
    return `${label}: 206 bytes differ from ${a.headers["content-range"]}`;
  return null;
}

const get = (path: string, headers: Record<string, string>, method = "GET") => raw({ method, path, headers });

test.describe("downloads", () => {
  test("Range edge cases: exact bytes or 416, on the download and on a signed link, GET and HEAD", async ({ request }) => {
    const model = slugFor("range");
    await uploadVersion(request, bearer("bob"), { model, version: "1.0" }, "demand_arima_v1.0.pkl");
    const dl = `/api/v1/orgs/demo_org/models/${model}/versions/1.0/download`;
    const link = new URL(
      (await (await request.post(`/api/v1/orgs/demo_org/models/${model}/versions/1.0/link`, { headers: bearer("bob") })).json()).url,
    ).pathname;
    const ranges = [
      "bytes=0-0",
      "bytes=0-",
      "bytes=-1",
      "bytes=-0",
      `bytes=-${N}`,
      `bytes=-${N + 100}`,
      `bytes=0-${N + 100}`,
      `bytes=${N - 1}-`,
      `bytes=${N}-`,
      `bytes=${N}-${N}`,
      `bytes=${N + 1}-${N + 5}`,
      "bytes=5-2",
      "bytes=abc",
      "bytes=1-2,4-5",
      "bytes=0-0,-1",
      "bytes=99999999999999999999-",
      "bytes=-99999999999999999999",
      "bytes=1e3-2e3",
      "bytes= 0-1",
      "bytes=0-1 ",
      "bytes=--1",
      "bytes=0x10-0x20",
      "bytes=-",
      "bytes=",
      "items=0-1",
      "bytes=100-199",
      "BYTES=100-199",
    ];
    const problems: string[] = [];
    for (const [label, p, auth] of [
      ["download", dl, bearer("vera")],
      ["signed link", link, {}],
    ] as const) {
      for (const range of ranges) {
        for (const method of ["GET", "HEAD"]) {
          const a = await get(p, { ...auth, range }, method);
          const problem = rangeProblem(`${label} ${method} Range: ${range}`, a, method);
          if (problem) problems.push(problem);
        }
      }
      const stale = await get(p, { ...auth, range: "bytes=0-9", "if-range": '"not-the-etag"' });
      const problem = rangeProblem(`${label} with a stale If-Range`, stale, "GET");
      if (problem) problems.push(problem);
      if (stale.status === 206) problems.push(`${label}: a stale If-Range still got a 206`);
    }
    expect(problems).toEqual([]);
  });

  test("HEAD on a quarantined version's download tells no more than GET allows", async ({ request }) => {
    const model = slugFor("quarantine");
    const v = await uploadVersion(request, bearer("alice"), { model, version: "1.0" }, "malicious_subprocess.pkl");
    expect(v.status).toBe("quarantined");
    const dl = `/api/v1/orgs/demo_org/models/${model}/versions/1.0/download`;
    const problems: string[] = [];
    for (const user of ["bob", "vera", "alice", "sam"] as DemoUser[]) {
      for (const q of ["", "?acknowledge_risk=true"]) {
        for (const extra of [{}, { range: "bytes=0-9" }, { "if-none-match": `"${v.sha256}"` }] as Record<string, string>[]) {
          const label = `${user} ${q || "(no acknowledgement)"} ${JSON.stringify(extra)}`;
          const g = await raw({ method: "GET", path: dl + q, headers: { ...bearer(user), ...extra } });
          const h = await raw({ method: "HEAD", path: dl + q, headers: { ...bearer(user), ...extra } });
          if (g.status !== h.status) problems.push(`${label}: GET ${g.status}, HEAD ${h.status}`);
          if (g.status >= 400) {
            for (const header of ["etag", "x-content-sha256", "content-range", "accept-ranges"]) {
              if (h.headers[header])
                problems.push(`${label}: HEAD refused by GET (${g.status}) still shows ${header}: ${h.headers[header]}`);
            }
            if (g.status !== 403 && g.status !== 404) problems.push(`${label}: GET ${g.status}`);
          }
        }
      }
    }
    expect(problems).toEqual([]);
    // Control: the owner who acknowledges the risk gets the bytes.
    const ok = await request.get(`${dl}?acknowledge_risk=true`, { headers: bearer("alice") });
    expect(ok.status()).toBe(200);
    expect(sha256(await ok.body())).toBe(sha256(fixture("malicious_subprocess.pkl")));
  });

  test("a signed link made with an API token stops working when the token is revoked", async ({ request }) => {
    const model = slugFor("linktok");
    await uploadVersion(request, bearer("bob"), { model, version: "1.0" });
    const { id, token } = await createToken(request, bearer("bob"), "demo_org", "viewer");
    const made = await request.post(`/api/v1/orgs/demo_org/models/${model}/versions/1.0/link`, { headers: tokenAuth(token) });
    expect(made.status(), await made.text()).toBe(201);
    const url = (await made.json()).url as string;
    expect((await request.get(url)).status()).toBe(200);
    expect((await request.delete(`/api/v1/tokens/${id}`, { headers: bearer("bob") })).status()).toBe(204);
    await expectError(await request.get(url), [401, 403, 404, 410]);
    const head = await raw({ method: "HEAD", path: new URL(url).pathname + new URL(url).search });
    expect([401, 403, 404, 410]).toContain(head.status);
  });

  test("a signed link stops working when its version is deleted, and none is made for a quarantined version", async ({ request }) => {
    const model = slugFor("linkdel");
    await uploadVersion(request, bearer("bob"), { model, version: "1.0" });
    const url = (await (await request.post(`/api/v1/orgs/demo_org/models/${model}/versions/1.0/link`, { headers: bearer("vera") })).json())
      .url as string;
    expect((await request.get(url)).status()).toBe(200);
    expect((await request.delete(`/api/v1/orgs/demo_org/models/${model}/versions/1.0`, { headers: bearer("bob") })).status()).toBe(204);
    await expectError(await request.get(url), [404, 410]);
    await uploadVersion(request, bearer("bob"), { model, version: "2.0" }, "malicious_eval_proto0.pkl");
    for (const user of ["vera", "bob", "alice"] as DemoUser[]) {
      await expectError(await request.post(`/api/v1/orgs/demo_org/models/${model}/versions/2.0/link`, { headers: bearer(user) }), 403, [
        "quarantined",
        "forbidden",
      ]);
    }
  });

  test("link tokens, session tokens and API tokens cannot stand in for each other", async ({ request }) => {
    const model = slugFor("linkconf");
    await uploadVersion(request, bearer("bob"), { model, version: "1.0" });
    const url = (await (await request.post(`/api/v1/orgs/demo_org/models/${model}/versions/1.0/link`, { headers: bearer("bob") })).json())
      .url as string;
    const linkToken = new URL(url).pathname.split("/").pop()!;
    const { token: apiToken } = await createToken(request, bearer("bob"), "demo_org", "viewer");
    const [h, p, s] = linkToken.split(".") as [string, string, string];
    const claims = JSON.parse(Buffer.from(p, "base64url").toString());
    const retargeted = `${h}.${Buffer.from(JSON.stringify({ ...claims, t: { org: "admin_org", model: "loan_approval", version: "3.0" } })).toString("base64url")}.${s}`;
    const problems = await collectProblems(
      [
        ["a link token as a bearer", "/api/v1/orgs", tokenAuth(linkToken), [401]],
        ["a link token as the session cookie", "/api/v1/orgs", { cookie: `fm_session=${linkToken}` }, [401]],
        ["a session token as a link", `/api/v1/links/${bearer("bob").authorization.slice(7)}`, {}, [401, 404]],
        ["an API token as a link", `/api/v1/links/${apiToken}`, {}, [401, 404]],
        ["a link re-targeted at admin_org", `/api/v1/links/${retargeted}`, {}, [401, 404]],
        ["a link with its signature cut", `/api/v1/links/${h}.${p}.`, {}, [401, 404]],
        ["a link with alg none", `/api/v1/links/${Buffer.from('{"alg":"none"}').toString("base64url")}.${p}.`, {}, [401, 404]],
      ] as const,
      async ([label, path, headers, status]) =>
        problemWith(label, await raw({ method: "GET", path, headers }), { status: [...status], code: ["unauthorized", "not_found"] }),
    );
    expect(problems).toEqual([]);
  });
});
