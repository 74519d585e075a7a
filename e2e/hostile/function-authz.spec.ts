import { test, expect } from "@playwright/test";
import {
  answerOf,
  bearer,
  collectProblems,
  createToken,
  expectError,
  fixture,
  problemWith,
  raw,
  slugFor,
  tokenAuth,
  TUS,
  tusMetadata,
  uploadVersion,
} from "./helpers";

// OWASP API5:2023 Broken Function Level Authorization, against docs/decisions.md's access table:
// viewers read; members write (upload, edit, aliases, tokens up to their role, delete their own
// versions); admins and owners delete models and others' versions and download quarantined files.
// Every refusal is a 403 in our JSON shape and changes nothing; the owner's controls show that the
// same requests are otherwise valid.

test.describe("broken function-level authorization (API5)", () => {
  test("a viewer cannot create API tokens, of any role (docs/decisions.md)", async ({ request }) => {
    const vera = bearer("vera");
    for (const role of ["viewer", "member", "admin"]) {
      const name = `vera-${role}-${Date.now()}`;
      await expectError(await request.post("/api/v1/tokens", { headers: vera, data: { org: "demo_org", name, role } }), 403, "forbidden");
      const mine = await (await request.get("/api/v1/tokens?org=demo_org", { headers: vera })).json();
      expect(mine.items.map((t: { name: string }) => t.name)).not.toContain(name);
    }
  });

  test("a viewer cannot upload, create, edit, move aliases or delete", async ({ request }) => {
    const model = slugFor("viewer");
    await uploadVersion(request, bearer("bob"), { model, version: "1.0" });
    const vera = bearer("vera");
    const json = { ...vera, "content-type": "application/json" };
    const cases: [string, string, Record<string, string>, string | Buffer | undefined][] = [
      ["POST", "/api/v1/orgs/demo_org/models", json, JSON.stringify({ name: "by vera", slug: slugFor("vera"), task_type: "other" })],
      ["PATCH", `/api/v1/orgs/demo_org/models/${model}`, json, '{"description":"edited by vera"}'],
      ["PUT", `/api/v1/orgs/demo_org/models/${model}/versions/2.0?filename=m.onnx`, vera, fixture("churn_model_v1.onnx")],
      ["PUT", `/api/v1/orgs/demo_org/models/${model}/aliases/production`, json, '{"version":"1.0"}'],
      ["DELETE", `/api/v1/orgs/demo_org/models/${model}/versions/1.0`, vera, undefined],
      ["DELETE", `/api/v1/orgs/demo_org/models/${model}`, vera, undefined],
      [
        "POST",
        "/api/v1/uploads/reservations",
        json,
        JSON.stringify({ org: "demo_org", model, version: "3.0", filename: "m.pkl", size: 100 }),
      ],
      [
        "POST",
        "/api/v1/uploads",
        {
          ...vera,
          ...TUS,
          "upload-length": "100",
          "upload-metadata": tusMetadata({ org: "demo_org", model, version: "4.0", filename: "m.pkl" }),
        },
        undefined,
      ],
    ];
    const problems = await collectProblems(cases, async ([method, p, headers, body]) =>
      problemWith(`vera ${method} ${p}`, await raw({ method, path: p, headers, body }), {
        status: [403],
        code: ["forbidden"],
        contentType: p !== "/api/v1/uploads",
      }),
    );
    expect(problems).toEqual([]);
    const d = await (await request.get(`/api/v1/orgs/demo_org/models/${model}`, { headers: bearer("bob") })).json();
    expect(d.description).not.toContain("vera");
    expect(d.aliases).toEqual([]);
    expect(d.versions.map((v: { version: string; status: string }) => `${v.version}:${v.status}`)).toEqual(["1.0:ready"]);
  });

  test("a member cannot delete models, others' versions, mint stronger tokens or open quarantined files", async ({ request }) => {
    const model = slugFor("member");
    await uploadVersion(request, bearer("alice"), { model, version: "1.0" });
    const q = await uploadVersion(request, bearer("alice"), { model, version: "1.1" }, "malicious_os_system.pkl");
    expect(q.status).toBe("quarantined");
    const bob = bearer("bob");
    await expectError(await request.delete(`/api/v1/orgs/demo_org/models/${model}`, { headers: bob }), 403, "forbidden");
    await expectError(await request.delete(`/api/v1/orgs/demo_org/models/${model}/versions/1.0`, { headers: bob }), 403, "forbidden");
    await expectError(
      await request.post("/api/v1/tokens", { headers: bob, data: { org: "demo_org", name: "too-strong", role: "admin" } }),
      403,
      "forbidden",
    );
    for (const suffix of ["", "?acknowledge_risk=true", "?acknowledge_risk=1", "?acknowledge_risk=TRUE&acknowledge_risk=true"]) {
      await expectError(await request.get(`/api/v1/orgs/demo_org/models/${model}/versions/1.1/download${suffix}`, { headers: bob }), 403, [
        "quarantined",
        "forbidden",
      ]);
    }
    await expectError(await request.post(`/api/v1/orgs/demo_org/models/${model}/versions/1.1/link`, { headers: bob }), 403, [
      "quarantined",
      "forbidden",
    ]);
    await expectError(
      await request.put(`/api/v1/orgs/demo_org/models/${model}/aliases/production`, { headers: bob, data: { version: "1.1" } }),
      [403, 409, 422],
    );
    // Controls: the owner may do what bob may not, so the refusals above are about roles.
    const alice = bearer("alice");
    const ack = await request.get(`/api/v1/orgs/demo_org/models/${model}/versions/1.1/download?acknowledge_risk=true`, { headers: alice });
    expect(ack.status()).toBe(200);
    expect((await request.delete(`/api/v1/orgs/demo_org/models/${model}/versions/1.0`, { headers: alice })).status()).toBe(204);
    expect((await request.delete(`/api/v1/orgs/demo_org/models/${model}`, { headers: alice })).status()).toBe(204);
  });

  test("a member deletes their own versions, and sees only their own tokens", async ({ request }) => {
    const model = slugFor("own");
    await uploadVersion(request, bearer("bob"), { model, version: "1.0" });
    expect((await request.delete(`/api/v1/orgs/demo_org/models/${model}/versions/1.0`, { headers: bearer("bob") })).status()).toBe(204);
    const alices = await createToken(request, bearer("alice"), "demo_org", "viewer");
    const bobs = await (await request.get("/api/v1/tokens?org=demo_org", { headers: bearer("bob") })).json();
    expect(bobs.items.map((t: { id: string }) => t.id)).not.toContain(alices.id);
    await expectError(await request.delete(`/api/v1/tokens/${alices.id}`, { headers: bearer("bob") }), 404, "not_found");
    expect((await request.get("/api/v1/orgs/demo_org/models?limit=1", { headers: tokenAuth(alices.token) })).status()).toBe(200);
  });

  test("an API token acts with at most its role, and cannot mint tokens", async ({ request }) => {
    const model = slugFor("tokrole");
    await uploadVersion(request, bearer("bob"), { model, version: "1.0" });
    const viewer = tokenAuth((await createToken(request, bearer("alice"), "demo_org", "viewer")).token);
    const member = tokenAuth((await createToken(request, bearer("alice"), "demo_org", "member")).token);
    await expectError(
      await request.put(`/api/v1/orgs/demo_org/models/${model}/versions/2.0?filename=m.onnx`, {
        headers: viewer,
        data: fixture("churn_model_v1.onnx"),
      }),
      403,
      "forbidden",
    );
    await expectError(
      await request.put(`/api/v1/orgs/demo_org/models/${model}/aliases/staging`, { headers: viewer, data: { version: "1.0" } }),
      403,
      "forbidden",
    );
    await expectError(
      await request.post("/api/v1/orgs/demo_org/models", { headers: viewer, data: { name: "by token", task_type: "other" } }),
      403,
      "forbidden",
    );
    const tus = await request.post("/api/v1/uploads", {
      headers: {
        ...viewer,
        ...TUS,
        "upload-length": "100",
        "upload-metadata": tusMetadata({ org: "demo_org", model, version: "5.0", filename: "m.pkl" }),
      },
    });
    expect(
      problemWith("tus create with a viewer token", await answerOf(tus), { status: [403], code: ["forbidden"], contentType: false }),
    ).toBeNull();
    // alice is the owner, but her member token may not delete models
    await expectError(await request.delete(`/api/v1/orgs/demo_org/models/${model}`, { headers: member }), 403, "forbidden");
    for (const t of [viewer, member]) {
      await expectError(
        await request.post("/api/v1/tokens", { headers: t, data: { org: "demo_org", name: "minted", role: "viewer" } }),
        403,
        "forbidden",
      );
    }
    const all = await (await request.get("/api/v1/tokens?org=demo_org", { headers: bearer("alice") })).json();
    expect(all.items.map((t: { name: string }) => t.name)).not.toContain("minted");
    expect((await request.get(`/api/v1/orgs/demo_org/models/${model}`, { headers: bearer("bob") })).status()).toBe(200);
  });
});
