import crypto from "node:crypto";
import { test, expect, type APIRequestContext } from "@playwright/test";
import {
  bearer,
  collectProblems,
  createToken,
  fixture,
  problemWith,
  raw,
  sha256,
  slugFor,
  tokenAuth,
  TUS,
  tusMetadata,
  uploadVersion,
  type Answer,
} from "./helpers";

// OWASP API1:2023 Broken Object Level Authorization. Carol (owner of admin_org) owns a model, a
// version, an alias, an API token, a resumable upload and a reservation. Bob (demo_org) tries every
// endpoint with her slugs and ids: each answer must be the very same 404 as for an object that does
// not exist, and afterwards all of Carol's things are intact.

interface Victim {
  model: string;
  tokenId: string;
  token: string;
  uploadPath: string;
  uploadBody: Buffer;
  reservationId: string;
}

async function carolsThings(request: APIRequestContext): Promise<Victim> {
  const carol = bearer("carol");
  const model = slugFor("bola");
  await uploadVersion(request, carol, { org: "admin_org", model, version: "1.0" });
  expect(
    (await request.put(`/api/v1/orgs/admin_org/models/${model}/aliases/production`, { headers: carol, data: { version: "1.0" } })).status(),
  ).toBe(200);
  const { id: tokenId, token } = await createToken(request, carol, "admin_org", "viewer");
  const uploadBody = fixture("price_optimization_v1.3.pkl");
  const create = await request.post("/api/v1/uploads", {
    headers: {
      ...carol,
      ...TUS,
      "upload-length": String(uploadBody.length),
      "upload-metadata": tusMetadata({ org: "admin_org", model, version: "2.0", filename: "p.pkl" }),
    },
  });
  expect(create.status(), await create.text()).toBe(201);
  const uploadPath = new URL(create.headers()["location"]!, "http://x").pathname;
  const patch = await request.patch(uploadPath, {
    headers: { ...carol, ...TUS, "upload-offset": "0", "content-type": "application/offset+octet-stream" },
    data: uploadBody.subarray(0, 30_000),
  });
  expect(patch.status()).toBe(204);
  const res = await request.post("/api/v1/uploads/reservations", {
    headers: carol,
    data: { org: "admin_org", model, version: "3.0", filename: "r.pkl", size: 1417 },
  });
  expect(res.status(), await res.text()).toBe(201);
  return { model, tokenId, token, uploadPath, uploadBody, reservationId: (await res.json()).id };
}

/** Same status and same body: another org's object must be indistinguishable from a missing one. */
function sameAsMissing(label: string, theirs: Answer, missing: Answer, head = false, contentType = true): string | null {
  const p = problemWith(`${label} (their object)`, theirs, { status: [404], code: ["not_found"], json: !head, contentType });
  if (p) return p;
  const q = problemWith(`${label} (missing object)`, missing, { status: [404], code: ["not_found"], json: !head, contentType });
  if (q) return q;
  if (!head && theirs.body !== missing.body) return `${label}: their object answers ${theirs.body}, a missing one ${missing.body}`;
  return null;
}

