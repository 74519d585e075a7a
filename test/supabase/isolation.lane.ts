// Isolation attempts made STRAIGHT against Storage with each role's own access token: our policies on
// storage.objects (not the app) must refuse them. Storage reports refusals as HTTP 400 with the real
// status in the body; a refusal here is any non-2xx answer AND no change in the bucket.
import { beforeAll, describe, expect, it } from "vitest";
import {
  api,
  createCommit,
  ctx,
  encodeKey,
  lane,
  nextVersion,
  objectExists,
  objectKeyOf,
  putVersion,
  reserve,
  safetensors,
  sha256,
  show,
  sql,
  storage,
  title,
  tokenFor,
  tusThroughApp,
  tusUpload,
  unreservedKey,
  type Answer,
} from "./support/lane";
import type { LaneRole } from "./support/context";

const MODEL = "isolation";
const refused = (a: Answer) => a.status < 200 || a.status >= 300;

describe.skipIf(!lane)(title("Storage refuses direct access our policies do not allow"), () => {
  let stored: Buffer;
  let key: string;

  beforeAll(async () => {
    const c = ctx();
    stored = safetensors(64 * 1024);
    const v = nextVersion();
    const a = await putVersion(await tokenFor("owner"), c.orgA.slug, MODEL, v, stored);
    if (a.status !== 201) throw new Error(`could not upload the isolation fixture: ${show(a)}`);
    key = (await objectKeyOf(c.orgA.slug, MODEL, v))!;
  });

  /** The stored object is still there with the same bytes (read with the service key). */
  async function untouched() {
    const c = ctx();
    const a = await storage(`/object/${c.bucket}/${encodeKey(key)}`, { token: c.serviceKey });
    return a.status === 200 && sha256(a.body) === sha256(stored);
  }

  const write = async (role: LaneRole, k: string, opts: { method?: "POST" | "PUT"; upsert?: boolean } = {}) =>
    storage(`/object/${ctx().bucket}/${encodeKey(k)}`, {
      token: await tokenFor(role),
      method: opts.method ?? "POST",
      body: safetensors(16 * 1024),
      headers: { "content-type": "application/octet-stream", "x-upsert": opts.upsert ? "true" : "false" },
    });

  describe("another org's owner", () => {
    it("cannot read, stat or sign this org's object", async () => {
      const c = ctx();
      const token = await tokenFor("otherOwner");
      for (const p of [`/object/authenticated/${c.bucket}/${encodeKey(key)}`, `/object/info/authenticated/${c.bucket}/${encodeKey(key)}`]) {
        const a = await storage(p, { token });
        expect(refused(a), `${p}: ${show(a)}`).toBe(true);
        expect(a.body.includes(stored.subarray(0, 64))).toBe(false);
      }
      const sign = await storage(`/object/sign/${c.bucket}/${encodeKey(key)}`, { token, json: { expiresIn: 60 } });
      expect(refused(sign), show(sign)).toBe(true);
    });

    it("cannot write into this org's folder (POST, PUT, upsert, tus)", async () => {
      const c = ctx();
      const k = unreservedKey(c.orgA.slug);
      for (const opts of [{}, { method: "PUT" as const }, { upsert: true }]) {
        const a = await write("otherOwner", k, opts);
        expect(refused(a), `${JSON.stringify(opts)}: ${show(a)}`).toBe(true);
      }
      const tus = await tusUpload({ key: k, data: safetensors(32 * 1024), token: await tokenFor("otherOwner") });
      expect(tus.ok, JSON.stringify(tus.steps)).toBe(false);
      expect(await objectExists(k)).toMatchObject({ api: false, row: false });
      expect(await write("otherOwner", key, { upsert: true }).then(refused)).toBe(true);
      expect(await untouched()).toBe(true);
    });

    it("cannot delete this org's object; a bulk delete answers [] and deletes nothing", async () => {
      const c = ctx();
      const token = await tokenFor("otherOwner");
      const single = await storage(`/object/${c.bucket}/${encodeKey(key)}`, { token, method: "DELETE" });
      expect(refused(single), show(single)).toBe(true);
      const bulk = await storage(`/object/${c.bucket}`, { token, method: "DELETE", json: { prefixes: [key] } });
      expect(bulk.status, show(bulk)).toBe(200);
      expect(bulk.json, "rows the caller cannot see are not reported as deleted").toEqual([]);
      expect(await untouched()).toBe(true);
    });
  });

  describe("a viewer", () => {
    it("writes nothing: POST, PUT, upsert and tus are refused", async () => {
      const c = ctx();
      const k = unreservedKey(c.orgA.slug);
      for (const opts of [{}, { method: "PUT" as const }, { upsert: true }]) {
        const a = await write("viewer", k, opts);
        expect(refused(a), `${JSON.stringify(opts)}: ${show(a)}`).toBe(true);
      }
      const tus = await tusUpload({ key: k, data: safetensors(32 * 1024), token: await tokenFor("viewer") });
      expect(tus.ok, JSON.stringify(tus.steps)).toBe(false);
      expect(await objectExists(k)).toMatchObject({ api: false, row: false });
      expect(refused(await write("viewer", key, { method: "PUT" }))).toBe(true);
      expect(await untouched()).toBe(true);
    });

    it("deletes nothing", async () => {
      const c = ctx();
      const token = await tokenFor("viewer");
      const bulk = await storage(`/object/${c.bucket}`, { token, method: "DELETE", json: { prefixes: [key] } });
      expect(bulk.status === 200 ? bulk.json : "refused", show(bulk)).toSatisfy(
        (v: unknown) => v === "refused" || (Array.isArray(v) && v.length === 0),
      );
      expect(await untouched()).toBe(true);
    });

    it("reads the org's ready objects", async () => {
      const a = await storage(`/object/authenticated/${ctx().bucket}/${encodeKey(key)}`, { token: await tokenFor("viewer") });
      expect(a.status, show(a)).toBe(200);
      expect(sha256(a.body)).toBe(sha256(stored));
    });
  });

  describe("a member", () => {
    it("may write exactly the key of their own pending reservation, and the app then completes it", async () => {
      const c = ctx();
      const token = await tokenFor("member");
      const data = safetensors(48 * 1024);
      const { answer, reservation } = await reserve(token, c.orgA.slug, MODEL, nextVersion(), data.length);
      expect(answer.status, show(answer)).toBe(201);
      const put = await storage(`/object/${c.bucket}/${encodeKey(reservation!.object_key)}`, {
        token,
        body: data,
        headers: { "content-type": "application/octet-stream", "x-upsert": "false" },
      });
      expect(put.status, show(put)).toBe(200);
      const done = await api(reservation!.upload.complete_url, { token, json: { size: data.length } });
      expect(done.status, show(done)).toBe(201);
    });

    it("may not write any other key in the org's folder (a version not reserved, POST/PUT/upsert/tus)", async () => {
      const c = ctx();
      const k = unreservedKey(c.orgA.slug);
      const outcomes: Record<string, string> = {};
      for (const [name, opts] of [
        ["POST", {}],
        ["PUT", { method: "PUT" as const }],
        ["upsert", { upsert: true }],
      ] as const) {
        const a = await write("member", k, opts);
        outcomes[name] = show(a).slice(0, 160);
        if (!refused(a)) await storage(`/object/${c.bucket}`, { token: c.serviceKey, method: "DELETE", json: { prefixes: [k] } });
      }
      const tus = await tusUpload({ key: k, data: safetensors(32 * 1024), token: await tokenFor("member") });
      outcomes.tus = JSON.stringify(tus.steps.at(-1));
      const left = await objectExists(k);
      expect({ outcomes, left: left.api || left.row }).toEqual({
        outcomes: expect.objectContaining({
          POST: expect.not.stringMatching(/^2/),
          PUT: expect.not.stringMatching(/^2/),
          upsert: expect.not.stringMatching(/^2/),
        }),
        left: false,
      });
      expect(tus.ok, JSON.stringify(tus.steps)).toBe(false);
    });

    it("may not write keys the app did not reserve for them: the org's root, another org's blob folder, a file their commit already stored", async () => {
      const c = ctx();
      const token = await tokenFor("member");
      const files = { "a.safetensors": safetensors(20 * 1024), "b.safetensors": safetensors(20 * 1024) };
      const { answer, commit } = await createCommit(token, c.orgA.slug, MODEL, nextVersion(), files);
      expect(answer.status, show(answer)).toBe(201);
      const a = commit!.files.find((f) => f.path === "a.safetensors")!;
      const sent = await tusThroughApp(token, a.upload!.tus.metadata, files["a.safetensors"]);
      expect(sent.ok, JSON.stringify(sent.steps)).toBe(true);
      const { rows } = await sql<{ path: string; object_key: string; status: string }>(
        "select f.path, b.object_key, b.status from public.version_files f join public.blobs b on b.id = f.blob_id where f.version_id = $1",
        [commit!.id],
      );
      const keyOf = (p: string) => rows.find((r) => r.path === p)!;
      expect([keyOf("a.safetensors").status, keyOf("b.safetensors").status]).toEqual(["stored", "pending"]);
      const storedKey = keyOf("a.safetensors").object_key;
      const outcomes: Record<string, string[]> = {};
      for (const k of [`${c.orgA.slug}/model.safetensors`, unreservedKey(c.orgB.slug), storedKey]) {
        outcomes[k] = [];
        for (const opts of [{}, { method: "PUT" as const }, { upsert: true }]) {
          const w = await write("member", k, opts);
          outcomes[k].push(refused(w) ? "refused" : show(w));
        }
      }
      expect(
        Object.values(outcomes)
          .flat()
          .every((o) => o === "refused"),
        JSON.stringify(outcomes),
      ).toBe(true);
      for (const k of [`${c.orgA.slug}/model.safetensors`, unreservedKey(c.orgB.slug)]) expect((await objectExists(k)).row).toBe(false);
      const still = await storage(`/object/${c.bucket}/${encodeKey(storedKey)}`, { token: c.serviceKey });
      expect(sha256(still.body), "the stored file is untouched").toBe(sha256(files["a.safetensors"]));
      // The one key the member may write: the file of their own commit still to send.
      const ok = await storage(`/object/${c.bucket}/${encodeKey(keyOf("b.safetensors").object_key)}`, {
        token,
        body: files["b.safetensors"],
        headers: { "content-type": "application/octet-stream", "x-upsert": "false" },
      });
      expect(ok.status, show(ok)).toBe(200);
      const del = await api(`/api/v1/orgs/${c.orgA.slug}/models/${MODEL}/commits/${commit!.id}`, { token, method: "DELETE" });
      expect(del.status, show(del)).toBe(204);
    });

    it("may not write the key of someone else's pending reservation", async () => {
      const c = ctx();
      const { answer, reservation } = await reserve(await tokenFor("admin"), c.orgA.slug, MODEL, nextVersion(), 1000);
      expect(answer.status, show(answer)).toBe(201);
      const a = await write("member", reservation!.object_key);
      expect(refused(a), show(a)).toBe(true);
      expect(await objectExists(reservation!.object_key)).toMatchObject({ api: false, row: false });
    });

    it("may not overwrite a stored object (upsert, PUT) nor delete one they did not upload", async () => {
      const c = ctx();
      const token = await tokenFor("member");
      const up = await write("member", key, { upsert: true });
      expect(refused(up), show(up)).toBe(true);
      const put = await write("member", key, { method: "PUT" });
      expect(refused(put), show(put)).toBe(true);
      const bulk = await storage(`/object/${c.bucket}`, { token, method: "DELETE", json: { prefixes: [key] } });
      expect(bulk.status === 200 ? bulk.json : "refused", show(bulk)).toSatisfy(
        (v: unknown) => v === "refused" || (Array.isArray(v) && v.length === 0),
      );
      expect(await untouched()).toBe(true);
    });
  });

  it("the anon key alone reads and writes nothing in the bucket", async () => {
    const c = ctx();
    const read = await storage(`/object/authenticated/${c.bucket}/${encodeKey(key)}`, { token: c.anonKey });
    expect(refused(read), show(read)).toBe(true);
    const k = unreservedKey(c.orgA.slug);
    const put = await storage(`/object/${c.bucket}/${encodeKey(k)}`, {
      token: c.anonKey,
      body: Buffer.from("x"),
      headers: { "content-type": "application/octet-stream" },
    });
    expect(refused(put), show(put)).toBe(true);
    expect(await objectExists(k)).toMatchObject({ api: false, row: false });
  });
});
