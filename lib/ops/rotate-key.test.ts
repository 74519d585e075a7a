import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEncryptedBlobStore } from "@/lib/storage/adapters/encrypted";
import { ENCRYPTION_HEADER_SIZE } from "@/lib/storage/adapters/encryption-format";
import { parseMasterKey } from "@/lib/storage/adapters/encryption-keys";
import { createLocalBlobStore, type LocalBlobStore } from "@/lib/storage/adapters/local";
import { rotateStoreKeys } from "./rotate-key";
import { hashStore, spawnScript } from "./testing";

const b64 = () => randomBytes(32).toString("base64");

describe("rotate-key", () => {
  let dataDir: string;
  let inner: LocalBlobStore;
  const oldKey = b64();
  const newKey = b64();
  const data = new Map<string, Buffer>();

  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "fm-rotate-"));
    inner = createLocalBlobStore({ rootDir: path.join(dataDir, "storage"), bucket: "ai-models" });
    const old = createEncryptedBlobStore(inner, { current: parseMasterKey(oldKey) });
    for (let i = 0; i < 5; i++) {
      const key = `org_r/model_v${i}.bin`;
      data.set(key, randomBytes(70_000 + i));
      await old.put(key, Readable.from([data.get(key)!]));
    }
    // Stored before encryption was switched on.
    data.set("org_r/legacy_v1.bin", randomBytes(1000));
    await inner.put("org_r/legacy_v1.bin", Readable.from([data.get("org_r/legacy_v1.bin")!]));
  });
  afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  it("refuses without a key (exit 2) and lists plaintext objects as a problem (exit 1)", async () => {
    const none = spawnScript("scripts/rotate-key.ts", [], { DATA_DIR: dataDir });
    expect(await none.exit).toBe(2);
    const dry = spawnScript("scripts/rotate-key.ts", ["--dry-run"], {
      DATA_DIR: dataDir,
      STORAGE_ENCRYPTION_KEY: newKey,
      STORAGE_ENCRYPTION_KEY_PREVIOUS: oldKey,
    });
    expect(await dry.exit, dry.output()).toBe(1);
    expect(dry.output()).toMatch(/DRY RUN — would re-wrap 5/);
    expect(dry.output()).toMatch(/1 object\(s\) are stored in plaintext/);
  });

  it("re-wraps every data key with the new master key (headers only) and encrypts legacy plaintext", async () => {
    const bodies = new Map(
      [...data.keys()]
        .filter((k) => !k.includes("legacy"))
        .map((k) => [k, fs.readFileSync(path.join(inner.dir, k)).subarray(ENCRYPTION_HEADER_SIZE)]),
    );
    const run = spawnScript("scripts/rotate-key.ts", ["--encrypt-existing"], {
      DATA_DIR: dataDir,
      STORAGE_ENCRYPTION_KEY: newKey,
      STORAGE_ENCRYPTION_KEY_PREVIOUS: oldKey,
    });
    expect(await run.exit, run.output()).toBe(0);
    expect(run.output()).toMatch(/Re-wrapped 5, already current 0, encrypted 1, failed 0/);
    for (const [k, body] of bodies)
      expect(fs.readFileSync(path.join(inner.dir, k)).subarray(ENCRYPTION_HEADER_SIZE).equals(body)).toBe(true);
    // The new key alone reads everything; the old key alone reads nothing any more.
    const fresh = createEncryptedBlobStore(inner, { current: parseMasterKey(newKey) });
    const { createHash } = await import("node:crypto");
    expect(await hashStore(fresh)).toEqual(
      [...data]
        .map(([key, b]) => ({ key, size: b.length, sha256: createHash("sha256").update(b).digest("hex") }))
        .sort((a, b) => (a.key < b.key ? -1 : 1)),
    );
    await expect(createEncryptedBlobStore(inner, { current: parseMasterKey(oldKey) }).get("org_r/model_v0.bin")).rejects.toThrow(
      /master key id/,
    );
  });

  it("is idempotent: a rerun finds everything current", async () => {
    const r = await rotateStoreKeys(createEncryptedBlobStore(inner, { current: parseMasterKey(newKey), previous: parseMasterKey(oldKey) }));
    expect(r.current).toHaveLength(6);
    expect([r.rewrapped, r.encrypted, r.failed, r.plaintext]).toEqual([[], [], [], []]);
  });

  it("names objects it cannot unwrap (a key it was never given)", async () => {
    const stranger = createEncryptedBlobStore(inner, { current: parseMasterKey(b64()) });
    await stranger.put("org_r/stranger_v1.bin", Readable.from([Buffer.from("x")]));
    const r = await rotateStoreKeys(createEncryptedBlobStore(inner, { current: parseMasterKey(newKey) }));
    expect(r.failed.map((f) => f.key)).toEqual(["org_r/stranger_v1.bin"]);
    expect(r.failed[0]!.error).toMatch(/master key id/);
  });
});
