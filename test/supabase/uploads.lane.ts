// Uploads in supabase mode against the real Storage server: PUT through the app, the reservations
// flow through the app's resumable endpoint (streamed on to Storage's) and straight to Storage, for
// each role; refusals leave nothing behind. Objects are blobs at <org>/blobs/<xx>/<blob id>.
import { describe, expect, it } from "vitest";
import {
  api,
  ctx,
  junk,
  lane,
  newObjects,
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
const BLOB_KEY = /^[a-z0-9_-]+\/blobs\/[0-9a-f]{2}\/[0-9a-f-]{36}$/;

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
      expect(key).toMatch(new RegExp(`^${c.orgA.slug}/blobs/`));
      expect(key).toMatch(BLOB_KEY);
      expect(await objectExists(key!)).toMatchObject({ api: true, row: true });
    });

    it.each(["app", "storage"] as const)(
      `${an} ${role} completes a resumable upload (reserve, tus in 6 MiB chunks via %s, complete)`,
      async (via) => {
        const c = ctx();
        const data = safetensors(2 * CHUNK + 12345);
        const v = nextVersion();
        const r = await reservationUpload(role, c.orgA.slug, MODEL, v, data, { sha256: sha256(data) }, via);
        expect(r.reserve.status, show(r.reserve)).toBe(201);
        expect(r.tus?.ok, JSON.stringify(r.tus?.steps)).toBe(true);
        expect(r.complete?.status, r.complete && show(r.complete)).toBe(201);
        expect(r.complete?.json).toMatchObject({ version: v, sha256: sha256(data), size_bytes: data.length, status: "ready" });
        const key = await objectKeyOf(c.orgA.slug, MODEL, v);
        expect(key).toBe(r.reservation!.object_key);
        expect(await objectExists(key!)).toMatchObject({ api: true, row: true });
      },
    );

    it(`${an} ${role}'s refused PUT (not a model file) is a 422 and leaves no object in the bucket; the same version then uploads`, async () => {
      const c = ctx();
      const v = nextVersion();
      const token = await tokenFor(role);
      let bad: Awaited<ReturnType<typeof putVersion>> | undefined;
      const left = await newObjects(c.orgA.slug, async () => {
        bad = await putVersion(token, c.orgA.slug, MODEL, v, junk(300 * 1024));
      });
      expect(bad!.status, show(bad!)).toBe(422);
      expect((bad!.json as { error?: { code?: string } })?.error?.code).toBe("invalid_model_file");
      expect(left, "no object may stay in the bucket").toEqual([]);
      expect(await versionStatus(c.orgA.slug, MODEL, v)).toBeUndefined();
      const good = safetensors(200 * 1024);
      const retry = await putVersion(token, c.orgA.slug, MODEL, v, good);
      expect(retry.status, show(retry)).toBe(201);
    });

    it(`${an} ${role}'s refused resumable upload straight to Storage is a 422 at complete and leaves no object; the same version then uploads`, async () => {
      const c = ctx();
      const v = nextVersion();
      const r = await reservationUpload(role, c.orgA.slug, MODEL, v, junk(CHUNK + 1000), {}, "storage");
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

    it(`${an} ${role}'s scan-refused upload through the app's resumable endpoint is a 422 and leaves no object; the same version then uploads`, async () => {
      const c = ctx();
      const v = nextVersion();
      let r: Awaited<ReturnType<typeof reservationUpload>> | undefined;
      const left = await newObjects(c.orgA.slug, async () => {
        r = await reservationUpload(role, c.orgA.slug, MODEL, v, junk(CHUNK + 1000));
      });
      const refusal = r!.tus!.ok ? r!.complete! : r!.tus!.last;
      expect(refusal.status, `${JSON.stringify(r!.tus!.steps)} / complete: ${r!.complete && show(r!.complete)}`).toBe(422);
      expect((refusal.json as { error?: { code?: string } })?.error?.code).toBe("invalid_model_file");
      expect(left, "no object may stay in the bucket").toEqual([]);
      expect(await objectExists(r!.reservation!.object_key)).toMatchObject({ api: false, row: false });
      const again = await reservationUpload(role, c.orgA.slug, MODEL, v, safetensors(CHUNK + 2000));
      expect(again.reserve.status, show(again.reserve)).toBe(201);
      expect(again.tus?.ok, JSON.stringify(again.tus?.steps)).toBe(true);
      expect(again.complete?.status, again.complete && show(again.complete)).toBe(201);
    });
  });

  it.each(["app", "storage"] as const)(
    "a wrong announced sha256 in a reservation (tus via %s) is a 422 checksum_mismatch and leaves nothing behind",
    async (via) => {
      const c = ctx();
      const v = nextVersion();
      const data = safetensors(CHUNK + 4321);
      let r: Awaited<ReturnType<typeof reservationUpload>> | undefined;
      const left = await newObjects(c.orgA.slug, async () => {
        r = await reservationUpload("owner", c.orgA.slug, MODEL, v, data, { sha256: "0".repeat(64) }, via);
      });
      // Via the app, the chunk that would complete the object is refused (and never reaches Storage).
      const refusal = r!.tus!.ok ? r!.complete! : r!.tus!.last;
      expect(refusal.status, `${JSON.stringify(r!.tus!.steps)} / complete: ${r!.complete && show(r!.complete)}`).toBe(422);
      expect((refusal.json as { error?: { code?: string } })?.error?.code).toBe("checksum_mismatch");
      expect(left).toEqual([]);
      expect(await objectExists(r!.reservation!.object_key)).toMatchObject({ api: false, row: false });
      if (!r!.tus!.ok) expect([404, 422], show(r!.complete!)).toContain(r!.complete!.status);
      expect(await versionStatus(c.orgA.slug, MODEL, v)).toBeUndefined();
    },
  );

  it("a wrong X-Content-SHA256 on a PUT is a 422 checksum_mismatch and leaves nothing behind", async () => {
    const c = ctx();
    const v = nextVersion();
    let a: Awaited<ReturnType<typeof putVersion>> | undefined;
    const left = await newObjects(c.orgA.slug, async () => {
      a = await putVersion(await tokenFor("member"), c.orgA.slug, MODEL, v, safetensors(128 * 1024), { sha256: "f".repeat(64) });
    });
    expect(a!.status, show(a!)).toBe(422);
    expect((a!.json as { error?: { code?: string } })?.error?.code).toBe("checksum_mismatch");
    expect(left).toEqual([]);
    expect(await versionStatus(c.orgA.slug, MODEL, v)).toBeUndefined();
  });

  it("a viewer can neither PUT nor reserve an upload (403) and nothing reaches the bucket", async () => {
    const c = ctx();
    const v = nextVersion();
    const token = await tokenFor("viewer");
    const left = await newObjects(c.orgA.slug, async () => {
      const put = await putVersion(token, c.orgA.slug, MODEL, v, safetensors(64 * 1024));
      expect(put.status, show(put)).toBe(403);
      const res = await reserve(token, c.orgA.slug, MODEL, v, 1000);
      expect(res.answer.status, show(res.answer)).toBe(403);
    });
    expect(left).toEqual([]);
  });

  it("an owner of another org cannot upload into this org (404, nothing stored)", async () => {
    const c = ctx();
    const v = nextVersion();
    const left = await newObjects(c.orgA.slug, async () => {
      const put = await putVersion(await tokenFor("otherOwner"), c.orgA.slug, MODEL, v, safetensors(64 * 1024));
      expect(put.status, show(put)).toBe(404);
    });
    expect(left).toEqual([]);
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
  // close the socket; the app must report the 409 and never delete the object that was there. Blob
  // keys are fresh ids, so the object is planted at a reserved key before its file is sent.
  it.each([1, 2, 3, 4, 5, 2.5, 4.5])(
    "an upload whose key already holds an object (%s MB) comes back as 409 and leaves that object alone",
    async (mb) => {
      const c = ctx();
      const v = nextVersion();
      const token = await tokenFor("owner");
      const { answer, reservation } = await reserve(token, c.orgA.slug, MODEL, v, Math.round(mb * 1_000_000));
      expect(answer.status, show(answer)).toBe(201);
      const key = reservation!.object_key;
      const planted = await plantObject(key, safetensors(32 * 1024));
      expect(planted.status, show(planted)).toBe(200);
      const a = await api(
        `/api/v1/orgs/${c.orgA.slug}/models/${MODEL}/commits/${reservation!.id}/files/${encodeURIComponent(reservation!.upload.metadata.path!)}`,
        {
          token,
          method: "PUT",
          body: safetensors(Math.round(mb * 1_000_000)),
          headers: { "content-type": "application/octet-stream" },
        },
      );
      const survivor = await objectExists(key);
      expect({ answer: show(a).slice(0, 160), status: a.status, survived: survivor.api && survivor.row }).toMatchObject({
        status: 409,
        survived: true,
      });
      expect(await versionStatus(c.orgA.slug, MODEL, v)).toBe("pending");
      await api(`/api/v1/uploads/reservations/${reservation!.id}`, { token, method: "DELETE" });
    },
  );
});
