import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AppError } from "@/lib/errors";
import { runBlobStoreContract } from "./blob-store.contract";
import { nodeBody, readAll, sha256 } from "./blob-store.contract-helpers";
import { createEncryptedBlobStore, type EncryptedBlobStore } from "./encrypted";
import { cipherSizeOf, ENCRYPTION_CHUNK_SIZE, ENCRYPTION_HEADER_SIZE, plaintextSizeOf } from "./encryption-format";
import { isEncryptionConfigured, loadEncryptionKeys, parseMasterKey, type EncryptionKeys } from "./encryption-keys";
import { createLocalBlobStore, type LocalBlobStore } from "./local";

const C = ENCRYPTION_CHUNK_SIZE;
const keyA = parseMasterKey(randomBytes(32).toString("base64"));
const keyB = parseMasterKey(randomBytes(32).toString("base64"));

async function tempRoot() {
  return fs.mkdtemp(path.join(os.tmpdir(), "fairmind-encrypted-store-"));
}

runBlobStoreContract("encrypted local", async () => {
  const rootDir = await tempRoot();
  const store = createEncryptedBlobStore(createLocalBlobStore({ rootDir, bucket: "ai-models" }), { current: keyA });
  return {
    store,
    keyPrefix: "demo_org",
    listTemp: async () => fs.readdir(path.join(rootDir, "ai-models", ".tmp")).catch(() => []),
    cleanup: () => fs.rm(rootDir, { recursive: true, force: true }),
  };
});

/** Reads the whole object; resolves with the bytes or rejects with whatever get() or the stream threw. */
async function readObject(store: EncryptedBlobStore, key: string, range?: { start: number; end?: number }) {
  const got = await store.get(key, range ? { range } : {});
  return readAll(got.stream);
}

async function expectLoud(p: Promise<unknown>, key: string, reason?: string) {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e, "expected the read to fail").toBeInstanceOf(AppError);
  expect((e as AppError).message).toContain(key);
  if (reason) expect((e as AppError).details?.reason).toBe(reason);
}

