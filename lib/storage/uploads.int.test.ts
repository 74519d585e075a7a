import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { Readable } from "node:stream";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { AppError } from "@/lib/errors";
import { DB_KINDS, openTestDatabase, type TestDatabase } from "@/test/db";
import { errorCode as code, fixture, makeWorld, sha256File, type World } from "@/test/world";

const read = async (s: Readable) => {
  const chunks: Buffer[] = [];
  for await (const c of s) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
};

/** Files under the store's bucket (apart from the temp folder). */
function storedFiles(w: World): string[] {
  const root = path.join(w.config.storageDir, w.config.bucket);
  if (!fs.existsSync(root)) return [];
  return (fs.readdirSync(root, { recursive: true }) as string[]).filter(
    (f) => !f.startsWith(".tmp") && fs.statSync(path.join(root, f)).isFile(),
  );
}

describe.each(DB_KINDS)("uploads on %s", (kind) => {
  let t: TestDatabase;
  const worlds: World[] = [];
  const world = async () => {
    const w = await makeWorld(t.db, { maxUploadBytes: 1024 * 1024 });
    worlds.push(w);
    return w;
  };
  beforeAll(async () => {
    t = await openTestDatabase(kind);
  });
  afterEach(() => {
    for (const w of worlds.splice(0)) w.cleanup();
  });
  afterAll(async () => {
    await t?.cleanup();
  });

  it("uploads a version: streamed, hashed, inspected, visible, one file stored under <org>/blobs/", async () => {
    const w = await world();
    const v = await w.upload("member", "credit_risk", "2.1", "credit_risk_v2.1.pkl", {
      metadata: { name: "Credit risk", task_type: "classification", tags: ["finance"] },
    });
    expect(v.status).toBe("ready");
    expect(v.sha256).toBe(sha256File(fixture("credit_risk_v2.1.pkl")));
    expect(v.size_bytes).toBe(fs.statSync(fixture("credit_risk_v2.1.pkl")).size);
    expect(v.format).toBe("pickle");
    expect(v.scan_verdict).toBe("safe");
    expect({ file_count: v.file_count, layout: v.layout }).toEqual({ file_count: 1, layout: "single-file" });
    const { files } = await w.services.files.listFiles(w.users.viewer, w.orgs.a.slug, "credit_risk", "2.1");
    expect(files.map((f) => [f.path, f.sha256, Number(f.size_bytes)])).toEqual([["credit_risk_v2.1.pkl", v.sha256, v.size_bytes]]);
    expect(files[0]!.object_key).toMatch(new RegExp(`^${w.orgs.a.slug}/blobs/[0-9a-f]{2}/[0-9a-f-]{36}$`));
    expect(storedFiles(w)).toContain(files[0]!.object_key);
    const model = await w.services.catalog.getModel(w.users.viewer, w.orgs.a.slug, "credit_risk");
    expect(model).toMatchObject({
      name: "Credit risk",
      task_type: "classification",
      framework: "scikit-learn",
      latest_version: "2.1",
      version_count: 1,
    });
  });

  it("refuses to overwrite a version (409) and changes nothing", async () => {
    const w = await world();
    const before = await w.upload("member", "credit_risk", "2.1");
    expect(await code(w.upload("owner", "credit_risk", "2.1", "customer_segmentation_v1.0.pkl"))).toBe("conflict");
    const after = await w.services.catalog.getVersion(w.users.member, w.orgs.a.slug, "credit_risk", "2.1");
    expect(after.sha256).toBe(before.sha256);
    const { files } = await w.services.files.listFiles(w.users.member, w.orgs.a.slug, "credit_risk", "2.1");
    const stored = await read((await w.store.get(files[0]!.object_key)).stream);
    expect(crypto.createHash("sha256").update(stored).digest("hex")).toBe(before.sha256);
  });

  it("lets exactly one of two concurrent uploads of one version win", async () => {
    const w = await world();
    const results = await Promise.allSettled([
      w.upload("member", "race", "1.0"),
      w.upload("owner", "race", "1.0", "customer_segmentation_v1.0.pkl"),
    ]);
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    const failed = results.find((r) => r.status === "rejected") as PromiseRejectedResult;
    expect((failed.reason as AppError).code).toBe("conflict");
    expect((await w.services.catalog.listVersions(w.users.viewer, w.orgs.a.slug, "race")).map((v) => v.version)).toEqual(["1.0"]);
  });

  it.each([
    ["a wrong expected SHA-256", { metadata: { sha256: "0".repeat(64) } }, "checksum_mismatch"],
    ["a body shorter than its declared length", { contentLength: 5000 }, "length_mismatch"],
    ["a body longer than its declared length", { contentLength: 10 }, "length_mismatch"],
  ])("rejects %s and leaves no version and no bytes", async (_name, extra, expected) => {
    const w = await world();
    const files = storedFiles(w);
    const model = `broken_${_name.replace(/[^a-z0-9]+/g, "_")}`.slice(0, 60);
    expect(await code(w.upload("member", model, "1.0", "credit_risk_v2.1.pkl", extra))).toBe(expected);
    expect(storedFiles(w)).toEqual(files);
    expect(await code(w.services.catalog.getVersion(w.users.owner, w.orgs.a.slug, model, "1.0"))).toBe("not_found");
    // The model the failed upload created is gone too: nothing half-visible.
    expect(await code(w.services.catalog.getModel(w.users.owner, w.orgs.a.slug, model))).toBe("not_found");
    // The version number is free again: the reservation was released.
    expect((await w.upload("member", model, "1.0")).status).toBe("ready");
  });

  it("refuses junk from its first bytes: 50 MB of random bytes named .pt stop after the first chunk", async () => {
    const w = await makeWorld(t.db);
    worlds.push(w);
    let sent = 0;
    const junk = new Readable({
      read() {
        if (sent >= 50 * 1024 * 1024) return this.push(null);
        sent += 64 * 1024;
        this.push(crypto.randomBytes(64 * 1024));
      },
    });
    const p = w.services.uploads.uploadVersion(w.users.member, {
      org: w.orgs.a.slug,
      model: "junk",
      version: "1.0",
      fileName: "weights.pt",
      body: junk,
    });
    const e = (await p.then(
      () => ({}),
      (x: unknown) => x,
    )) as { code?: string; message?: string };
    expect(e.code).toBe("invalid_model_file");
    expect(sent).toBeLessThan(2 * 1024 * 1024);
  });

  it("aborts a client that disconnects halfway and keeps nothing", async () => {
    const w = await world();
    const files = storedFiles(w);
    const ac = new AbortController();
    const body = new Readable({ read() {} });
    // The abort may already have ended the upload when the socket error arrives: nobody reads it then.
    body.on("error", () => {});
    // The start of a real pickle (the first bytes must not already refuse the upload as "not a model").
    body.push(fs.readFileSync(fixture("demand_arima_v1.0.pkl")).subarray(0, 64 * 1024));
    const p = w.services.uploads.uploadVersion(w.users.member, {
      org: w.orgs.a.slug,
      model: "dropped",
      version: "1.0",
      fileName: "x.pkl",
      body,
      contentLength: 512 * 1024,
      signal: ac.signal,
    });
    setTimeout(() => {
      ac.abort();
      body.destroy(new Error("socket hang up"));
    }, 50);
    expect(["bad_request", "length_mismatch", "internal", "aborted"]).toContain(await code(p).catch(() => "internal"));
    expect(storedFiles(w)).toEqual(files);
    expect((await w.services.catalog.listModels(w.users.owner, w.orgs.a.slug, { q: "dropped" })).items[0]?.version_count ?? 0).toBe(0);
  });

  it("refuses files over the limit (413) and files that are not models (422)", async () => {
    const w = await world();
    const big = Readable.from([Buffer.alloc(1024 * 1024 + 1)]);
    expect(
      await code(
        w.services.uploads.uploadVersion(w.users.member, {
          org: w.orgs.a.slug,
          model: "big",
          version: "1.0",
          fileName: "big.pkl",
          body: big,
        }),
      ),
    ).toBe("payload_too_large");
    expect(await code(w.upload("member", "png", "1.0", "not_a_model.h5"))).toBe("invalid_model_file");
    expect(await code(w.upload("member", "trunc", "1.0", "truncated_credit_risk.pkl"))).toBe("invalid_model_file");
  });

  it.each([
    ["..", "1.0", "model.pkl"],
    ["%2e%2e", "1.0", "model.pkl"],
    ["a/b", "1.0", "model.pkl"],
    ["a\\b", "1.0", "model.pkl"],
    ["ok", "1.0/../../x", "model.pkl"],
    ["ok", "01.0", "model.pkl"],
    ["ok", "1.0", "model.exe"],
    ["ok\u0000", "1.0", "model.pkl"],
    ["ｍodel", "1.0", "model.pkl"],
  ])("rejects hostile names: model %j version %j file %j", async (model, version, fileName) => {
    const w = await world();
    const r = await code(
      w.services.uploads.uploadVersion(w.users.member, {
        org: w.orgs.a.slug,
        model,
        version,
        fileName,
        body: Readable.from([Buffer.from("x")]),
      }),
    );
    expect(["invalid_input", "unsupported_media_type", "bad_request"]).toContain(r);
  });

  it("a failed upload of a new version keeps the existing model and its versions", async () => {
    const w = await world();
    await w.upload("member", "credit_risk", "2.1");
    expect(await code(w.upload("member", "credit_risk", "9.0", "credit_risk_v2.1.pkl", { metadata: { sha256: "0".repeat(64) } }))).toBe(
      "checksum_mismatch",
    );
    expect((await w.services.catalog.getModel(w.users.owner, w.orgs.a.slug, "credit_risk")).versions.length).toBe(1);
  });

  it("keeps viewers and outsiders from uploading", async () => {
    const w = await world();
    expect(await code(w.upload("viewer", "viewer_model", "1.0"))).toBe("forbidden");
    expect(await code(w.upload("outsider", "x", "1.0"))).toBe("not_found");
  });

  it("caps an API token's role and pins its org", async () => {
    const w = await world();
    const tokenAsViewer = await w.tokenPrincipal("both", "a", "viewer");
    expect((await w.services.catalog.listOrgs(tokenAsViewer)).map((o) => [o.slug, o.role])).toEqual([[w.orgs.a.slug, "viewer"]]);
    expect(
      await code(
        w.services.uploads.uploadVersion(tokenAsViewer, {
          org: w.orgs.a.slug,
          model: "tok",
          version: "1.0",
          fileName: "m.pkl",
          body: fs.createReadStream(fixture("credit_risk_v2.1.pkl")),
        }),
      ),
    ).toBe("forbidden");
    expect(await code(w.services.catalog.listModels(tokenAsViewer, w.orgs.b.slug))).toBe("not_found");
    // Revoked: every request made with it stops at once, whatever claims it carried.
    await w.services.tokens.revoke(w.users.both, tokenAsViewer.tokenId);
    expect(await w.services.catalog.listOrgs(tokenAsViewer)).toEqual([]);
    expect(await code(w.services.catalog.listModels(tokenAsViewer, w.orgs.a.slug))).toBe("not_found");
  });

  it("lets a token revoke itself (audited), and not twice", async () => {
    const w = await world();
    const t = await w.tokenPrincipal("member", "a", "member");
    await w.services.tokens.revoke(t, t.tokenId);
    expect(await w.services.tokens.resolve(t.token)).toBeNull();
    const events = await w.services.audit.list(w.users.owner, w.orgs.a.slug, { action: "token.revoke" });
    expect(events.items.map((e) => e.target_id)).toContain(t.tokenId);
    expect(await code(w.services.tokens.revoke(w.users.member, t.tokenId))).toBe("not_found");
  });

  it("lets writers create tokens up to their role; viewers none", async () => {
    const w = await world();
    await w.tokenPrincipal("member", "a", "member");
    expect(await code(w.tokenPrincipal("member", "a", "admin"))).toBe("forbidden");
    expect(await code(w.tokenPrincipal("viewer", "a", "viewer"))).toBe("forbidden");
  });

  it("quarantines dangerous files and names the dangerous globals", async () => {
    const w = await world();
    const v = await w.upload("member", "evil", "1.0", "malicious_os_system.pkl");
    expect(v.status).toBe("quarantined");
    expect(v.scan_verdict).toBe("dangerous");
    expect(JSON.stringify(v.metadata)).toContain("posix.system");
  });

  it("treats a reservation as a lease: an upload that died loses it, a live one keeps it", async () => {
    const w = await world();
    const input = { org: w.orgs.a.slug, model: "leased", version: "1.0", fileName: "m.pkl", size: 10 };
    const dead = await w.services.uploads.reserveUpload(w.users.member, input);
    // While the lease runs, the number is taken — even for the same user.
    expect(await code(w.services.uploads.reserveUpload(w.users.member, input))).toBe("conflict");
    expect(await code(w.services.uploads.reserveUpload(w.users.owner, input))).toBe("conflict");
    // The process serving it died: nobody renews the lease.
    await t.db.query("update public.model_versions set lease_until = now() - interval '1 second' where id = $1", [dead.versionId]);
    const retry = await w.services.uploads.reserveUpload(w.users.member, input);
    expect(retry.versionId).not.toBe(dead.versionId);
    expect(await code(w.services.uploads.findReservation(w.users.member, dead.versionId))).toBe("not_found");
    // A live upload renews its lease; the one that was taken over cannot.
    expect(await w.services.uploads.renewLease(w.users.member, retry.versionId)).toBe(true);
    expect(await w.services.uploads.renewLease(w.users.member, dead.versionId)).toBe(false);
  });

  it("checks a completed direct upload against the size and SHA-256 announced at reservation, and keeps nothing on a mismatch", async () => {
    const w = await world();
    const file = fixture("credit_risk_v2.1.pkl");
    const bytes = fs.readFileSync(file);
    const reserve = (version: string, sha256: string) =>
      w.services.uploads.reserveUpload(w.users.member, {
        org: w.orgs.a.slug,
        model: "direct",
        version,
        fileName: "credit_risk.pkl",
        size: bytes.length,
        metadata: { sha256 },
      });
    const wrong = await reserve("1.0", "0".repeat(64));
    await w.store.put(wrong.key, Readable.from([bytes]));
    const again = await w.services.uploads.findReservation(w.users.member, wrong.versionId);
    expect(await code(w.services.uploads.completeStoredUpload(w.users.member, again))).toBe("checksum_mismatch");
    expect(await w.store.stat(wrong.key)).toBeNull();
    expect(await code(w.services.catalog.getVersion(w.users.member, w.orgs.a.slug, "direct", "1.0"))).toBe("not_found");
    const right = await reserve("1.0", sha256File(file));
    await w.store.put(right.key, Readable.from([bytes]));
    const v = await w.services.uploads.completeStoredUpload(
      w.users.member,
      await w.services.uploads.findReservation(w.users.member, right.versionId),
    );
    expect(v.sha256).toBe(sha256File(file));
  });
});
