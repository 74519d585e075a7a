// Versions as sets of files (issue 13) in supabase mode against the real Storage server: a folder
// committed through the app's resumable endpoint (which streams each file on to Storage's), files
// stored once per organization (content-addressed dedup), and what stays in the bucket when a commit
// fails. Objects are blobs at <org>/blobs/<xx>/<blob id>.
import { describe, expect, it } from "vitest";
import {
  api,
  commitFolder,
  createCommit,
  ctx,
  junk,
  lane,
  newObjects,
  nextVersion,
  objectExists,
  objectKeysOf,
  putVersion,
  safetensors,
  sha256,
  show,
  sql,
  title,
  tokenFor,
  tusUpload,
  versionPath,
  versionStatus,
  CHUNK,
} from "./support/lane";

const MODEL = "folders";

/** A small Hugging Face-style folder: weights bigger than one tus chunk, a config, a card. */
function folder(): Record<string, Buffer> {
  return {
    "model.safetensors": safetensors(CHUNK + 70_000),
    "config.json": Buffer.from(JSON.stringify({ model_type: "bert", architectures: ["BertModel"], hidden_size: 8, nonce: Math.random() })),
    "README.md": Buffer.from(`# Lane model\n\nA folder committed through the app (${Date.now()}).\n`),
  };
}

const errorCode = (json: unknown) => (json as { error?: { code?: string } } | undefined)?.error?.code;

