import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { test, expect } from "@playwright/test";
import {
  bearer,
  collectProblems,
  cookie,
  createToken,
  decodeJwt,
  expectError,
  fixture,
  problemWith,
  projectMeta,
  raw,
  session,
  signHs256,
  slugFor,
  tokenAuth,
  TUS,
  tusMetadata,
  uploadVersion,
  answerOf,
} from "./helpers";

// OWASP API2:2023 Broken Authentication. Forged, expired, alg:none, wrong-key, revoked and malformed
// credentials — as a bearer token and as the session cookie — are a 401 in our JSON shape, and never
// fall back to another identity.

const b64url = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");

/** Tokens an attacker can make from a real session token without the server's key. */
function forgeries(real: string) {
  const [h, p, s] = real.split(".") as [string, string, string];
  const claims = decodeJwt(real);
  const now = Math.floor(Date.now() / 1000);
  const alice = session("alice").userId;
  return {
    "alg none": `${b64url({ alg: "none", typ: "JWT" })}.${p}.`,
    "alg None, signature kept": `${b64url({ alg: "None", typ: "JWT" })}.${p}.${s}`,
    "signature stripped": `${h}.${p}.`,
    "claims changed, signature kept": `${h}.${b64url({ ...claims, sub: alice })}.${s}`,
    "signed with another key": signHs256({ ...claims, sub: alice }, crypto.randomBytes(48)),
    "signed with an empty key": signHs256({ ...claims, sub: alice }, ""),
    "HS512 with another key": signHs256({ ...claims, sub: alice }, "secret", { alg: "HS512", typ: "JWT" }),
    "RS256 header, HMAC body": signHs256({ ...claims, sub: alice }, "secret", { alg: "RS256", typ: "JWT" }),
    "a jku pointing elsewhere": signHs256({ ...claims }, "secret", { alg: "HS256", jku: "http://evil.example/jwks.json", kid: "x" }),
    "expired and re-signed with another key": signHs256({ ...claims, exp: now - 60 }, crypto.randomBytes(32)),
    "two segments": `${h}.${p}`,
    "four segments": `${real}.${s}`,
    "not base64": "!!!.@@@.###",
    garbage: "garbage",
    "8 KB of junk": "a".repeat(8192),
    "an unknown API token": `fm_${crypto.randomBytes(32).toString("base64url")}`,
    "an API token that is too short": "fm_abc",
    "an API token with a forged tail": `fm_${"A".repeat(43)}`,
  };
}

