// Downloads, ranges, signed links, aliases and deletes in supabase mode against the real Storage server.
import { beforeAll, describe, expect, it } from "vitest";
import { api, ctx, lane, nextVersion, putVersion, safetensors, sha256, show, sql, title, tokenFor, versionPath } from "./support/lane";

const MODEL = "downloads";

describe.skipIf(!lane)(title("downloads in supabase mode"), () => {
  let data: Buffer;
  let version: string;
  let path: string;

  beforeAll(async () => {
    const c = ctx();
    data = safetensors(3 * 1024 * 1024 + 77);
    version = nextVersion();
    const a = await putVersion(await tokenFor("owner"), c.orgA.slug, MODEL, version, data);
    if (a.status !== 201) throw new Error(`could not upload the download fixture: ${show(a)}`);
    path = versionPath(c.orgA.slug, MODEL, version);
  });

  const downloads = async (versionId: string) =>
    (
      await sql<{ n: number; bytes: number }>(
        "select count(*)::int as n, coalesce(sum(bytes), 0)::bigint as bytes from public.audit_events where action = 'version.download' and target_id = $1",
        [versionId],
      )
    ).rows[0]!;
  const versionId = async () => ((await api(path, { token: await tokenFor("owner") })).json as { id: string }).id;

  it.each(["an owner", "a member", "a viewer"] as const)("%s downloads the whole file with its Content-Length and SHA-256", async (who) => {
    const a = await api(`${path}/download`, { token: await tokenFor(who.split(" ")[1] as "owner" | "member" | "viewer") });
    expect(a.status, show(a)).toBe(200);
    expect(sha256(a.body)).toBe(sha256(data));
    expect(a.headers.get("x-content-sha256")).toBe(sha256(data));
    expect(a.headers.get("content-length"), "a full download must announce its length").toBe(String(data.length));
  });

  it("HEAD on a download answers the length without a body", async () => {
    const res = await fetch(`${ctx().appUrl}${path}/download`, {
      method: "HEAD",
      headers: { authorization: `Bearer ${await tokenFor("member")}` },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-length")).toBe(String(data.length));
  });

  // [Range header, first byte, last byte] for a file of `size` bytes.
  const RANGES: [string, (size: number) => [number, number]][] = [
    ["bytes=0-0", () => [0, 0]],
    ["bytes=100-65635", () => [100, 65635]],
    ["bytes=-1000", (size) => [size - 1000, size - 1]],
    ["bytes=3000000-", (size) => [3000000, size - 1]],
  ];
  it.each(RANGES)("a ranged download (%s) answers 206 with exactly those bytes", async (range, bounds) => {
    const a = await api(`${path}/download`, { token: await tokenFor("member"), headers: { range } });
    const size = data.length;
    const [from, to] = bounds(size);
    expect(a.status, show(a)).toBe(206);
    expect(a.headers.get("content-range")).toBe(`bytes ${from}-${to}/${size}`);
    expect(a.body.equals(data.subarray(from, to + 1))).toBe(true);
    expect(a.headers.get("content-length")).toBe(String(to - from + 1));
  });

  it("an unsatisfiable range is a 416", async () => {
    const a = await api(`${path}/download`, { token: await tokenFor("member"), headers: { range: `bytes=${data.length + 10}-` } });
    expect(a.status, show(a)).toBe(416);
  });

  it("every download through the app is audited once with the bytes served", async () => {
    const id = await versionId();
    const before = await downloads(id);
    const a = await api(`${path}/download`, { token: await tokenFor("viewer") });
    expect(a.status, show(a)).toBe(200);
    const after = await downloads(id);
    expect(after.n - before.n).toBe(1);
    expect(Number(after.bytes) - Number(before.bytes)).toBe(data.length);
  });

  it("a signed link downloads the file, and that download is audited and counted as egress", async () => {
    const id = await versionId();
    const link = await api(`${path}/link`, { token: await tokenFor("member"), method: "POST" });
    expect(link.status, show(link)).toBe(201);
    const { url } = link.json as { url: string };
    const before = await downloads(id);
    const res = await fetch(url);
    const body = Buffer.from(await res.arrayBuffer());
    expect(res.status, `${url} -> ${res.status} ${body.toString("utf8").slice(0, 300)}`).toBe(200);
    expect(sha256(body)).toBe(sha256(data));
    const after = await downloads(id);
    expect(after.n - before.n, `a download through ${new URL(url).origin}${new URL(url).pathname.slice(0, 40)}… must be audited`).toBe(1);
    expect(Number(after.bytes) - Number(before.bytes)).toBe(data.length);
  });

  it("an alias points at a version and every move is kept", async () => {
    const c = ctx();
    const token = await tokenFor("member");
    const second = nextVersion();
    expect((await putVersion(token, c.orgA.slug, MODEL, second, safetensors(40 * 1024))).status).toBe(201);
    const a1 = await api(`/api/v1/orgs/${c.orgA.slug}/models/${MODEL}/aliases/production`, { token, method: "PUT", json: { version } });
    expect(a1.status, show(a1)).toBe(200);
    const a2 = await api(`/api/v1/orgs/${c.orgA.slug}/models/${MODEL}/aliases/production`, {
      token,
      method: "PUT",
      json: { version: second },
    });
    expect(a2.status, show(a2)).toBe(200);
    expect(a2.json).toMatchObject({ alias: "production", version: second, previous: version });
    const list = await api(`/api/v1/orgs/${c.orgA.slug}/models/${MODEL}/aliases`, { token: await tokenFor("viewer") });
    expect(list.status, show(list)).toBe(200);
    const body = list.json as { items: { alias: string; version: string }[]; history: unknown[] };
    expect(body.items).toContainEqual(expect.objectContaining({ alias: "production", version: second }));
    expect(body.history.length).toBeGreaterThanOrEqual(2);
    const viewerMove = await api(`/api/v1/orgs/${c.orgA.slug}/models/${MODEL}/aliases/staging`, {
      token: await tokenFor("viewer"),
      method: "PUT",
      json: { version },
    });
    expect(viewerMove.status, show(viewerMove)).toBe(403);
  });

  it("a deleted version can no longer be downloaded, and a viewer cannot delete", async () => {
    const c = ctx();
    const v = nextVersion();
    const token = await tokenFor("member");
    expect((await putVersion(token, c.orgA.slug, MODEL, v, safetensors(40 * 1024))).status).toBe(201);
    const p = versionPath(c.orgA.slug, MODEL, v);
    const byViewer = await api(p, { token: await tokenFor("viewer"), method: "DELETE" });
    expect(byViewer.status, show(byViewer)).toBe(403);
    const del = await api(p, { token, method: "DELETE" });
    expect(del.status, show(del)).toBe(204);
    const d = await api(`${p}/download`, { token });
    expect(d.status, show(d)).toBe(404);
  });

  it("another org's owner can neither see, download nor link this version (404)", async () => {
    const token = await tokenFor("otherOwner");
    for (const [p, method] of [
      [path, "GET"],
      [`${path}/download`, "GET"],
      [`${path}/link`, "POST"],
    ] as const) {
      const a = await api(p, { token, method });
      expect(a.status, `${method} ${p}: ${show(a)}`).toBe(404);
    }
  });
});
