// The contract every BlobStore adapter passes (local.test.ts, supabase.test.ts). Not a test file
// itself: each adapter's test calls runBlobStoreContract() with a factory for a fresh store.
import { createHash, randomBytes, randomUUID } from "node:crypto";
import { Readable } from "node:stream";

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AppError } from "@/lib/errors";
import type { BlobStore } from "../blob-store";
import {
  MiB,
  sha256,
  nodeBody,
  webBody,
  readAll,
  expectAppError,
  untouchableBody,
  HOSTILE_KEYS,
  putAndMeasure,
} from "./blob-store.contract-helpers";

export interface BlobStoreHarness {
  store: BlobStore;
  cleanup(): Promise<void>;
  /** Folder the test may write under (for Supabase: one the test user's policies allow). Default "contract". */
  keyPrefix?: string;
  /** Leftovers in the adapter's temporary area (local: <bucket>/.tmp); must be empty after any failure. */
  listTemp?(): Promise<string[]>;
  /** Peak live ArrayBuffer growth allowed while streaming 20 MiB. Default 8 MiB. */
  memoryBudgetBytes?: number;
}

/** Registers the BlobStore contract suite for one adapter. */
export function runBlobStoreContract(name: string, makeStore: () => Promise<BlobStoreHarness>): void {
  describe(`BlobStore contract: ${name}`, () => {
    let h: BlobStoreHarness;
    let store: BlobStore;
    let root: string;
    let n = 0;
    const created = new Set<string>();
    /** A fresh key under this run's folder; remembered so afterAll can delete it. */
    const newKey = (label: string) => {
      const key = `${root}/${label}-${++n}.bin`;
      created.add(key);
      return key;
    };
    const expectNothingLeft = async (key: string) => {
      expect(await store.stat(key)).toBeNull();
      await expectAppError(store.get(key), "not_found");
      if (h.listTemp) expect(await h.listTemp()).toEqual([]);
    };

    beforeAll(async () => {
      h = await makeStore();
      store = h.store;
      root = `${h.keyPrefix ?? "contract"}/run-${Date.now()}-${randomUUID().slice(0, 8)}`;
    });

    afterAll(async () => {
      if (!h) return;
      for (const key of created) await store.delete(key).catch(() => {});
      await h.cleanup();
    });

    describe("put and get", () => {
      it("round-trips a Node Readable body with size and sha256", async () => {
        const data = randomBytes(300_000);
        const key = newKey("node");
        const put = await store.put(key, nodeBody(data), { expectedSize: data.length });
        expect(put).toEqual({ key, size: data.length, sha256: sha256(data) });
        const got = await store.get(key);
        expect(got.size).toBe(data.length);
        expect(got.start).toBe(0);
        expect(got.end).toBe(data.length - 1);
        expect(sha256(await readAll(got.stream))).toBe(sha256(data));
      });

      it("accepts a web ReadableStream body (request bodies) and an unknown size", async () => {
        const data = randomBytes(200_000);
        const key = newKey("web");
        const put = await store.put(key, webBody(data));
        expect(put.size).toBe(data.length);
        expect(put.sha256).toBe(sha256(data));
        expect((await readAll((await store.get(key)).stream)).equals(data)).toBe(true);
      });

      it("accepts an expected SHA-256 in either case and feeds every byte to onChunk", async () => {
        const data = randomBytes(150_000);
        const key = newKey("onchunk");
        const seen = createHash("sha256");
        let count = 0;
        const put = await store.put(key, nodeBody(data, 10_000), {
          expectedSha256: sha256(data).toUpperCase(),
          onChunk: (c) => {
            seen.update(c);
            count += c.length;
          },
        });
        expect(put.sha256).toBe(sha256(data));
        expect(count).toBe(data.length);
        expect(seen.digest("hex")).toBe(sha256(data));
      });

      it("stats a stored object and returns null for a missing one", async () => {
        const data = randomBytes(1234);
        const key = newKey("stat");
        await store.put(key, nodeBody(data));
        const st = await store.stat(key);
        expect(st).toMatchObject({ key, size: 1234 });
        expect(await store.stat(newKey("missing"))).toBeNull();
      });

      it("answers not_found for a missing object", async () => {
        await expectAppError(store.get(newKey("missing")), "not_found");
      });

      it("never overwrites: a second put to the same key is a conflict and the original stays", async () => {
        const first = randomBytes(50_000);
        const key = newKey("once");
        await store.put(key, nodeBody(first));
        const second = randomBytes(60_000);
        await expectAppError(store.put(key, nodeBody(second)), "conflict");
        const got = await store.get(key);
        expect(got.size).toBe(first.length);
        expect(sha256(await readAll(got.stream))).toBe(sha256(first));
        if (h.listTemp) expect(await h.listTemp()).toEqual([]);
      });
    });

    describe("range reads", () => {
      const data = randomBytes(1000);
      let key: string;
      beforeAll(async () => {
        key = newKey("range");
        await store.put(key, nodeBody(data));
      });

      it.each([
        ["first byte", { start: 0, end: 0 }, 0, 0],
        ["middle", { start: 100, end: 199 }, 100, 199],
        ["last byte", { start: 999, end: 999 }, 999, 999],
        ["open-ended", { start: 500 }, 500, 999],
        ["end past the size (clamped)", { start: 990, end: 5000 }, 990, 999],
      ])("%s", async (_label, range, start, end) => {
        const got = await store.get(key, { range });
        expect({ size: got.size, start: got.start, end: got.end }).toEqual({ size: 1000, start, end });
        expect((await readAll(got.stream)).equals(data.subarray(start, end + 1))).toBe(true);
      });

      it.each([
        ["start at the size", { start: 1000 }],
        ["start far beyond", { start: 10_000, end: 20_000 }],
      ])("out of range (%s) is a 416", async (_label, range) => {
        const e = await expectAppError(store.get(key, { range }), "range_not_satisfiable");
        expect(e.status).toBe(416);
      });
    });

    describe("failed puts leave nothing behind", () => {
      const data = randomBytes(256 * 1024);
      it.each([
        ["body shorter than expectedSize", { expectedSize: data.length + 10 }, "length_mismatch"],
        ["body longer than expectedSize", { expectedSize: data.length - 10 }, "length_mismatch"],
        ["checksum mismatch", { expectedSha256: sha256(Buffer.from("something else")) }, "checksum_mismatch"],
        ["maxBytes exceeded mid-stream", { maxBytes: 100_000 }, "payload_too_large"],
        ["expectedSize over maxBytes (before reading)", { expectedSize: data.length, maxBytes: 100_000 }, "payload_too_large"],
      ] as const)("%s", async (_label, opts, code) => {
        const key = newKey("fail");
        await expectAppError(store.put(key, nodeBody(data), opts), code);
        await expectNothingLeft(key);
      });

      it("checksum mismatch on a body big enough for resumable uploads (7 MiB)", async () => {
        const big = randomBytes(7 * MiB);
        const key = newKey("fail-big");
        await expectAppError(
          store.put(key, nodeBody(big), { expectedSize: big.length, expectedSha256: sha256(Buffer.alloc(1)) }),
          "checksum_mismatch",
        );
        await expectNothingLeft(key);
      });

      it("an abort mid-stream stops reading the body and keeps nothing", async () => {
        const key = newKey("abort");
        const ac = new AbortController();
        const state = { produced: 0, closed: false };
        const body = Readable.from(
          (async function* () {
            try {
              for (;;) {
                state.produced += 64 * 1024;
                yield randomBytes(64 * 1024);
                await new Promise((r) => setTimeout(r, 1));
              }
            } finally {
              state.closed = true;
            }
          })(),
        );
        let seen = 0;
        const p = store.put(key, body, {
          signal: ac.signal,
          onChunk: (c) => {
            seen += c.length;
            if (seen >= 512 * 1024) ac.abort();
          },
        });
        const e = await p.then(
          () => undefined,
          (err: unknown) => err,
        );
        expect(e).toBeInstanceOf(Error);
        await new Promise((r) => setTimeout(r, 20));
        expect(state.closed).toBe(true);
        await expectNothingLeft(key);
      });

      it("an already aborted signal fails before reading", async () => {
        const key = newKey("aborted");
        const { body, state } = untouchableBody();
        const ac = new AbortController();
        ac.abort();
        await expect(store.put(key, body, { signal: ac.signal })).rejects.toBeInstanceOf(Error);
        expect(state.read).toBe(false);
        await expectNothingLeft(key);
      });

      it("an onChunk that throws fails the put", async () => {
        const key = newKey("onchunk-throws");
        const boom = new AppError("invalid_model_file", "not a model");
        await expectAppError(
          store.put(key, nodeBody(data), {
            onChunk: () => {
              throw boom;
            },
          }),
          "invalid_model_file",
        );
        await expectNothingLeft(key);
      });
    });

    describe("invalid keys are rejected before any I/O", () => {
      it.each(HOSTILE_KEYS)("%s", async (_label, key) => {
        const { body, state } = untouchableBody();
        await expectAppError(store.put(key, body), "bad_request");
        expect(state.read).toBe(false);
        await expectAppError(store.get(key), "bad_request");
        await expectAppError(store.stat(key), "bad_request");
        await expectAppError(store.delete(key), "bad_request");
        if (h.listTemp) expect(await h.listTemp()).toEqual([]);
      });

      it("list() rejects a hostile prefix", async () => {
        const iterate = async (prefix: string) => {
          for await (const _ of store.list(prefix)) void _;
        };
        await expectAppError(iterate("../"), "bad_request");
        await expectAppError(iterate("/abs"), "bad_request");
      });
    });

    describe("delete and list", () => {
      it("delete is idempotent and says whether it removed something", async () => {
        const key = newKey("del");
        expect(await store.delete(key)).toBe(false);
        await store.put(key, nodeBody(randomBytes(10)));
        expect(await store.delete(key)).toBe(true);
        expect(await store.delete(key)).toBe(false);
        expect(await store.stat(key)).toBeNull();
      });

      it("lists by folder and by partial name", async () => {
        const dir = `${root}/list-${++n}`;
        const keys = [`${dir}/a/one.bin`, `${dir}/a/two.bin`, `${dir}/b/three.bin`];
        for (const k of keys) {
          created.add(k);
          await store.put(k, nodeBody(randomBytes(5)));
        }
        const ls = async (prefix: string) => {
          const out: string[] = [];
          for await (const s of store.list(prefix)) {
            expect(s.size).toBe(5);
            out.push(s.key);
          }
          return out.sort();
        };
        expect(await ls(`${dir}/`)).toEqual([...keys].sort());
        expect(await ls(`${dir}/a/`)).toEqual([`${dir}/a/one.bin`, `${dir}/a/two.bin`]);
        expect(await ls(`${dir}/a/t`)).toEqual([`${dir}/a/two.bin`]);
        expect(await ls(`${dir}/nothing/`)).toEqual([]);
      });
    });

    it("streams 20 MiB without buffering it", async () => {
      const key = newKey("big");
      const m = await putAndMeasure(store, key, 20 * MiB);
      const budget = h.memoryBudgetBytes ?? 8 * MiB;
      console.info(
        `[contract ${name}] 20 MiB put: peak live ArrayBuffer growth ${(m.peakArrayBuffers / MiB).toFixed(1)} MiB (budget ${budget / MiB} MiB), rss growth ${(m.peakRss / MiB).toFixed(1)} MiB${m.gcAvailable ? "" : " (no gc(): loose)"}`,
      );
      expect(m.put.size).toBe(20 * MiB);
      expect(m.put.sha256).toBe(m.sha256);
      expect(m.peakArrayBuffers).toBeLessThan(m.gcAvailable ? budget : 20 * MiB);
      const back = createHash("sha256");
      for await (const c of (await store.get(key)).stream) back.update(c as Buffer);
      expect(back.digest("hex")).toBe(m.sha256);
    });

    it("ping reports ok", async () => {
      expect((await store.ping()).ok).toBe(true);
    });
  });
}