test.describe("broken authentication (API2)", () => {
  test("no credentials: every protected endpoint answers 401 in the JSON shape", async () => {
    const m = "credit_risk";
    const json = { "content-type": "application/json" };
    const endpoints: [string, string, Record<string, string>?, string?][] = [
      ["GET", "/api/v1/orgs"],
      ["GET", "/api/v1/orgs/demo_org/models"],
      ["POST", "/api/v1/orgs/demo_org/models", json, '{"name":"x","task_type":"other"}'],
      ["GET", `/api/v1/orgs/demo_org/models/${m}`],
      ["PATCH", `/api/v1/orgs/demo_org/models/${m}`, json, '{"name":"x"}'],
      ["DELETE", `/api/v1/orgs/demo_org/models/${m}`],
      ["GET", `/api/v1/orgs/demo_org/models/${m}/versions`],
      ["GET", `/api/v1/orgs/demo_org/models/${m}/versions/2.1`],
      ["PUT", `/api/v1/orgs/demo_org/models/${m}/versions/9.9?filename=m.pkl`, { "content-type": "application/octet-stream" }, "xxxx"],
      ["DELETE", `/api/v1/orgs/demo_org/models/${m}/versions/2.1`],
      ["GET", `/api/v1/orgs/demo_org/models/${m}/versions/2.1/download`],
      ["POST", `/api/v1/orgs/demo_org/models/${m}/versions/2.1/link`],
      ["GET", `/api/v1/orgs/demo_org/models/${m}/aliases`],
      ["PUT", `/api/v1/orgs/demo_org/models/${m}/aliases/production`, json, '{"version":"2.1"}'],
      ["GET", "/api/v1/orgs/demo_org/usage"],
      ["GET", "/api/v1/orgs/demo_org/audit"],
      ["GET", "/api/v1/orgs/demo_org/audit?format=csv"],
      ["GET", "/api/v1/tokens?org=demo_org"],
      ["POST", "/api/v1/tokens", json, '{"org":"demo_org","name":"x","role":"viewer"}'],
      ["DELETE", `/api/v1/tokens/${crypto.randomUUID()}`],
      ["POST", "/api/v1/uploads/reservations", json, '{"org":"demo_org","model":"x","version":"1.0","filename":"m.pkl","size":10}'],
      ["DELETE", `/api/v1/uploads/reservations/${crypto.randomUUID()}`],
      ["POST", `/api/v1/uploads/reservations/${crypto.randomUUID()}/complete`, json, "{}"],
      [
        "POST",
        "/api/v1/uploads",
        {
          ...TUS,
          "upload-length": "10",
          "upload-metadata": tusMetadata({ org: "demo_org", model: "x", version: "1.0", filename: "m.pkl" }),
        },
      ],
    ];
    const problems = await collectProblems(endpoints, async ([method, p, headers, body]) =>
      problemWith(`anonymous ${method} ${p}`, await raw({ method, path: p, headers, body }), {
        status: [401],
        code: ["unauthorized"],
        contentType: !p.startsWith("/api/v1/uploads") || p.includes("reservations"),
      }),
    );
    expect(problems).toEqual([]);
  });

  test("forged, tampered and malformed bearer tokens are 401 and never act as anyone", async ({ request }) => {
    const cases = Object.entries(forgeries(session("bob").token));
    const problems = await collectProblems(cases, async ([name, token]) => {
      const r = await request.get("/api/v1/orgs", { headers: tokenAuth(token) });
      return problemWith(`bearer: ${name}`, await answerOf(r), { status: [401], code: ["unauthorized"] });
    });
    expect(problems).toEqual([]);
  });

  test("the same forgeries as the session cookie count as signed out (401), on the API and on the tus endpoint", async ({ request }) => {
    const cases = Object.entries(forgeries(session("bob").token)).filter(([name]) => !name.includes("8 KB"));
    const problems = await collectProblems(cases, async ([name, token]) => {
      const api = await request.get("/api/v1/orgs/demo_org/models", { headers: { cookie: `fm_session=${token}` } });
      const p1 = problemWith(`cookie: ${name}`, await answerOf(api), { status: [401], code: ["unauthorized"] });
      const tus = await request.post("/api/v1/uploads", {
        headers: {
          cookie: `fm_session=${token}`,
          ...TUS,
          "upload-length": "10",
          "upload-metadata": tusMetadata({ org: "demo_org", model: slugFor("authn"), version: "1.0", filename: "m.pkl" }),
        },
      });
      return (
        p1 ?? problemWith(`tus with cookie: ${name}`, await answerOf(tus), { status: [401], code: ["unauthorized"], contentType: false })
      );
    });
    expect(problems).toEqual([]);
  });

  test("malformed Authorization headers are 401 and do not fall back to the cookie", async () => {
    const headers: [string, Record<string, string>][] = [
      ["Bearer with nothing", { authorization: "Bearer" }],
      ["Bearer and spaces", { authorization: "Bearer    " }],
      ["two tokens", { authorization: `Bearer ${session("bob").token} ${session("alice").token}` }],
      ["Basic credentials", { authorization: `Basic ${Buffer.from("bob@demo.org:fairmind-demo").toString("base64")}` }],
      ["a token without a scheme", { authorization: session("bob").token }],
      ["Token scheme", { authorization: `Token ${session("bob").token}` }],
      // A valid cookie must not rescue a bad header: the header decides.
      ["bad bearer + good cookie", { authorization: "Bearer garbage", ...cookie("bob") }],
      ["alg none bearer + good cookie", { authorization: `Bearer ${forgeries(session("bob").token)["alg none"]}`, ...cookie("alice") }],
    ];
    const problems = await collectProblems(headers, async ([name, h]) =>
      problemWith(name, await raw({ method: "GET", path: "/api/v1/orgs", headers: h }), { status: [401], code: ["unauthorized"] }),
    );
    expect(problems).toEqual([]);
  });

  test("credentials in the query string are not accepted", async ({ request }) => {
    const t = session("bob").token;
    for (const q of [`access_token=${t}`, `token=${t}`, `apikey=${t}`, `fm_session=${t}`]) {
      await expectError(await request.get(`/api/v1/orgs/demo_org/models?${q}`), 401, "unauthorized");
    }
  });

  test("an expired session signed with the server's own key is refused, as bearer and as cookie", async ({ request }) => {
    // Black box except for this key: the server keeps it in DATA_DIR/auth-secret when AUTH_SECRET is unset.
    const secretFile = path.join(projectMeta().dataDir, "auth-secret");
    expect(fs.existsSync(secretFile), `${secretFile} (the e2e server's signing key) exists`).toBe(true);
    const key = fs.readFileSync(secretFile, "utf8").trim();
    const claims = decodeJwt(session("bob").token);
    const now = Math.floor(Date.now() / 1000);
    // A control first: the same claims re-signed with the key and a fresh expiry are accepted.
    const fresh = signHs256({ ...claims, iat: now, exp: now + 300 }, key);
    expect((await request.get("/api/v1/orgs", { headers: tokenAuth(fresh) })).status()).toBe(200);
    const expired = signHs256({ ...claims, iat: now - 9 * 3600, exp: now - 3600 }, key);
    await expectError(await request.get("/api/v1/orgs", { headers: tokenAuth(expired) }), 401, "unauthorized");
    await expectError(await request.get("/api/v1/orgs", { headers: { cookie: `fm_session=${expired}` } }), 401, "unauthorized");
    // Other audiences signed with the same key (a download link, a foreign issuer) are not sessions.
    const link = signHs256({ ...claims, aud: "fairmind-download-link", exp: now + 300 }, key);
    await expectError(await request.get("/api/v1/orgs", { headers: tokenAuth(link) }), 401, "unauthorized");
    const foreign = signHs256({ ...claims, iss: "someone-else", exp: now + 300 }, key);
    await expectError(await request.get("/api/v1/orgs", { headers: tokenAuth(foreign) }), 401, "unauthorized");
    const serviceRole = signHs256({ ...claims, role: "service_role", exp: now + 300 }, key);
    await expectError(await request.get("/api/v1/orgs", { headers: tokenAuth(serviceRole) }), 401, "unauthorized");
  });

  test("a revoked API token is 401 on every door: REST, uploads, tus", async ({ request }) => {
    const model = slugFor("revoked");
    const { id, token } = await createToken(request, bearer("bob"), "demo_org", "member");
    await uploadVersion(request, tokenAuth(token), { model, version: "1.0" });
    expect((await request.delete(`/api/v1/tokens/${id}`, { headers: bearer("bob") })).status()).toBe(204);
    const auth = tokenAuth(token);
    await expectError(await request.get("/api/v1/orgs", { headers: auth }), 401, "unauthorized");
    await expectError(
      await request.get(`/api/v1/orgs/demo_org/models/${model}/versions/1.0/download`, { headers: auth }),
      401,
      "unauthorized",
    );
    await expectError(
      await request.put(`/api/v1/orgs/demo_org/models/${model}/versions/1.1?filename=m.onnx`, {
        headers: auth,
        data: fixture("churn_model_v1.onnx"),
      }),
      401,
      "unauthorized",
    );
    await expectError(
      await request.post(`/api/v1/orgs/demo_org/models/${model}/versions/1.0/link`, { headers: auth }),
      401,
      "unauthorized",
    );
    const tus = await request.post("/api/v1/uploads", {
      headers: {
        ...auth,
        ...TUS,
        "upload-length": "10",
        "upload-metadata": tusMetadata({ org: "demo_org", model, version: "2.0", filename: "m.pkl" }),
      },
    });
    expect(
      problemWith("tus with a revoked token", await answerOf(tus), { status: [401], code: ["unauthorized"], contentType: false }),
    ).toBeNull();
    // Revoking twice is a 404, not a 500.
    await expectError(await request.delete(`/api/v1/tokens/${id}`, { headers: bearer("bob") }), 404, "not_found");
  });

  test("sign-in refuses malformed bodies with a 4xx in the JSON shape", async () => {
    const bodies: [string, string, string?][] = [
      ["not JSON", "email=bob@demo.org&password=x", "application/x-www-form-urlencoded"],
      ["truncated JSON", '{"email":"bob@demo.org","password":'],
      ["JSON null", "null"],
      ["a JSON array", '["bob@demo.org","fairmind-demo"]'],
      ["an e-mail object", '{"email":{"$ne":null},"password":"x"}'],
      ["a password object", '{"email":"bob@demo.org","password":{"$gt":""}}'],
      ["a password array", '{"email":"bob@demo.org","password":["fairmind-demo"]}'],
      ["a 2000-character password", JSON.stringify({ email: "nobody@hostile.test", password: "p".repeat(2000) })],
      ["an e-mail of 400 characters", JSON.stringify({ email: `${"a".repeat(390)}@x.test`, password: "x" })],
      ["empty body", ""],
    ];
    const problems = await collectProblems(bodies, async ([name, body, type]) =>
      problemWith(
        `sign-in with ${name}`,
        await raw({ method: "POST", path: "/api/v1/auth/sign-in", headers: { "content-type": type ?? "application/json" }, body }),
        {
          status: [400, 401, 413, 415, 422],
        },
      ),
    );
    expect(problems).toEqual([]);
  });
});
