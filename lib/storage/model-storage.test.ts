import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DB_KINDS, openTestDatabase, type TestDatabase } from "@/test/db";
import { fixture, makeWorld, sha256File, type World } from "@/test/world";
import { AppError } from "@/lib/errors";
import { ModelStorage } from "./model-storage";

const read = async (s: Readable) => {
  const chunks: Buffer[] = [];
  for await (const c of s) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
};

const code = async (p: Promise<unknown>) => {
  try {
    await p;
  } catch (e) {
    if (e instanceof AppError) return e.code;
    throw e;
  }
  return "ok";
};

/** Files under the store's bucket (apart from the temp folder). */
function storedFiles(w: World): string[] {
  const root = path.join(w.config.storageDir, w.config.bucket);
  if (!fs.existsSync(root)) return [];
  return (fs.readdirSync(root, { recursive: true }) as string[]).filter(
    (f) => !f.startsWith(".tmp") && fs.statSync(path.join(root, f)).isFile(),
  );
}

describe.each(DB_KINDS)("ModelStorage on %s", (kind) => {
  let t: TestDatabase;
  let w: World;
  beforeAll(async () => {
    t = await openTestDatabase(kind);
    w = await makeWorld(t.db, { maxUploadBytes: 1024 * 1024 });
  });
  afterAll(async () => {
    w?.cleanup();
    await t?.cleanup();
  });

  const upload = (
    who: keyof World["users"],
    model: string,
    version: string,
    file = "credit_risk_v2.1.pkl",
    extra: Record<string, unknown> = {},
  ) =>
    w.storage.uploadVersion(w.users[who], {
      org: w.orgs.a.slug,
      model,
      version,
      fileName: path.basename(file),
      body: fs.createReadStream(fixture(file)),
      contentLength: fs.statSync(fixture(file)).size,
      ...extra,
    });

  it("uploads a version: streamed, hashed, inspected, visible, stored under <org>/<model>_v<version>.<ext>", async () => {
    const v = await upload("member", "credit_risk", "2.1", "credit_risk_v2.1.pkl", {
      metadata: { name: "Credit risk", task_type: "classification", tags: ["finance"] },
    });
    expect(v.status).toBe("ready");
    expect(v.sha256).toBe(sha256File(fixture("credit_risk_v2.1.pkl")));
    expect(v.size_bytes).toBe(fs.statSync(fixture("credit_risk_v2.1.pkl")).size);
    expect(v.object_key).toBe(`${w.orgs.a.slug}/credit_risk_v2.1.pkl`);
    expect(v.format).toBe("pickle");
    expect(v.scan_verdict).toBe("safe");
    expect(storedFiles(w)).toContain(`${w.orgs.a.slug}/credit_risk_v2.1.pkl`);
    const model = await w.storage.getModel(w.users.viewer, w.orgs.a.slug, "credit_risk");
    expect(model).toMatchObject({
      name: "Credit risk",
      task_type: "classification",
      framework: "scikit-learn",
      latest_version: "2.1",
      version_count: 1,
    });
  });

  it("refuses to overwrite a version (409) and changes nothing", async () => {
    const before = await w.storage.getVersion(w.users.member, w.orgs.a.slug, "credit_risk", "2.1");
    expect(await code(upload("owner", "credit_risk", "2.1", "customer_segmentation_v1.0.pkl"))).toBe("conflict");
    const after = await w.storage.getVersion(w.users.member, w.orgs.a.slug, "credit_risk", "2.1");
    expect(after.sha256).toBe(before.sha256);
    const stored = await read((await w.store.get(before.object_key)).stream);
    expect(crypto.createHash("sha256").update(stored).digest("hex")).toBe(before.sha256);
  });

  it("lets exactly one of two concurrent uploads of one version win", async () => {
    const results = await Promise.allSettled([
      upload("member", "race", "1.0"),
      upload("owner", "race", "1.0", "customer_segmentation_v1.0.pkl"),
    ]);
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    const failed = results.find((r) => r.status === "rejected") as PromiseRejectedResult;
    expect((failed.reason as AppError).code).toBe("conflict");
    expect((await w.storage.listVersions(w.users.viewer, w.orgs.a.slug, "race")).map((v) => v.version)).toEqual(["1.0"]);
  });

  it.each([
    ["a wrong expected SHA-256", { metadata: { sha256: "0".repeat(64) } }, "checksum_mismatch"],
    ["a body shorter than its declared length", { contentLength: 5000 }, "length_mismatch"],
    ["a body longer than its declared length", { contentLength: 10 }, "length_mismatch"],
  ])("rejects %s and leaves no version and no bytes", async (_name, extra, expected) => {
    const files = storedFiles(w);
    const model = `broken_${_name.replace(/[^a-z0-9]+/g, "_")}`.slice(0, 60);
    expect(await code(upload("member", model, "1.0", "credit_risk_v2.1.pkl", extra))).toBe(expected);
    expect(storedFiles(w)).toEqual(files);
    expect(await code(w.storage.getVersion(w.users.owner, w.orgs.a.slug, model, "1.0"))).toBe("not_found");
    // The model the failed upload created is gone too: nothing half-visible.
    expect(await code(w.storage.getModel(w.users.owner, w.orgs.a.slug, model))).toBe("not_found");
    // The version number is free again: the reservation was released.
    expect((await upload("member", model, "1.0")).status).toBe("ready");
  });

  it("aborts a client that disconnects halfway and keeps nothing", async () => {
    const files = storedFiles(w);
    const ac = new AbortController();
    const body = new Readable({ read() {} });
    body.push(Buffer.alloc(64 * 1024, 1));
    const p = w.storage.uploadVersion(w.users.member, {
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
    expect((await w.storage.listModels(w.users.owner, w.orgs.a.slug, { q: "dropped" })).items[0]?.version_count ?? 0).toBe(0);
  });

  it("refuses files over the limit (413) and files that are not models (422)", async () => {
    const big = Readable.from([Buffer.alloc(1024 * 1024 + 1)]);
    expect(
      await code(
        w.storage.uploadVersion(w.users.member, { org: w.orgs.a.slug, model: "big", version: "1.0", fileName: "big.pkl", body: big }),
      ),
    ).toBe("payload_too_large");
    expect(await code(upload("member", "png", "1.0", "not_a_model.h5"))).toBe("invalid_model_file");
    expect(await code(upload("member", "trunc", "1.0", "truncated_credit_risk.pkl"))).toBe("invalid_model_file");
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
    const r = await code(
      w.storage.uploadVersion(w.users.member, { org: w.orgs.a.slug, model, version, fileName, body: Readable.from([Buffer.from("x")]) }),
    );
    expect(["invalid_input", "unsupported_media_type", "bad_request"]).toContain(r);
  });

  it("a failed upload of a new version keeps the existing model and its versions", async () => {
    expect(await code(upload("member", "credit_risk", "9.0", "credit_risk_v2.1.pkl", { metadata: { sha256: "0".repeat(64) } }))).toBe(
      "checksum_mismatch",
    );
    expect((await w.storage.getModel(w.users.owner, w.orgs.a.slug, "credit_risk")).versions.length).toBeGreaterThan(0);
  });

  it("keeps viewers, outsiders and other orgs out", async () => {
    expect(await code(upload("viewer", "viewer_model", "1.0"))).toBe("forbidden");
    expect(await code(upload("outsider", "x", "1.0"))).toBe("not_found");
    expect(await code(w.storage.getModel(w.users.outsider, w.orgs.a.slug, "credit_risk"))).toBe("not_found");
    expect(await code(w.storage.openDownload(w.users.outsider, w.orgs.a.slug, "credit_risk", "2.1"))).toBe("not_found");
    expect((await w.storage.listOrgs(w.users.outsider)).map((o) => o.slug)).toEqual([w.orgs.b.slug]);
    expect(await code(w.storage.deleteVersion(w.users.viewer, w.orgs.a.slug, "credit_risk", "2.1"))).toBe("forbidden");
  });

  it("caps an API token's role and pins its org", async () => {
    const tokenAsViewer = w.principal(w.users.both.userId, { fm_token: { id: crypto.randomUUID(), org_id: w.orgs.a.id, role: "viewer" } });
    expect((await w.storage.listOrgs(tokenAsViewer)).map((o) => [o.slug, o.role])).toEqual([[w.orgs.a.slug, "viewer"]]);
    expect(
      await code(
        w.storage.uploadVersion(tokenAsViewer, {
          org: w.orgs.a.slug,
          model: "tok",
          version: "1.0",
          fileName: "m.pkl",
          body: fs.createReadStream(fixture("credit_risk_v2.1.pkl")),
        }),
      ),
    ).toBe("forbidden");
    expect(await code(w.storage.listModels(tokenAsViewer, w.orgs.b.slug))).toBe("not_found");
  });

  it("downloads with ranges and records audit + egress", async () => {
    const full = fs.readFileSync(fixture("credit_risk_v2.1.pkl"));
    const d = await w.storage.openDownload(w.users.viewer, w.orgs.a.slug, "credit_risk", "2.1", {}, { ip: "10.0.0.1" });
    expect(Buffer.compare(await read(d.stream), full)).toBe(0);
    const part = await w.storage.openDownload(w.users.viewer, w.orgs.a.slug, "credit_risk", "2.1", { range: { start: 10, end: 19 } });
    expect(Buffer.compare(await read(part.stream), full.subarray(10, 20))).toBe(0);
    expect([part.start, part.end, part.size]).toEqual([10, 19, full.length]);
    const { rows } = await t.db.query<{ bytes: number; ip: string }>(
      "select bytes, ip from public.audit_events where action = 'version.download' and org_id = $1 order by id",
      [w.orgs.a.id],
    );
    expect(rows.map((r) => r.bytes)).toEqual([full.length, 10]);
    expect(rows[0]!.ip).toBe("10.0.0.1");
  });

  it("in supabase mode, reads versions not yet migrated from local disk and the rest from Supabase", async () => {
    const supabaseStore = {
      ...w.store,
      kind: "supabase" as const,
      get: async () => {
        throw new AppError("unavailable", "the Supabase stand-in was asked");
      },
    };
    const cloud = new ModelStorage({
      config: { ...w.config, mode: "supabase" },
      db: t.db,
      blobStoreFor: () => supabaseStore,
      localStore: () => w.store,
    });
    const d = await cloud.openDownload(w.users.viewer, w.orgs.a.slug, "credit_risk", "2.1");
    expect((await read(d.stream)).length).toBe(d.size);
    await t.db.query("update public.model_versions set storage_backend = 'supabase' where object_key = $1", [
      `${w.orgs.a.slug}/credit_risk_v2.1.pkl`,
    ]);
    expect(await code(cloud.openDownload(w.users.viewer, w.orgs.a.slug, "credit_risk", "2.1"))).toBe("unavailable");
    await t.db.query("update public.model_versions set storage_backend = 'local' where object_key = $1", [
      `${w.orgs.a.slug}/credit_risk_v2.1.pkl`,
    ]);
  });

  it("quarantines dangerous files: only admins who acknowledge the risk may download", async () => {
    const v = await upload("member", "evil", "1.0", "malicious_os_system.pkl");
    expect(v.status).toBe("quarantined");
    expect(v.scan_verdict).toBe("dangerous");
    expect(JSON.stringify(v.metadata)).toContain("posix.system");
    expect(await code(w.storage.openDownload(w.users.member, w.orgs.a.slug, "evil", "1.0", { acknowledgeRisk: true }))).toBe("quarantined");
    expect(await code(w.storage.openDownload(w.users.admin, w.orgs.a.slug, "evil", "1.0"))).toBe("quarantined");
    const d = await w.storage.openDownload(w.users.admin, w.orgs.a.slug, "evil", "1.0", { acknowledgeRisk: true });
    expect((await read(d.stream)).length).toBe(v.size_bytes);
    expect(await code(w.storage.setAlias(w.users.owner, w.orgs.a.slug, "evil", "production", "1.0"))).toBe("conflict");
  });

  it("moves aliases and keeps their history", async () => {
    await upload("member", "credit_risk", "2.2", "credit_risk_v2.1.pkl");
    await w.storage.setAlias(w.users.member, w.orgs.a.slug, "credit_risk", "production", "2.1");
    const moved = await w.storage.setAlias(w.users.member, w.orgs.a.slug, "credit_risk", "production", "2.2");
    expect(moved).toEqual({ alias: "production", version: "2.2", previous: "2.1" });
    expect(await code(w.storage.setAlias(w.users.viewer, w.orgs.a.slug, "credit_risk", "production", "2.1"))).toBe("forbidden");
    expect(await code(w.storage.setAlias(w.users.member, w.orgs.a.slug, "credit_risk", "Bad Alias", "2.1"))).toBe("invalid_input");
    const history = await w.storage.aliasHistory(w.users.viewer, w.orgs.a.slug, "credit_risk");
    expect(history.map((h) => [h.alias, h.from_version, h.to_version])).toEqual([
      ["production", "2.1", "2.2"],
      ["production", null, "2.1"],
    ]);
    const model = await w.storage.getModel(w.users.viewer, w.orgs.a.slug, "credit_risk");
    expect(model.aliases.map((a) => [a.alias, a.version])).toEqual([["production", "2.2"]]);
  });

  it("soft-deletes a version: gone from downloads, kept in the record, bytes kept until purge", async () => {
    await upload("member", "temp", "1.0");
    expect(await code(w.storage.deleteVersion(w.users.viewer, w.orgs.a.slug, "temp", "1.0"))).toBe("forbidden");
    await w.storage.deleteVersion(w.users.member, w.orgs.a.slug, "temp", "1.0");
    const v = await w.storage.getVersion(w.users.viewer, w.orgs.a.slug, "temp", "1.0");
    expect(v.status).toBe("deleted");
    expect(await code(w.storage.openDownload(w.users.owner, w.orgs.a.slug, "temp", "1.0"))).toBe("not_found");
    expect(await w.store.stat(v.object_key)).not.toBeNull();
    expect(await code(upload("member", "temp", "1.0"))).toBe("conflict");
  });

  it("lists with search, filters and keyset pagination that never repeats or skips", async () => {
    for (let i = 0; i < 7; i++)
      await w.storage.createModel(w.users.member, w.orgs.a.slug, {
        name: `Paged ${i}`,
        task_type: i % 2 ? "regression" : "nlp",
        description: "",
        tags: i === 3 ? ["special"] : [],
      });
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await w.storage.listModels(w.users.viewer, w.orgs.a.slug, { q: "paged", limit: 3, sort: "name", cursor });
      seen.push(...page.items.map((m) => m.slug));
      cursor = page.next_cursor ?? undefined;
    } while (cursor);
    expect(seen).toEqual(Array.from({ length: 7 }, (_, i) => `paged_${i}`));
    expect((await w.storage.listModels(w.users.viewer, w.orgs.a.slug, { tag: "special" })).items.map((m) => m.slug)).toEqual(["paged_3"]);
    expect((await w.storage.listModels(w.users.viewer, w.orgs.a.slug, { q: "paged", type: "regression" })).items).toHaveLength(3);
    expect((await w.storage.listModels(w.users.viewer, w.orgs.a.slug, { verdict: "dangerous" })).items.map((m) => m.slug)).toEqual([
      "evil",
    ]);
    expect(await code(w.storage.listModels(w.users.viewer, w.orgs.a.slug, { cursor: "garbage" }))).toBe("bad_request");
    // What the inspector found is searchable: the pickle's top-level class, the format.
    expect((await w.storage.listModels(w.users.viewer, w.orgs.a.slug, { q: "sklearn pipeline" })).items.map((m) => m.slug)).toContain(
      "credit_risk",
    );
    expect((await w.storage.listModels(w.users.viewer, w.orgs.a.slug, { q: "pickle" })).items.length).toBeGreaterThan(0);
  });
});
