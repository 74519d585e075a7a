// API tokens (fm_…) in supabase mode: created by a signed-in user, then used alone by a pipeline.
import crypto from "node:crypto";
import { describe, expect, it } from "vitest";
import { api, ctx, lane, nextVersion, putVersion, safetensors, sha256, show, title, tokenFor, versionPath } from "./support/lane";

const MODEL = "tokens";

describe.skipIf(!lane)(title("API tokens in supabase mode"), () => {
  it("a member creates an API token, then lists tokens, uploads and downloads with it alone", async () => {
    const c = ctx();
    const created = await api("/api/v1/tokens", {
      token: await tokenFor("member"),
      json: { org: c.orgA.slug, name: `pipeline ${c.run}`, role: "member" },
    });
    expect(created.status, show(created)).toBe(201);
    const fm = (created.json as { token: string }).token;
    expect(fm).toMatch(/^fm_/);

    const list = await api(`/api/v1/tokens?org=${c.orgA.slug}`, { token: fm });
    expect(list.status, show(list)).toBe(200);

    const data = safetensors(200 * 1024);
    const v = nextVersion();
    const up = await putVersion(fm, c.orgA.slug, MODEL, v, data, { sha256: sha256(data) });
    expect(up.status, show(up)).toBe(201);

    const down = await api(`${versionPath(c.orgA.slug, MODEL, v)}/download`, { token: fm });
    expect(down.status, show(down)).toBe(200);
    expect(sha256(down.body)).toBe(sha256(data));
  });

  it("a viewer-role API token downloads but cannot upload (403)", async () => {
    const c = ctx();
    const owner = await tokenFor("owner");
    const data = safetensors(64 * 1024);
    const v = nextVersion();
    expect((await putVersion(owner, c.orgA.slug, MODEL, v, data)).status).toBe(201);
    const created = await api("/api/v1/tokens", { token: owner, json: { org: c.orgA.slug, name: `reader ${c.run}`, role: "viewer" } });
    expect(created.status, show(created)).toBe(201);
    const fm = (created.json as { token: string }).token;
    const down = await api(`${versionPath(c.orgA.slug, MODEL, v)}/download`, { token: fm });
    expect(down.status, show(down)).toBe(200);
    const up = await putVersion(fm, c.orgA.slug, MODEL, nextVersion(), safetensors(16 * 1024));
    expect(up.status, show(up)).toBe(403);
  });

  it("an unknown fm_ token is a 401, not a 500", async () => {
    const unknown = `fm_${crypto.randomBytes(32).toString("base64url")}`;
    const a = await api(`/api/v1/orgs`, { token: unknown });
    expect(a.status, show(a)).toBe(401);
  });

  it("a revoked API token is a 401", async () => {
    const c = ctx();
    const member = await tokenFor("member");
    const created = await api("/api/v1/tokens", { token: member, json: { org: c.orgA.slug, name: `revoked ${c.run}`, role: "viewer" } });
    expect(created.status, show(created)).toBe(201);
    const { token: fm, id } = created.json as { token: string; id: string };
    const del = await api(`/api/v1/tokens/${id}`, { token: member, method: "DELETE" });
    expect(del.status, show(del)).toBe(204);
    const a = await api(`/api/v1/orgs`, { token: fm });
    expect(a.status, show(a)).toBe(401);
  });
});