describe("encrypted store", () => {
  let rootDir: string;
  let inner: LocalBlobStore;
  let store: EncryptedBlobStore;
  const make = (keys: EncryptionKeys) => createEncryptedBlobStore(inner, keys);
  const fileOf = (key: string) => path.join(rootDir, "ai-models", ...key.split("/"));
  let n = 0;
  const newKey = () => `org_enc/model_v${++n}.bin`;

  beforeAll(async () => {
    rootDir = await tempRoot();
    inner = createLocalBlobStore({ rootDir, bucket: "ai-models" });
    store = make({ current: keyA });
  });
  afterAll(() => fs.rm(rootDir, { recursive: true, force: true }));

  it("stores ciphertext on disk (no plaintext run survives) and records the plaintext SHA-256 and size", async () => {
    const data = Buffer.alloc(3 * C + 5, "model-weights-");
    const key = newKey();
    const put = await store.put(key, nodeBody(data));
    expect(put).toEqual({ key, size: data.length, sha256: sha256(data) });
    const onDisk = await fs.readFile(fileOf(key));
    expect(onDisk.length).toBe(cipherSizeOf(data.length));
    expect(onDisk.includes(Buffer.from("model-weights-model-weights-"))).toBe(false);
    expect((await store.stat(key))?.size).toBe(data.length);
    const listed = [];
    for await (const s of store.list("org_enc/")) if (s.key === key) listed.push(s.size);
    expect(listed).toEqual([data.length]);
  });

  it.each([0, 1, C - 1, C, C + 1, 2 * C, 3 * C + 100])("round-trips %i bytes (size from the file size alone)", async (size) => {
    const data = randomBytes(size);
    const key = newKey();
    await store.put(key, nodeBody(data, 7000));
    expect(plaintextSizeOf(cipherSizeOf(size))).toBe(size);
    expect((await readObject(store, key)).equals(data)).toBe(true);
  });

  describe("range reads at chunk boundaries", () => {
    const data = randomBytes(3 * C + 100);
    const key = "org_enc/ranges_v1.bin";
    beforeAll(async () => {
      await store.put(key, nodeBody(data));
    });
    it.each([
      ["first byte", 0, 0],
      ["last byte of chunk 0", C - 1, C - 1],
      ["first byte of chunk 1", C, C],
      ["across the 0/1 boundary", C - 1, C],
      ["exactly chunk 0", 0, C - 1],
      ["exactly chunk 1", C, 2 * C - 1],
      ["across two boundaries", C - 10, 2 * C + 10],
      ["the short final chunk", 3 * C, 3 * C + 99],
      ["last byte", 3 * C + 99, 3 * C + 99],
      ["end past the size (clamped)", 2 * C + 5, 10 * C],
    ])("%s", async (_label, start, end) => {
      const got = await store.get(key, { range: { start, end } });
      const clampedEnd = Math.min(end, data.length - 1);
      expect({ size: got.size, start: got.start, end: got.end }).toEqual({ size: data.length, start, end: clampedEnd });
      expect((await readAll(got.stream)).equals(data.subarray(start, clampedEnd + 1))).toBe(true);
    });

    it("random ranges", async () => {
      for (let i = 0; i < 40; i++) {
        const a = Math.floor(Math.random() * data.length);
        const b = a + Math.floor(Math.random() * (data.length - a));
        expect((await readObject(store, key, { start: a, end: b })).equals(data.subarray(a, b + 1))).toBe(true);
      }
    });

    it("decrypts only the chunks a range needs (a damaged chunk 2 does not affect chunk 0)", async () => {
      const k = newKey();
      await store.put(k, nodeBody(data));
      const fh = await fs.open(fileOf(k), "r+");
      await fh.write(Buffer.from([0xff]), 0, 1, ENCRYPTION_HEADER_SIZE + 2 * (C + 16) + 3);
      await fh.close();
      expect((await readObject(store, k, { start: 0, end: C - 1 })).equals(data.subarray(0, C))).toBe(true);
      await expectLoud(readObject(store, k, { start: 2 * C, end: 2 * C }), k, "integrity");
    });
  });

  describe("fails loudly, naming the object", () => {
    const data = randomBytes(2 * C + 777);

    it("with the wrong master key", async () => {
      const key = newKey();
      await store.put(key, nodeBody(data));
      await expectLoud(readObject(make({ current: keyB }), key), key, "wrong_key");
      const e = await make({ current: keyB })
        .get(key)
        .catch((err: AppError) => err);
      expect((e as AppError).message).toContain(keyA.id);
    });

    it("on a flipped byte anywhere: header, key slots, chunk bodies, tags, the final chunk", async () => {
      const key = newKey();
      await store.put(key, nodeBody(data));
      const original = await fs.readFile(fileOf(key));
      const offsets = new Set<number>([
        0,
        4,
        5,
        8,
        12,
        19,
        20,
        23,
        40,
        99,
        100,
        179,
        ENCRYPTION_HEADER_SIZE,
        ENCRYPTION_HEADER_SIZE + C + 15,
        original.length - 1,
      ]);
      for (let i = 0; i < 24; i++) offsets.add(Math.floor(Math.random() * original.length));
      const failures: number[] = [];
      for (const offset of offsets) {
        const copy = Buffer.from(original);
        copy[offset] = copy[offset]! ^ 0x01;
        await fs.writeFile(fileOf(key), copy);
        const result = await readObject(store, key).then(
          () => "read",
          (err: unknown) => (err instanceof AppError && err.message.includes(key) ? "loud" : String(err)),
        );
        if (result !== "loud") failures.push(offset);
      }
      // Flipping a byte of the *unused* key slot is harmless by design (it is empty and ignored).
      const unusedSlot = (o: number) => o >= 100 && o < 180;
      expect(failures.filter((o) => !unusedSlot(o))).toEqual([]);
      await fs.writeFile(fileOf(key), original);
      expect((await readObject(store, key)).equals(data)).toBe(true);
    });

    it("when the file is truncated at a chunk boundary, extended, or its chunks are swapped", async () => {
      const key = newKey();
      await store.put(key, nodeBody(data));
      const original = await fs.readFile(fileOf(key));
      const chunk = (i: number) => original.subarray(ENCRYPTION_HEADER_SIZE + i * (C + 16), ENCRYPTION_HEADER_SIZE + (i + 1) * (C + 16));
      const cases: [string, Buffer][] = [
        ["truncated after chunk 1", original.subarray(0, ENCRYPTION_HEADER_SIZE + 2 * (C + 16))],
        ["truncated mid-chunk", original.subarray(0, original.length - 100)],
        ["extended", Buffer.concat([original, randomBytes(C + 16)])],
        [
          "chunks 0 and 1 swapped",
          Buffer.concat([
            original.subarray(0, ENCRYPTION_HEADER_SIZE),
            chunk(1),
            chunk(0),
            original.subarray(ENCRYPTION_HEADER_SIZE + 2 * (C + 16)),
          ]),
        ],
        ["header only", original.subarray(0, ENCRYPTION_HEADER_SIZE)],
      ];
      for (const [label, bytes] of cases) {
        await fs.writeFile(fileOf(key), bytes);
        await expectLoud(readObject(store, key), key).catch((e: Error) => {
          throw new Error(`${label}: ${e.message}`);
        });
      }
    });

    it("when an encrypted file is moved to another key", async () => {
      const a = newKey();
      const b = newKey();
      await store.put(a, nodeBody(data));
      await fs.copyFile(fileOf(a), fileOf(b));
      await expectLoud(readObject(store, b), b, "integrity");
    });

    it("when the object was stored in plaintext", async () => {
      const key = newKey();
      await inner.put(key, nodeBody(data));
      await expectLoud(readObject(store, key), key, "not_encrypted");
    });
  });

  describe("key rotation re-wraps data keys without rewriting bodies", () => {
    it("moves an object to the new key; the old key alone no longer reads it", async () => {
      const data = randomBytes(C + 3);
      const key = newKey();
      await store.put(key, nodeBody(data));
      const before = await fs.readFile(fileOf(key));
      const rotating = make({ current: keyB, previous: keyA });
      expect(await rotating.rewrapObject(key)).toBe("rewrapped");
      expect(await rotating.rewrapObject(key)).toBe("current");
      const after = await fs.readFile(fileOf(key));
      expect(after.subarray(ENCRYPTION_HEADER_SIZE).equals(before.subarray(ENCRYPTION_HEADER_SIZE))).toBe(true);
      expect(after.subarray(0, 20).equals(before.subarray(0, 20))).toBe(true);
      expect((await rotating.describeObject(key)).keyId).toBe(keyB.id);
      expect((await readObject(make({ current: keyB }), key)).equals(data)).toBe(true);
      await expectLoud(readObject(make({ current: keyA }), key), key, "wrong_key");
    });

    it("is crash-safe: with the new slot written but the old one not yet wiped, both keys read; a rerun finishes", async () => {
      const data = randomBytes(5000);
      const key = newKey();
      await store.put(key, nodeBody(data));
      const original = await fs.readFile(fileOf(key));
      await make({ current: keyB, previous: keyA }).rewrapObject(key);
      const rotated = await fs.readFile(fileOf(key));
      // Reconstruct "crashed between the two writes": new slot present, old slot still intact.
      const crashed = Buffer.from(rotated);
      const oldSlot = original.subarray(20, 100).some((b) => b !== 0) ? 0 : 1;
      original.copy(crashed, 20 + oldSlot * 80, 20 + oldSlot * 80, 20 + (oldSlot + 1) * 80);
      await fs.writeFile(fileOf(key), crashed);
      expect((await readObject(make({ current: keyA }), key)).equals(data)).toBe(true);
      expect((await readObject(make({ current: keyB }), key)).equals(data)).toBe(true);
      expect(await make({ current: keyB, previous: keyA }).rewrapObject(key)).toBe("rewrapped");
      await expectLoud(readObject(make({ current: keyA }), key), key, "wrong_key");
    });
  });

  it("encrypts an object stored before encryption was switched on", async () => {
    const data = randomBytes(2 * C + 9);
    const key = newKey();
    await inner.put(key, nodeBody(data));
    expect(await store.encryptExistingObject(key)).toBe("encrypted");
    expect(await store.encryptExistingObject(key)).toBe("already");
    expect((await readObject(store, key)).equals(data)).toBe(true);
    expect(await fs.readdir(path.join(rootDir, "ai-models", ".tmp"))).toEqual([]);
  });

  it("measures throughput against the plain local store (informational)", async () => {
    const size = 64 * 1024 * 1024;
    const data = randomBytes(size);
    const time = async (s: LocalBlobStore, key: string) => {
      const t0 = performance.now();
      await s.put(key, nodeBody(data, 1024 * 1024));
      const t1 = performance.now();
      const h = createHash("sha256");
      for await (const c of (await s.get(key)).stream) h.update(c as Buffer);
      const t2 = performance.now();
      expect(h.digest("hex")).toBe(sha256(data));
      return { put: size / 1048576 / ((t1 - t0) / 1000), get: size / 1048576 / ((t2 - t1) / 1000) };
    };
    const plain = await time(inner, "org_enc/bench_plain_v1.bin");
    const enc = await time(store, "org_enc/bench_enc_v1.bin");
    console.info(
      `[encrypted store] 64 MiB put: plain ${plain.put.toFixed(0)} MiB/s, encrypted ${enc.put.toFixed(0)} MiB/s; get: plain ${plain.get.toFixed(0)} MiB/s, encrypted ${enc.get.toFixed(0)} MiB/s`,
    );
  });
});

