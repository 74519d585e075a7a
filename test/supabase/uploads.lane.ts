// Uploads in supabase mode against the real Storage server: PUT through the app and the
// reservations flow (tus straight to Storage), for each role; refusals leave nothing behind.
import { describe, expect, it } from "vitest";
import {
  api,
  ctx,
  junk,
  keyFor,
  lane,
  nextVersion,
  objectExists,
  objectKeyOf,
  plantObject,
  putVersion,
  reservationUpload,
  reserve,
  safetensors,
  sha256,
  show,
  title,
  tokenFor,
  versionStatus,
  CHUNK,
} from "./support/lane";

const MODEL = "uploads";

describe.skipIf(!lane)(title("uploads in supabase mode"), () => {
  describe.each([
    ["an", "owner"],
    ["an", "admin"],
    ["a", "member"],
  ] as const)("as %s %s of the org", (an, role) => {
    it(`${an} ${role} uploads a version with one PUT`, async () => {
      const c = ctx();
      const data = safetensors(256 * 1024);
      const v = nextVersion();
      const a = await putVersion(await tokenFor(role), c.orgA.slug, MODEL, v, data, { sha256: sha256(data) });
      expect(a.status, show(a)).toBe(201);
      expect(a.json).toMatchObject({ version: v, sha256: sha256(data), size_bytes: data.length, status: "ready" });
      const key = await objectKeyOf(c.orgA.slug, MODEL, v);
      expect(await objectExists(key!)).toMatchObject({ api: true, row: true });
    });

    it(`${an} ${role} completes a resumable upload (reserve, tus straight to Storage in 6 MiB chunks, complete)`, async () => {
      const c = ctx();
      const data = safetensors(2 * CHUNK + 12345);
      const v = nextVersion();
      const r = await reservationUpload(role, c.orgA.slug, MODEL, v, data, { sha256: sha256(data) });
      expect(r.reserve.status, show(r.reserve)).toBe(201);
      expect(r.tus?.ok, JSON.stringify(r.tus?.steps)).toBe(true);
      expect(r.complete?.status, r.complete && show(r.complete)).toBe(201);
      expect(r.complete?.json).toMatchObject({ version: v, sha256: sha256(data), size_bytes: data.length, status: "ready" });
    });

    it(`${an} ${role}'s refused PUT (not a model file) is a 422 and leaves no object in the bucket; the same version then uploads`, async () => {
      const c = ctx();
      const v = nextVersion();
      const token = await tokenFor(role);
      const bad = await putVersion(token, c.orgA.slug, MODEL, v, junk(300 * 1024));
      expect(bad.status, show(bad)).toBe(422);
      expect((bad.json as { error?: { code?: string } })?.error?.code).toBe("invalid_model_file");
      expect(await objectExists(keyFor(c.orgA.slug, MODEL, v))).toMatchObject({ api: false, row: false });
      expect(await versionStatus(c.orgA.slug, MODEL, v)).toBeUndefined();
      const good = safetensors(200 * 1024);
      const retry = await putVersion(token, c.orgA.slug, MODEL, v, good);
      expect(retry.status, show(retry)).toBe(201);
    });

    it(`${an} ${role}'s refused resumable upload is a 422 at complete and leaves no object; the same version then uploads`, async () => {
      const c = ctx();
      const v = nextVersion();
      const r = await reservationUpload(role, c.orgA.slug, MODEL, v, junk(CHUNK + 1000));
      expect(r.tus?.ok, JSON.stringify(r.tus?.steps)).toBe(true);
      expect(r.complete?.status, r.complete && show(r.complete)).toBe(422);
      expect((r.complete?.json as { error?: { code?: string } })?.error?.code).toBe("invalid_model_file");
      const leftover = await objectExists(r.reservation!.object_key);
      expect(leftover, "the refused object must be gone (via the Storage API and storage.objects)").toMatchObject({
        api: false,
        row: false,
      });
      const again = await reservationUpload(role, c.orgA.slug, MODEL, v, safetensors(CHUNK + 2000));
      expect(again.reserve.status, show(again.reserve)).toBe(201);
      expect(again.tus?.ok, JSON.stringify(again.tus?.steps)).toBe(true);
      expect(again.complete?.status, again.complete && show(again.complete)).toBe(201);
    });
  });

  it("a wrong announced sha256 in a reservation is a 422 checksum_mismatch and leaves nothing behind", async () => {
    const c = ctx();
    const v = nextVersion();
    const data = safetensors(CHUNK + 4321);
    const r = await reservationUpload("owner", c.orgA.slug, MODEL, v, data, { sha256: "0".repeat(64) });
    expect(r.tus?.ok, JSON.stringify(r.tus?.steps)).toBe(true);
    expect(r.complete?.status, r.complete && show(r.complete)).toBe(422);
    expect((r.complete?.json as { error?: { code?: string } })?.error?.code).toBe("checksum_mismatch");
    expect(await objectExists(r.reservation!.object_key)).toMatchObject({ api: false, row: false });
    expect(await versionStatus(c.orgA.slug, MODEL, v)).toBeUndefined();
  });

  it("a wrong X-Content-SHA256 on a PUT is a 422 checksum_mismatch and leaves nothing behind", async () => {
    const c = ctx();
    const v = nextVersion();
    const a = await putVersion(await tokenFor("member"), c.orgA.slug, MODEL, v, safetensors(128 * 1024), { sha256: "f".repeat(64) });
    expect(a.status, show(a)).toBe(422);
    expect((a.json as { error?: { code?: string } })?.error?.code).toBe("checksum_mismatch");
    expect(await objectExists(keyFor(c.orgA.slug, MODEL, v))).toMatchObject({ api: false, row: false });
  });

  it("a viewer can neither PUT nor reserve an upload (403) and nothing reaches the bucket", async () => {
    const c = ctx();
    const v = nextVersion();
    const token = await tokenFor("viewer");
    const put = await putVersion(token, c.orgA.slug, MODEL, v, safetensors(64 * 1024));
    expect(put.status, show(put)).toBe(403);
    const res = await reserve(token, c.orgA.slug, MODEL, v, 1000);
    expect(res.answer.status, show(res.answer)).toBe(403);
    expect(await objectExists(keyFor(c.orgA.slug, MODEL, v))).toMatchObject({ api: false, row: false });
  });

  it("an owner of another org cannot upload into this org (404, nothing stored)", async () => {
    const c = ctx();
    const v = nextVersion();
    const put = await putVersion(await tokenFor("otherOwner"), c.orgA.slug, MODEL, v, safetensors(64 * 1024));
    expect(put.status, show(put)).toBe(404);
    expect(await objectExists(keyFor(c.orgA.slug, MODEL, v))).toMatchObject({ api: false, row: false });
  });

  it("re-uploading an existing version is a 409 and the stored version stays intact", async () => {
    const c = ctx();
    const v = nextVersion();
    const token = await tokenFor("owner");
    const first = safetensors(64 * 1024);
    expect((await putVersion(token, c.orgA.slug, MODEL, v, first)).status).toBe(201);
    const again = await putVersion(token, c.orgA.slug, MODEL, v, safetensors(64 * 1024));
    expect(again.status, show(again)).toBe(409);
    const d = await api(`/api/v1/orgs/${c.orgA.slug}/models/${MODEL}/versions/${v}/download`, { token });
    expect(d.status, show(d)).toBe(200);
    expect(sha256(d.body)).toBe(sha256(first));
  });

  // Storage may answer 400 {"statusCode":"409","code":"KeyAlreadyExists"} before reading the body and
  // close the socket; the app must report the 409 and never delete the object that was there.
  it.each([1, 2, 3, 4, 5, 2.5, 4.5])(
    "an upload whose key already holds an object (%s MB) comes back as 409 and leaves that object alone",
    async (mb) => {
      const c = ctx();
      const v = nextVersion();
      const key = keyFor(c.orgA.slug, MODEL, v);
      const existing = safetensors(32 * 1024);
      const planted = await plantObject(key, existing);
      expect(planted.status, show(planted)).toBe(200);
      const a = await putVersion(await tokenFor("owner"), c.orgA.slug, MODEL, v, safetensors(Math.round(mb * 1_000_000)));
      const survivor = await objectExists(key);
      expect({ answer: show(a).slice(0, 160), status: a.status, survived: survivor.api && survivor.row }).toMatchObject({
        status: 409,
        survived: true,
      });
      expect(await versionStatus(c.orgA.slug, MODEL, v)).toBeUndefined();
    },
  );
});