test.describe("broken object-level authorization (API1)", () => {
  let victim: Victim;
  test.beforeAll(async ({ playwright }) => {
    const request = await playwright.request.newContext({ baseURL: test.info().project.use.baseURL });
    victim = await carolsThings(request);
    await request.dispose();
  });

  test("every REST endpoint answers another org's slugs exactly like missing ones", async () => {
    const bob = bearer("bob");
    const json = { ...bob, "content-type": "application/json" };
    const m = victim.model;
    const ghostOrg = `ghost_${crypto.randomBytes(3).toString("hex")}`;
    // [method, path with {org}, headers, body]: {org} becomes admin_org, then an org that does not exist.
    const cases: [string, string, Record<string, string>, string?][] = [
      ["GET", "/api/v1/orgs/{org}/models", bob],
      ["POST", "/api/v1/orgs/{org}/models", json, JSON.stringify({ name: "intruder", slug: `intruder_${Date.now()}`, task_type: "other" })],
      ["GET", `/api/v1/orgs/{org}/models/${m}`, bob],
      ["PATCH", `/api/v1/orgs/{org}/models/${m}`, json, '{"description":"owned"}'],
      ["DELETE", `/api/v1/orgs/{org}/models/${m}`, bob],
      ["GET", `/api/v1/orgs/{org}/models/${m}/versions`, bob],
      ["GET", `/api/v1/orgs/{org}/models/${m}/versions/1.0`, bob],
      [
        "PUT",
        `/api/v1/orgs/{org}/models/${m}/versions/9.0?filename=m.onnx`,
        { ...bob, "content-type": "application/octet-stream" },
        fixture("churn_model_v1.onnx").toString("latin1"),
      ],
      ["DELETE", `/api/v1/orgs/{org}/models/${m}/versions/1.0`, bob],
      ["GET", `/api/v1/orgs/{org}/models/${m}/versions/1.0/download`, bob],
      ["GET", `/api/v1/orgs/{org}/models/${m}/versions/1.0/download?acknowledge_risk=true`, bob],
      ["POST", `/api/v1/orgs/{org}/models/${m}/versions/1.0/link`, bob],
      ["GET", `/api/v1/orgs/{org}/models/${m}/aliases`, bob],
      ["PUT", `/api/v1/orgs/{org}/models/${m}/aliases/production`, json, '{"version":"1.0"}'],
      ["GET", "/api/v1/orgs/{org}/usage", bob],
      ["GET", "/api/v1/orgs/{org}/audit", bob],
      ["GET", "/api/v1/orgs/{org}/audit?format=csv", bob],
      ["GET", `/api/v1/orgs/{org}/audit?model=${m}`, bob],
      ["GET", "/api/v1/tokens?org={org}", bob],
      ["POST", "/api/v1/tokens", json, '{"org":"{org}","name":"intruder","role":"viewer"}'],
      ["POST", "/api/v1/uploads/reservations", json, `{"org":"{org}","model":"${m}","version":"8.0","filename":"m.pkl","size":10}`],
    ];
    const problems = await collectProblems(cases, async ([method, p, headers, body]) => {
      const send = (org: string) =>
        raw({
          method,
          path: p.replace("{org}", org),
          headers,
          body: body === undefined ? undefined : Buffer.from(body.replace("{org}", org), "latin1"),
        });
      return sameAsMissing(`${method} ${p}`, await send("admin_org"), await send(ghostOrg));
    });
    expect(problems).toEqual([]);
  });

  test("HEAD on another org's download is the same 404 as a missing one", async () => {
    const bob = bearer("bob");
    const theirs = await raw({ method: "HEAD", path: `/api/v1/orgs/admin_org/models/${victim.model}/versions/1.0/download`, headers: bob });
    const missing = await raw({
      method: "HEAD",
      path: `/api/v1/orgs/ghost_org/models/${victim.model}/versions/1.0/download`,
      headers: bob,
    });
    expect(sameAsMissing("HEAD download", theirs, missing, true)).toBeNull();
    expect(theirs.headers["etag"]).toBeUndefined();
    expect(theirs.headers["x-content-sha256"]).toBeUndefined();
  });

  test("ids of another org's tokens, uploads and reservations are 404 like random ones", async () => {
    const bob = bearer("bob");
    const json = { ...bob, "content-type": "application/json" };
    const randomUpload = `/api/v1/uploads/${crypto.randomBytes(16).toString("hex")}`;
    // [label, method, their id, a random id, headers, body]
    const cases: [string, string, string, string, Record<string, string>, string?][] = [
      ["revoke their token", "DELETE", `/api/v1/tokens/${victim.tokenId}`, `/api/v1/tokens/${crypto.randomUUID()}`, bob],
      [
        "release their reservation",
        "DELETE",
        `/api/v1/uploads/reservations/${victim.reservationId}`,
        `/api/v1/uploads/reservations/${crypto.randomUUID()}`,
        bob,
      ],
      [
        "complete their reservation",
        "POST",
        `/api/v1/uploads/reservations/${victim.reservationId}/complete`,
        `/api/v1/uploads/reservations/${crypto.randomUUID()}/complete`,
        json,
        "{}",
      ],
      [
        "PATCH their upload",
        "PATCH",
        victim.uploadPath,
        randomUpload,
        { ...bob, ...TUS, "upload-offset": "30000", "content-type": "application/offset+octet-stream" },
        "x".repeat(100),
      ],
      ["DELETE their upload", "DELETE", victim.uploadPath, randomUpload, { ...bob, ...TUS }],
    ];
    const problems = await collectProblems(cases, async ([label, method, theirs, missing, headers, body]) => {
      const tus = theirs.startsWith("/api/v1/uploads/") && !theirs.includes("reservations");
      return sameAsMissing(
        label,
        await raw({ method, path: theirs, headers, body }),
        await raw({ method, path: missing, headers, body }),
        false,
        !tus,
      );
    });
    const headTheirs = await raw({ method: "HEAD", path: victim.uploadPath, headers: { ...bob, ...TUS } });
    const headMissing = await raw({ method: "HEAD", path: randomUpload, headers: { ...bob, ...TUS } });
    const h = sameAsMissing("HEAD upload", headTheirs, headMissing, true);
    if (h) problems.push(h);
    if (headTheirs.headers["upload-offset"] !== undefined)
      problems.push(`HEAD upload tells bob the offset of carol's upload: ${headTheirs.headers["upload-offset"]}`);
    expect(problems).toEqual([]);
  });

  test("an API token is pinned to its org: sam's demo_org token cannot reach admin_org, where sam is also a member", async ({
    request,
  }) => {
    const { token } = await createToken(request, bearer("sam"), "demo_org", "admin");
    const auth = tokenAuth(token);
    expect((await request.get("/api/v1/orgs/demo_org/models", { headers: auth })).status()).toBe(200);
    const orgs = await (await request.get("/api/v1/orgs", { headers: auth })).json();
    expect(orgs.items.map((o: { slug: string }) => o.slug)).toEqual(["demo_org"]);
    const problems = await collectProblems(
      [
        ["GET", "/api/v1/orgs/{org}/models"],
        ["GET", `/api/v1/orgs/{org}/models/${victim.model}`],
        ["GET", `/api/v1/orgs/{org}/models/${victim.model}/versions/1.0/download`],
        ["GET", "/api/v1/orgs/{org}/audit"],
        ["GET", "/api/v1/tokens?org={org}"],
      ] as const,
      async ([method, p]) =>
        sameAsMissing(
          `sam's token: ${method} ${p}`,
          await raw({ method, path: p.replace("{org}", "admin_org"), headers: auth }),
          await raw({ method, path: p.replace("{org}", "ghost_org"), headers: auth }),
        ),
    );
    expect(problems).toEqual([]);
  });

  test("after all that, carol's model, version, alias, token, upload and reservation are intact", async ({ request }) => {
    // Run the attempts again here, so this test also holds when run alone.
    const bob = bearer("bob");
    await raw({ method: "DELETE", path: `/api/v1/orgs/admin_org/models/${victim.model}/versions/1.0`, headers: bob });
    await raw({ method: "DELETE", path: `/api/v1/orgs/admin_org/models/${victim.model}`, headers: bob });
    await raw({ method: "DELETE", path: `/api/v1/tokens/${victim.tokenId}`, headers: bob });
    await raw({ method: "DELETE", path: victim.uploadPath, headers: { ...bob, ...TUS } });
    await raw({ method: "DELETE", path: `${victim.uploadPath}.json`, headers: { ...bob, ...TUS } });
    await raw({ method: "DELETE", path: `/api/v1/uploads/reservations/${victim.reservationId}`, headers: bob });

    const carol = bearer("carol");
    const detail = await request.get(`/api/v1/orgs/admin_org/models/${victim.model}`, { headers: carol });
    expect(detail.status()).toBe(200);
    const d = await detail.json();
    expect(d.aliases).toMatchObject([{ alias: "production", version: "1.0" }]);
    expect(d.description ?? "").not.toContain("owned");
    const dl = await request.get(`/api/v1/orgs/admin_org/models/${victim.model}/versions/1.0/download`, { headers: carol });
    expect(dl.status()).toBe(200);
    expect(sha256(await dl.body())).toBe(sha256(fixture("churn_model_v1.onnx")));
    expect((await request.get("/api/v1/orgs/admin_org/models", { headers: tokenAuth(victim.token) })).status()).toBe(200);
    const head = await request.head(victim.uploadPath, { headers: { ...carol, ...TUS } });
    expect(head.status()).toBe(200);
    expect(head.headers()["upload-offset"]).toBe("30000");
    const finish = await request.patch(victim.uploadPath, {
      headers: { ...carol, ...TUS, "upload-offset": "30000", "content-type": "application/offset+octet-stream" },
      data: victim.uploadBody.subarray(30_000),
    });
    expect(finish.status(), await finish.text()).toBe(200);
    expect((await finish.json()).sha256).toBe(sha256(victim.uploadBody));
    // The reservation is still carol's to release.
    expect((await request.delete(`/api/v1/uploads/reservations/${victim.reservationId}`, { headers: carol })).status()).toBe(204);
    const list = await (await request.get(`/api/v1/orgs/admin_org/models?q=intruder`, { headers: carol })).json();
    expect(list.items).toEqual([]);
    const tokens = await (await request.get("/api/v1/tokens?org=admin_org", { headers: carol })).json();
    expect(tokens.items.map((t: { name: string }) => t.name)).not.toContain("intruder");
  });
});