describe.skipIf(!lane)(title("versions of several files in supabase mode"), () => {
  it("a member commits a folder through the app's resumable endpoint; every file is a blob in the org's folder and downloads byte for byte", async () => {
    const c = ctx();
    const v = nextVersion();
    const files = folder();
    let r: Awaited<ReturnType<typeof commitFolder>> | undefined;
    const added = await newObjects(c.orgA.slug, async () => {
      r = await commitFolder("member", c.orgA.slug, MODEL, v, files);
    });
    expect(r!.create.status, show(r!.create)).toBe(201);
    expect(r!.uploads.map((u) => [u.path, u.tus.ok]).sort(), JSON.stringify(r!.uploads.map((u) => u.tus.steps))).toEqual(
      Object.keys(files)
        .sort()
        .map((p) => [p, true]),
    );
    expect(r!.complete?.status, r!.complete && show(r!.complete)).toBe(201);
    // The layout is read back from Storage as the member (configs, safetensors headers): nothing unread.
    expect(r!.complete?.json).toMatchObject({ version: v, status: "ready", file_count: 3, layout: "transformers" });
    expect((r!.complete?.json as { layout_details: { problems: unknown[] } }).layout_details.problems).toEqual([]);

    const keys = await objectKeysOf(c.orgA.slug, MODEL, v);
    expect(Object.keys(keys).sort()).toEqual(Object.keys(files).sort());
    for (const key of Object.values(keys)) {
      expect(key).toMatch(new RegExp(`^${c.orgA.slug}/blobs/[0-9a-f]{2}/[0-9a-f-]{36}$`));
      expect(await objectExists(key)).toMatchObject({ api: true, row: true });
    }
    expect(added.sort(), "exactly the version's files reached the bucket").toEqual(Object.values(keys).sort());

    // Every role of the org reads every file back through the app.
    for (const role of ["member", "viewer"] as const) {
      for (const [path, data] of Object.entries(files)) {
        const d = await api(`${versionPath(c.orgA.slug, MODEL, v)}/files/${path}`, { token: await tokenFor(role) });
        expect(d.status, `${role} ${path}: ${show(d)}`).toBe(200);
        expect(sha256(d.body), `${role} ${path}`).toBe(sha256(data));
      }
    }
  });

  it("the same folder again as a new version with one changed file sends and stores only that file", async () => {
    const c = ctx();
    const files = folder();
    const first = await commitFolder("member", c.orgA.slug, MODEL, nextVersion(), files);
    expect(first.complete?.status, first.complete && show(first.complete)).toBe(201);

    const v2 = nextVersion();
    const changed = { ...files, "config.json": Buffer.from(JSON.stringify({ model_type: "bert", changed: true, nonce: Math.random() })) };
    let second: Awaited<ReturnType<typeof commitFolder>> | undefined;
    const added = await newObjects(c.orgA.slug, async () => {
      second = await commitFolder("member", c.orgA.slug, MODEL, v2, changed);
    });
    const announced = second!.commit!.files;
    expect(announced.filter((f) => f.state === "upload").map((f) => f.path)).toEqual(["config.json"]);
    expect(
      announced
        .filter((f) => f.deduplicated)
        .map((f) => f.path)
        .sort(),
    ).toEqual(["README.md", "model.safetensors"]);
    expect(second!.commit!.deduplicated_bytes).toBe(files["model.safetensors"]!.length + files["README.md"]!.length);
    expect(second!.complete?.status, second!.complete && show(second!.complete)).toBe(201);
    const keys = await objectKeysOf(c.orgA.slug, MODEL, v2);
    expect(added, "one new object: the changed config").toEqual([keys["config.json"]]);
    const d = await api(`${versionPath(c.orgA.slug, MODEL, v2)}/files/model.safetensors`, { token: await tokenFor("viewer") });
    expect(d.status, show(d)).toBe(200);
    expect(sha256(d.body)).toBe(sha256(files["model.safetensors"]!));
  });

  it("re-uploading the same bytes as a new version with one PUT (hash not announced) stores nothing new in the bucket", async () => {
    const c = ctx();
    const data = safetensors(200 * 1024);
    const token = await tokenFor("member");
    const v1 = nextVersion();
    expect((await putVersion(token, c.orgA.slug, MODEL, v1, data)).status).toBe(201);
    const v2 = nextVersion();
    let again: Awaited<ReturnType<typeof putVersion>> | undefined;
    const added = await newObjects(c.orgA.slug, async () => {
      again = await putVersion(token, c.orgA.slug, MODEL, v2, data);
    });
    expect(again!.status, show(again!)).toBe(201);
    expect(added, "the second copy was removed: stored once, billed once").toEqual([]);
    const [k1, k2] = [await objectKeysOf(c.orgA.slug, MODEL, v1), await objectKeysOf(c.orgA.slug, MODEL, v2)];
    expect(Object.values(k2)).toEqual(Object.values(k1));
    const d = await api(`${versionPath(c.orgA.slug, MODEL, v2)}/download`, { token: await tokenFor("viewer") });
    expect(d.status, show(d)).toBe(200);
    expect(sha256(d.body)).toBe(sha256(data));
  });

  it("a sharded folder whose index names a shard that is missing is refused at complete (read back from Storage as the member), and the commit can be dropped", async () => {
    const c = ctx();
    const v = nextVersion();
    const shard = safetensors(64 * 1024);
    const files = {
      "config.json": Buffer.from(JSON.stringify({ model_type: "bert", architectures: ["BertModel"], nonce: Math.random() })),
      "model-00001-of-00002.safetensors": shard,
      "model.safetensors.index.json": Buffer.from(
        JSON.stringify({ metadata: {}, weight_map: { w: "model-00001-of-00002.safetensors", v: "model-00002-of-00002.safetensors" } }),
      ),
      "README.md": Buffer.from(`# Half a model (${Date.now()})\n`),
    };
    const r = await commitFolder("member", c.orgA.slug, MODEL, v, files);
    expect(
      r.uploads.map((u) => u.tus.ok),
      JSON.stringify(r.uploads.map((u) => u.tus.steps)),
    ).toEqual([true, true, true, true]);
    expect(r.complete?.status, r.complete && show(r.complete)).toBe(422);
    expect(errorCode(r.complete?.json)).toBe("invalid_model_file");
    expect(r.complete?.text).toMatch(/model-00002-of-00002\.safetensors/);
    // The refused commit is gone; what it stored stays only as unreferenced stored blobs of the
    // organization (a retry reuses them, else the retention sweep collects them): no pending leftovers.
    expect(await versionStatus(c.orgA.slug, MODEL, v)).toBeUndefined();
    const { rows } = await sql<{ status: string; refs: number }>(
      `select b.status, (select count(*)::int from public.version_files f where f.blob_id = b.id) as refs
       from public.blobs b where b.org_id = $1 and b.sha256 = any($2)`,
      [c.orgA.id, Object.values(files).map((b) => sha256(b))],
    );
    expect(rows.length).toBe(4);
    expect(
      rows.every((x) => x.status === "stored" && x.refs === 0),
      JSON.stringify(rows),
    ).toBe(true);
  });

  it("a one-file version the inspector refuses through the app's resumable commit flow leaves nothing new in the bucket", async () => {
    const c = ctx();
    const v = nextVersion();
    let r: Awaited<ReturnType<typeof commitFolder>> | undefined;
    const added = await newObjects(c.orgA.slug, async () => {
      r = await commitFolder("member", c.orgA.slug, MODEL, v, { "model.safetensors": junk(CHUNK + 5000) });
    });
    const tus = r!.uploads[0]!.tus;
    const refusal = tus.ok ? r!.complete! : tus.last;
    expect(refusal.status, `${JSON.stringify(tus.steps)} / complete: ${r!.complete && show(r!.complete)}`).toBe(422);
    expect(errorCode(refusal.json)).toBe("invalid_model_file");
    expect(added, "no object may stay in the bucket").toEqual([]);
    const del = await api(`/api/v1/orgs/${c.orgA.slug}/models/${MODEL}/commits/${r!.commit!.id}`, {
      token: await tokenFor("member"),
      method: "DELETE",
    });
    expect([204, 404], show(del)).toContain(del.status);
    expect(await versionStatus(c.orgA.slug, MODEL, v)).toBeUndefined();
  });

  it("an API token commits a folder through the app's resumable endpoint", async () => {
    const c = ctx();
    const created = await api("/api/v1/tokens", {
      token: await tokenFor("member"),
      json: { org: c.orgA.slug, name: `folders ${c.run}`, role: "member" },
    });
    expect(created.status, show(created)).toBe(201);
    const fm = (created.json as { token: string }).token;
    const v = nextVersion();
    const files = folder();
    const { answer, commit } = await createCommit(fm, c.orgA.slug, MODEL, v, files);
    expect(answer.status, show(answer)).toBe(201);
    for (const f of commit!.files.filter((x) => x.state === "upload")) {
      const tus = await tusUpload({
        endpoint: `${c.appUrl}${f.upload!.tus.endpoint}`,
        metadata: f.upload!.tus.metadata,
        data: files[f.path]!,
        token: fm,
      });
      expect(tus.ok, `${f.path}: ${JSON.stringify(tus.steps)}`).toBe(true);
    }
    const done = await api(commit!.complete_url, { token: fm, method: "POST" });
    expect(done.status, show(done)).toBe(201);
    const zip = await api(`${versionPath(c.orgA.slug, MODEL, v)}/download?format=zip`, { token: fm });
    expect(zip.status, show(zip)).toBe(200);
    expect(zip.body.subarray(0, 2).toString("latin1")).toBe("PK");
  });
});
