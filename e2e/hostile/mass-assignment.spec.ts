import crypto from "node:crypto";
import { test, expect } from "@playwright/test";
import { bearer, decodeJwt, fixture, session, sha256, slugFor, tokenAuth, TUS, tusMetadata, uploadVersion } from "./helpers";

// OWASP API3:2023 Broken Object Property Level Authorization (mass assignment). Bodies and the
// X-Model-Metadata / Upload-Metadata headers carry fields the server owns (ids, org, author, status,
// scan verdict, sizes, hashes, object keys, roles). Each is refused (4xx) or ignored — never applied.

async function adminOrgId(request: import("@playwright/test").APIRequestContext) {
  const orgs = await (await request.get("/api/v1/orgs", { headers: bearer("carol") })).json();
  return orgs.items.find((o: { slug: string }) => o.slug === "admin_org").id as string;
}

test.describe("mass assignment (API3)", () => {
  test("creating a model ignores or refuses server-owned fields", async ({ request }) => {
    const slug = slugFor("mass");
    const forgedId = crypto.randomUUID();
    const r = await request.post("/api/v1/orgs/demo_org/models", {
      headers: bearer("bob"),
      data: {
        name: "Mass assignment",
        slug,
        task_type: "other",
        id: forgedId,
        org_id: await adminOrgId(request),
        org: "admin_org",
        created_by: session("carol").userId,
        created_at: "2000-01-01T00:00:00Z",
        updated_at: "2000-01-01T00:00:00Z",
        version_count: 99,
        total_bytes: 1,
        latest_version: "9.9",
        latest_scan_verdict: "safe",
        role: "owner",
      },
    });
    expect([201, 400, 422], await r.text()).toContain(r.status());
    if (r.status() !== 201) return;
    const m = await r.json();
    expect(m.id).not.toBe(forgedId);
    expect(m).toMatchObject({ slug, version_count: 0, total_bytes: 0, latest_version: null });
    expect(new Date(m.created_at).getFullYear()).toBeGreaterThan(2000);
    // It lives in bob's org, and carol's org does not have it.
    expect((await request.get(`/api/v1/orgs/demo_org/models/${slug}`, { headers: bearer("bob") })).status()).toBe(200);
    expect((await request.get(`/api/v1/orgs/admin_org/models/${slug}`, { headers: bearer("carol") })).status()).toBe(404);
    const audit = await (await request.get(`/api/v1/orgs/demo_org/audit?model=${slug}`, { headers: bearer("bob") })).json();
    expect(audit.items[0]?.actor?.email).toBe("bob@demo.org");
  });

  test("editing a model cannot move it, rename its slug or change its author", async ({ request }) => {
    const slug = slugFor("masspatch");
    await uploadVersion(request, bearer("bob"), { model: slug, version: "1.0" });
    const before = await (await request.get(`/api/v1/orgs/demo_org/models/${slug}`, { headers: bearer("bob") })).json();
    const r = await request.patch(`/api/v1/orgs/demo_org/models/${slug}`, {
      headers: bearer("bob"),
      data: {
        description: "patched",
        slug: "renamed_by_patch",
        org_id: await adminOrgId(request),
        id: crypto.randomUUID(),
        created_by: session("carol").userId,
        total_bytes: 0,
        version_count: 0,
        latest_scan_verdict: "dangerous",
      },
    });
    expect([200, 400, 422], await r.text()).toContain(r.status());
    const after = await (await request.get(`/api/v1/orgs/demo_org/models/${slug}`, { headers: bearer("bob") })).json();
    expect(after).toMatchObject({
      id: before.id,
      slug,
      version_count: 1,
      total_bytes: before.total_bytes,
      latest_scan_verdict: before.latest_scan_verdict,
    });
    expect((await request.get("/api/v1/orgs/demo_org/models/renamed_by_patch", { headers: bearer("bob") })).status()).toBe(404);
  });

  test("X-Model-Metadata cannot set status, verdict, key, size, format or author: a dangerous file stays quarantined", async ({
    request,
  }) => {
    const slug = slugFor("massmeta");
    const file = fixture("malicious_os_system.pkl");
    const meta = {
      name: "Innocent",
      task_type: "classification",
      status: "ready",
      scan_verdict: "safe",
      scan: { verdict: "safe", findings: [] },
      object_key: "admin_org/owned_v1.0.pkl",
      key: "../../admin_org/owned.pkl",
      org: "admin_org",
      org_id: await adminOrgId(request),
      size_bytes: 1,
      format: "onnx",
      framework_detected: "onnx",
      created_by: session("alice").userId,
      version: "7.7",
    };
    const r = await request.put(`/api/v1/orgs/demo_org/models/${slug}/versions/1.0?filename=m.pkl`, {
      headers: { ...bearer("bob"), "x-model-metadata": JSON.stringify(meta) },
      data: file,
    });
    expect([201, 400, 422], await r.text()).toContain(r.status());
    if (r.status() !== 201) return;
    const v = await r.json();
    expect(v).toMatchObject({
      version: "1.0",
      status: "quarantined",
      size_bytes: file.length,
      sha256: sha256(file),
      file_count: 1,
      uploaded_by: "bob@demo.org",
    });
    expect(v.scan.verdict).toBe("dangerous");
    expect(v.format).not.toBe("onnx");
  });

  test("tus Upload-Metadata cannot claim another user's upload or another reservation", async ({ request }) => {
    const slug = slugFor("masstus");
    const body = fixture("credit_risk_v2.1.pkl");
    const create = await request.post("/api/v1/uploads", {
      headers: {
        ...bearer("bob"),
        ...TUS,
        "upload-length": String(body.length),
        "upload-metadata": tusMetadata({
          org: "demo_org",
          model: slug,
          version: "1.0",
          filename: "m.pkl",
          user_id: session("vera").userId,
          version_id: crypto.randomUUID(),
          metadata: JSON.stringify({ task_type: "other", status: "ready" }),
        }),
      },
    });
    expect(create.status(), await create.text()).toBe(201);
    const path = new URL(create.headers()["location"]!, "http://x").pathname;
    // Still bob's: vera (named in the forged user_id) cannot see it; bob finishes it.
    expect((await request.head(path, { headers: { ...bearer("vera"), ...TUS } })).status()).toBe(404);
    const done = await request.patch(path, {
      headers: { ...bearer("bob"), ...TUS, "upload-offset": "0", "content-type": "application/offset+octet-stream" },
      data: body,
    });
    expect(done.status(), await done.text()).toBe(200);
    expect(await done.json()).toMatchObject({ version: "1.0", uploaded_by: "bob@demo.org", sha256: sha256(body) });
  });

  test("creating a token cannot choose its owner, org, hash, expiry or revocation", async ({ request }) => {
    const name = `mass-${Date.now()}`;
    const r = await request.post("/api/v1/tokens", {
      headers: bearer("bob"),
      data: {
        org: "demo_org",
        name,
        role: "viewer",
        user_id: session("alice").userId,
        org_id: await adminOrgId(request),
        token_hash: "0".repeat(64),
        token_prefix: "fm_owned",
        id: crypto.randomUUID(),
        expires_at: "2999-01-01T00:00:00Z",
        revoked_at: null,
        last_used_at: "2000-01-01T00:00:00Z",
      },
    });
    expect([201, 400, 422], await r.text()).toContain(r.status());
    if (r.status() !== 201) return;
    const t = await r.json();
    expect(t).toMatchObject({ name, role: "viewer", user_id: session("bob").userId, expires_at: null, last_used_at: null });
    expect(t.prefix).not.toBe("fm_owned");
    const orgs = await (await request.get("/api/v1/orgs", { headers: tokenAuth(t.token) })).json();
    expect(orgs.items.map((o: { slug: string }) => o.slug)).toEqual(["demo_org"]);
  });

  test("moving an alias cannot choose who moved it or which model it belongs to", async ({ request }) => {
    const slug = slugFor("massalias");
    await uploadVersion(request, bearer("bob"), { model: slug, version: "1.0" });
    const r = await request.put(`/api/v1/orgs/demo_org/models/${slug}/aliases/production`, {
      headers: bearer("bob"),
      data: {
        version: "1.0",
        moved_by: session("alice").userId,
        updated_by: session("alice").userId,
        model: "credit_risk",
        model_id: crypto.randomUUID(),
        org: "admin_org",
      },
    });
    expect([200, 400, 422], await r.text()).toContain(r.status());
    if (r.status() !== 200) return;
    const a = await (await request.get(`/api/v1/orgs/demo_org/models/${slug}/aliases`, { headers: bearer("bob") })).json();
    expect(a.history).toMatchObject([{ alias: "production", from: null, to: "1.0", moved_by: "bob@demo.org" }]);
    const demo = await (await request.get("/api/v1/orgs/demo_org/models/credit_risk/aliases", { headers: bearer("bob") })).json();
    expect(JSON.stringify(demo.history)).not.toContain(slug);
  });

  test("sign-in cannot choose the token's subject or role", async ({ request }) => {
    const r = await request.post("/api/v1/auth/sign-in", {
      data: {
        email: "vera@demo.org",
        password: "fairmind-demo",
        role: "service_role",
        sub: session("alice").userId,
        aud: "service_role",
        expires_in: 10 ** 9,
        org: "demo_org",
        app_metadata: { role: "owner" },
      },
    });
    expect([200, 400, 422]).toContain(r.status());
    if (r.status() !== 200) return;
    const body = await r.json();
    expect(body.expires_in).toBeLessThanOrEqual(8 * 3600);
    const claims = decodeJwt(body.access_token);
    expect(claims).toMatchObject({ sub: session("vera").userId, role: "authenticated", aud: "authenticated" });
    expect(claims.app_metadata).toBeUndefined();
    // Still a viewer.
    expect(
      (
        await request.post("/api/v1/orgs/demo_org/models", {
          headers: tokenAuth(body.access_token),
          data: { name: "x", task_type: "other" },
        })
      ).status(),
    ).toBe(403);
  });
});
