import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createBlobStore } from "../create-blob-store";
import { runBlobStoreContract } from "./blob-store.contract";
import { expectAppError, nodeBody, readAll, sha256 } from "./blob-store.contract-helpers";
import { createLocalBlobStore, sweepTemp, type LocalBlobStore } from "./local";

async function tempRoot() {
  return fs.mkdtemp(path.join(os.tmpdir(), "fairmind-local-store-"));
}

runBlobStoreContract("local", async () => {
  const rootDir = await tempRoot();
  const store = createLocalBlobStore({ rootDir, bucket: "ai-models" });
  return {
    store,
    keyPrefix: "demo_org",
    listTemp: async () => fs.readdir(path.join(rootDir, "ai-models", ".tmp")).catch(() => []),
    cleanup: () => fs.rm(rootDir, { recursive: true, force: true }),
  };
});

describe("local blob store specifics", () => {
  let rootDir: string;
  let store: LocalBlobStore;
  beforeEach(async () => {
    rootDir = await tempRoot();
    store = createLocalBlobStore({ rootDir, bucket: "ai-models" });
  });
  afterEach(() => fs.rm(rootDir, { recursive: true, force: true }));

  it("stores <rootDir>/<bucket>/<key> and removes its temporary file", async () => {
    const data = randomBytes(1000);
    await store.put("demo_org/credit_risk_v2.1.pkl", nodeBody(data));
    const onDisk = await fs.readFile(path.join(rootDir, "ai-models", "demo_org", "credit_risk_v2.1.pkl"));
    expect(onDisk.equals(data)).toBe(true);
    expect(await fs.readdir(path.join(rootDir, "ai-models", ".tmp"))).toEqual([]);
    expect((await store.stat("demo_org/credit_risk_v2.1.pkl"))?.contentType).toBe("application/octet-stream");
  });

  it("stores and reads an empty object", async () => {
    const put = await store.put("demo_org/empty_v1.json", nodeBody(Buffer.alloc(0)), { expectedSize: 0 });
    expect(put).toEqual({ key: "demo_org/empty_v1.json", size: 0, sha256: sha256(Buffer.alloc(0)) });
    const got = await store.get("demo_org/empty_v1.json");
    expect(got).toMatchObject({ size: 0, start: 0, end: -1, contentType: "application/json" });
    expect((await readAll(got.stream)).length).toBe(0);
    await expectAppError(store.get("demo_org/empty_v1.json", { range: { start: 0 } }), "range_not_satisfiable");
  });

  it("lets exactly one of two concurrent puts to a key win", async () => {
    const a = randomBytes(500_000);
    const b = randomBytes(500_000);
    const results = await Promise.allSettled([
      store.put("demo_org/race_v1.pkl", nodeBody(a)),
      store.put("demo_org/race_v1.pkl", nodeBody(b)),
    ]);
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    const loser = results.find((r) => r.status === "rejected") as PromiseRejectedResult;
    expect(loser.reason).toMatchObject({ code: "conflict" });
    const winner = (results.find((r) => r.status === "fulfilled") as PromiseFulfilledResult<{ sha256: string }>).value;
    expect(sha256(await readAll((await store.get("demo_org/race_v1.pkl")).stream))).toBe(winner.sha256);
    expect(await fs.readdir(path.join(rootDir, "ai-models", ".tmp"))).toEqual([]);
  });

  it("does not follow a symlink planted at a key", async () => {
    const outside = path.join(rootDir, "secret.txt");
    await fs.writeFile(outside, "secret");
    await fs.mkdir(path.join(rootDir, "ai-models", "demo_org"), { recursive: true });
    await fs.symlink(outside, path.join(rootDir, "ai-models", "demo_org", "link_v1.pkl"));
    await expectAppError(store.get("demo_org/link_v1.pkl"), "not_found");
  });

  it("list() skips the temporary directory and names that are not valid keys", async () => {
    await store.put("demo_org/a_v1.pkl", nodeBody(randomBytes(3)));
    await fs.mkdir(path.join(rootDir, "ai-models", ".tmp"), { recursive: true });
    await fs.writeFile(path.join(rootDir, "ai-models", ".tmp", "123-abc"), "partial");
    await fs.writeFile(path.join(rootDir, "ai-models", "demo_org", "bad name.pkl"), "x");
    const keys: string[] = [];
    for await (const s of store.list("")) keys.push(s.key);
    expect(keys).toEqual(["demo_org/a_v1.pkl"]);
  });

  it("sweepTemp() removes stale temporary files and keeps fresh ones", async () => {
    const tmp = path.join(rootDir, "ai-models", ".tmp");
    await fs.mkdir(tmp, { recursive: true });
    await fs.writeFile(path.join(tmp, "old"), "x");
    await fs.writeFile(path.join(tmp, "new"), "y");
    const hourAgo = new Date(Date.now() - 3600_000);
    await fs.utimes(path.join(tmp, "old"), hourAgo, hourAgo);
    expect(await store.sweepTemp(60_000)).toBe(1);
    expect(await fs.readdir(tmp)).toEqual(["new"]);
    expect(await sweepTemp({ rootDir, bucket: "ai-models" }, 0)).toBe(1);
    expect(await sweepTemp({ rootDir: path.join(rootDir, "nowhere"), bucket: "ai-models" }, 0)).toBe(0);
  });

  it("refuses a bucket name that could escape the root", () => {
    expect(() => createLocalBlobStore({ rootDir, bucket: "../x" })).toThrow();
    expect(() => createLocalBlobStore({ rootDir, bucket: "a/b" })).toThrow();
  });

  it("is what createBlobStore() builds for kind: local", async () => {
    const s = createBlobStore({ kind: "local", rootDir, bucket: "ai-models" });
    expect(s.kind).toBe("local");
    expect(s.dir).toBe(path.join(rootDir, "ai-models"));
    expect(await s.ping()).toMatchObject({ ok: true });
  });
});

describe("putFile (finished resumable uploads are linked, not copied)", () => {
  it("links a verified file into place, refuses a bad hash and never overwrites", async () => {
    const root = await fs.mkdtemp(path.join(os.tmpdir(), "fm-adopt-"));
    try {
      const store = createLocalBlobStore({ rootDir: root, bucket: "ai-models" });
      const src = path.join(root, "upload.bin");
      const bytes = randomBytes(300_000);
      await fs.writeFile(src, bytes);
      const digest = sha256(bytes);
      const seen: number[] = [];
      await expect(store.putFile!("org_a/m_v1.0.pkl", src, { expectedSha256: "0".repeat(64) })).rejects.toMatchObject({
        code: "checksum_mismatch",
      });
      expect(await store.stat("org_a/m_v1.0.pkl")).toBeNull();
      const r = await store.putFile!("org_a/m_v1.0.pkl", src, {
        expectedSize: bytes.length,
        expectedSha256: digest,
        onChunk: (c) => seen.push(c.length),
      });
      expect(r).toEqual({ key: "org_a/m_v1.0.pkl", size: bytes.length, sha256: digest });
      expect(seen.reduce((a, b) => a + b, 0)).toBe(bytes.length);
      const stored = path.join(root, "ai-models", "org_a", "m_v1.0.pkl");
      expect((await fs.stat(stored)).ino).toBe((await fs.stat(src)).ino);
      await fs.rm(src);
      expect(Buffer.compare(await fs.readFile(stored), bytes)).toBe(0);
      await fs.writeFile(src, "other");
      await expect(store.putFile!("org_a/m_v1.0.pkl", src)).rejects.toMatchObject({ code: "conflict" });
    } finally {
      await fs.rm(root, { recursive: true, force: true });
    }
  });
});