describe("encryption configuration", () => {
  it("is on only when STORAGE_ENCRYPTION_KEY is set", () => {
    expect(isEncryptionConfigured({})).toBe(false);
    expect(isEncryptionConfigured({ STORAGE_ENCRYPTION_KEY: "  " })).toBe(false);
    expect(isEncryptionConfigured({ STORAGE_ENCRYPTION_KEY: randomBytes(32).toString("base64") })).toBe(true);
  });

  it("loads the current and previous keys and rejects malformed ones loudly", () => {
    const a = randomBytes(32);
    const b = randomBytes(32);
    const keys = loadEncryptionKeys({
      STORAGE_ENCRYPTION_KEY: a.toString("base64"),
      STORAGE_ENCRYPTION_KEY_PREVIOUS: b.toString("base64url"),
    });
    expect(keys.current.key.equals(a)).toBe(true);
    expect(keys.previous?.key.equals(b)).toBe(true);
    expect(keys.current.id).toMatch(/^[0-9a-f]{16}$/);
    expect(() => loadEncryptionKeys({ STORAGE_ENCRYPTION_KEY: randomBytes(16).toString("base64") })).toThrow(/32 bytes/);
    expect(() => loadEncryptionKeys({ STORAGE_ENCRYPTION_KEY: "not base64!" })).toThrow(/base64/);
    expect(() => loadEncryptionKeys({})).toThrow(/not set/);
  });
});
