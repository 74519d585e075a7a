// A test of OUR side of the Supabase adapter — error mapping, Range and header building, upload
// wiring — NOT a test of Supabase. The local HTTP server below answers the shapes documented in
// /work/shared/reference/supabase-storage-openapi.json (errors: HTTP 400 with the real status in
// `statusCode`), and a stock tus server (@tus/server) stands in for the resumable endpoint. The
// real service is exercised by supabase.test.ts (the contract suite) when credentials are set.
import { createHash, randomBytes, randomUUID } from "node:crypto";
import fs from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { FileStore } from "@tus/file-store";
import { Server as TusServer } from "@tus/server";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";

import type { BlobStore } from "../blob-store";
import { expectAppError, nodeBody, putAndMeasure, readAll, sha256 } from "./blob-store.contract-helpers";
import { createSupabaseBlobStore } from "./supabase";

const MiB = 1024 * 1024;

// ---------------------------------------------------------------------------------------------

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  bytes: number;
  sha256?: string;
  completed: boolean;
}

const OBJECT = randomBytes(1000);
const error = (statusCode: string, code: string, err: string, message: string) => JSON.stringify({ statusCode, code, error: err, message });

describe("Supabase adapter wiring against a local server (our code, not Supabase)", () => {
  let server: http.Server;
  let base: string;
  let tusDir: string;
  const seen: Seen[] = [];
  const tusEvents: {
    created: Record<string, string | null>[];
    finished: string[];
    patchSizes: number[];
    deletes: number;
    createHeaders: Headers[];
  } = {
    created: [],
    finished: [],
    patchSizes: [],
    deletes: 0,
    createHeaders: [],
  };
  let store: BlobStore;

  beforeAll(async () => {
    tusDir = await fs.mkdtemp(path.join(os.tmpdir(), "fairmind-tus-"));
    const tus = new TusServer({
      path: "/storage/v1/upload/resumable",
      datastore: new FileStore({ directory: tusDir }),
      async onUploadCreate(req, upload) {
        tusEvents.created.push(upload.metadata ?? {});
        tusEvents.createHeaders.push(req.headers);
        if (upload.metadata?.objectName === "demo_org/exists-big.bin")
          throw { status_code: 409, body: error("409", "KeyAlreadyExists", "Duplicate", "The resource already exists") };
        return {};
      },
      async onUploadFinish(_req, upload) {
        tusEvents.finished.push(upload.id);
        return {};
      },
    });

    server = http.createServer((req, res) => {
      const url = new URL(req.url!, "http://x");
      if (url.pathname.startsWith("/storage/v1/upload/resumable")) {
        if (req.method === "PATCH") tusEvents.patchSizes.push(Number(req.headers["content-length"]));
        if (req.method === "DELETE") tusEvents.deletes++;
        void tus.handle(req, res);
        return;
      }
      const rec: Seen = { method: req.method!, url: url.pathname, headers: req.headers, bytes: 0, completed: false };
      seen.push(rec);
      const key = decodeURIComponent(url.pathname.replace(/^\/storage\/v1\/object\/(authenticated\/)?ai-models\//, ""));
      const reply = (status: number, body: string | Buffer, headers: http.OutgoingHttpHeaders = {}) => {
        res.writeHead(status, { "content-type": typeof body === "string" ? "application/json" : "application/octet-stream", ...headers });
        res.end(body);
      };

      if (req.method === "GET") {
        if (key === "demo_org/missing.bin") return reply(400, error("404", "NoSuchKey", "not_found", "Object not found"));
        if (key === "demo_org/real416.bin") return reply(416, "");
        const range = /^bytes=(\d+)-(\d*)$/.exec(String(req.headers.range ?? ""));
        if (key === "demo_org/norange.bin" || !range) return reply(200, OBJECT, { "content-length": OBJECT.length });
        const start = Number(range[1]);
        if (start >= OBJECT.length) return reply(400, error("400", "InvalidRange", "invalid_range", "invalid range provided"));
        const end = Math.min(range[2] ? Number(range[2]) : OBJECT.length - 1, OBJECT.length - 1);
        return reply(206, OBJECT.subarray(start, end + 1), { "content-range": `bytes ${start}-${end}/${OBJECT.length}` });
      }
      if (req.method === "POST") {
        // Rejections before reading the body, like RLS or an existing key answered up front.
        if (key === "demo_org/exists.bin") return reply(400, error("409", "KeyAlreadyExists", "Duplicate", "The resource already exists"));
        if (key === "demo_org/rls.bin")
          return reply(400, error("403", "AccessDenied", "Unauthorized", "new row violates row-level security policy"));
        const hash = createHash("sha256");
        req.on("data", (c: Buffer) => {
          rec.bytes += c.length;
          hash.update(c);
        });
        req.on("end", () => {
          rec.completed = true;
          rec.sha256 = hash.digest("hex");
          reply(200, JSON.stringify({ Key: `ai-models/${key}`, Id: randomUUID() }));
        });
        return;
      }
      reply(400, error("400", "InvalidRequest", "invalid", "unexpected request"));
    });
    // Keep-alive on, as a real server has it: a stuck socket would show as a slow next request.
    server.keepAliveTimeout = 60_000;
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    await fs.rm(tusDir, { recursive: true, force: true });
  });

  beforeEach(() => {
    seen.length = 0;
    store = createSupabaseBlobStore({ url: `${base}/`, anonKey: "anon-key", accessToken: "user-token", bucket: "ai-models" });
  });

  describe("get", () => {
    it("sends Range, authorization and apikey to /object/authenticated and reads Content-Range", async () => {
      const got = await store.get("demo_org/ranged.bin", { range: { start: 10, end: 19 } });
      expect({ size: got.size, start: got.start, end: got.end }).toEqual({ size: 1000, start: 10, end: 19 });
      expect((await readAll(got.stream)).equals(OBJECT.subarray(10, 20))).toBe(true);
      expect(seen[0]).toMatchObject({ method: "GET", url: "/storage/v1/object/authenticated/ai-models/demo_org/ranged.bin" });
      expect(seen[0]!.headers).toMatchObject({ range: "bytes=10-19", authorization: "Bearer user-token", apikey: "anon-key" });
    });

    it("asks for an open-ended range as bytes=<start>-", async () => {
      const got = await store.get("demo_org/ranged.bin", { range: { start: 990 } });
      expect(seen[0]!.headers.range).toBe("bytes=990-");
      expect({ start: got.start, end: got.end }).toEqual({ start: 990, end: 999 });
    });

    it("maps the 400-with-statusCode-404 body to not_found", async () => {
      await expectAppError(store.get("demo_org/missing.bin"), "not_found");
    });

    it("maps InvalidRange (upstream 400) and a real 416 to range_not_satisfiable", async () => {
      await expectAppError(store.get("demo_org/ranged.bin", { range: { start: 1000 } }), "range_not_satisfiable");
      await expectAppError(store.get("demo_org/real416.bin", { range: { start: 5 } }), "range_not_satisfiable");
    });

    it("cuts the range itself when the server ignores Range", async () => {
      const got = await store.get("demo_org/norange.bin", { range: { start: 100, end: 149 } });
      expect({ size: got.size, start: got.start, end: got.end }).toEqual({ size: 1000, start: 100, end: 149 });
      expect((await readAll(got.stream)).equals(OBJECT.subarray(100, 150))).toBe(true);
      await expectAppError(store.get("demo_org/norange.bin", { range: { start: 1000 } }), "range_not_satisfiable");
    });

    it("rejects hostile keys and bad ranges before any request", async () => {
      await expectAppError(store.get("../etc/passwd"), "bad_request");
      await expectAppError(store.get("demo_org/ranged.bin", { range: { start: 5, end: 2 } }), "bad_request");
      expect(seen).toHaveLength(0);
    });
  });

  describe("standard upload", () => {
    it("POSTs the bytes with x-upsert: false on a connection that is closed afterwards", async () => {
      const data = randomBytes(300_000);
      const put = await store.put("demo_org/model_v1.pkl", nodeBody(data), { expectedSize: data.length });
      expect(put).toEqual({ key: "demo_org/model_v1.pkl", size: data.length, sha256: sha256(data) });
      const req = seen.find((s) => s.method === "POST")!;
      expect(req).toMatchObject({
        url: "/storage/v1/object/ai-models/demo_org/model_v1.pkl",
        bytes: data.length,
        sha256: sha256(data),
        completed: true,
      });
      expect(req.headers).toMatchObject({
        authorization: "Bearer user-token",
        apikey: "anon-key",
        "x-upsert": "false",
        "content-type": "application/octet-stream",
        "content-length": String(data.length),
        connection: "close",
      });
    });

    it("streams a body of unknown size (chunked)", async () => {
      const data = randomBytes(100_000);
      const put = await store.put("demo_org/model_v2.json", nodeBody(data));
      expect(put.sha256).toBe(sha256(data));
      const req = seen.find((s) => s.method === "POST")!;
      expect(req.headers["transfer-encoding"]).toBe("chunked");
      expect(req.headers["content-type"]).toBe("application/json");
    });

    it("maps a rejection sent before the body is read (409) and is not slowed down by it afterwards", async () => {
      const big = randomBytes(8 * MiB);
      const t0 = Date.now();
      await expectAppError(store.put("demo_org/exists.bin", nodeBody(big)), "conflict");
      expect(Date.now() - t0).toBeLessThan(10_000);
      const t1 = Date.now();
      const got = await store.get("demo_org/ranged.bin", { range: { start: 0, end: 0 } });
      await readAll(got.stream);
      expect(Date.now() - t1).toBeLessThan(2_000);
    });

    it("maps an RLS rejection to forbidden", async () => {
      await expectAppError(store.put("demo_org/rls.bin", nodeBody(randomBytes(1000))), "forbidden");
    });

    it.each([
      ["checksum mismatch", { expectedSha256: "0".repeat(64) }, "checksum_mismatch"],
      ["shorter than announced", { expectedSize: 300_001 }, "length_mismatch"],
      ["longer than announced", { expectedSize: 299_999 }, "length_mismatch"],
      ["over maxBytes", { maxBytes: 200_000 }, "payload_too_large"],
    ] as const)("never lets the server see a complete body that fails verification (%s)", async (_label, opts, code) => {
      const data = randomBytes(300_000);
      await expectAppError(store.put("demo_org/bad_v1.pkl", nodeBody(data, 16 * 1024), opts), code);
      await new Promise((r) => setTimeout(r, 50));
      for (const req of seen.filter((s) => s.method === "POST")) {
        expect(req.completed).toBe(false);
        expect(req.bytes).toBeLessThan(data.length);
      }
    });
  });

  describe("resumable (tus) upload", () => {
    beforeEach(() => {
      tusEvents.created.length = 0;
      tusEvents.finished.length = 0;
      tusEvents.patchSizes.length = 0;
      tusEvents.createHeaders.length = 0;
      tusEvents.deletes = 0;
    });

    it("sends bodies over 6 MiB in 6 MiB chunks with Supabase's metadata and headers", async () => {
      const data = randomBytes(13 * MiB);
      const put = await store.put("demo_org/big_v1.safetensors", nodeBody(data), {
        expectedSize: data.length,
        expectedSha256: sha256(data),
      });
      expect(put).toEqual({ key: "demo_org/big_v1.safetensors", size: data.length, sha256: sha256(data) });
      expect(tusEvents.created).toEqual([
        {
          bucketName: "ai-models",
          objectName: "demo_org/big_v1.safetensors",
          contentType: "application/octet-stream",
          cacheControl: "3600",
        },
      ]);
      const h = tusEvents.createHeaders[0]!;
      expect(h.get("authorization")).toBe("Bearer user-token");
      expect(h.get("apikey")).toBe("anon-key");
      expect(h.get("x-upsert")).toBe("false");
      expect(tusEvents.patchSizes).toEqual([6 * MiB, 6 * MiB, 1 * MiB]);
      expect(tusEvents.finished).toHaveLength(1);
      const file = (await fs.readdir(tusDir)).find((f) => !f.endsWith(".json"))!;
      expect(sha256(await fs.readFile(path.join(tusDir, file)))).toBe(sha256(data));
      await fs.rm(path.join(tusDir, file));
      await fs.rm(path.join(tusDir, `${file}.json`), { force: true });
    });

    it("never completes and terminates the upload when verification fails", async () => {
      const data = randomBytes(7 * MiB);
      await expectAppError(
        store.put("demo_org/bad_v2.gguf", nodeBody(data), { expectedSize: data.length, expectedSha256: "0".repeat(64) }),
        "checksum_mismatch",
      );
      await new Promise((r) => setTimeout(r, 100));
      expect(tusEvents.created).toHaveLength(1);
      expect(tusEvents.finished).toHaveLength(0);
      expect(tusEvents.deletes).toBe(1);
    });

    it("fails fast on a body shorter than announced", async () => {
      const data = randomBytes(7 * MiB);
      await expectAppError(store.put("demo_org/short_v1.gguf", nodeBody(data), { expectedSize: data.length + 1 }), "length_mismatch");
      expect(tusEvents.finished).toHaveLength(0);
    });

    it("an abort mid-upload terminates it and reports the abort", async () => {
      const ac = new AbortController();
      let seenBytes = 0;
      const e = await expectAppError(
        store.put("demo_org/aborted_v1.gguf", nodeBody(randomBytes(13 * MiB)), {
          expectedSize: 13 * MiB,
          signal: ac.signal,
          onChunk: (c) => {
            seenBytes += c.length;
            if (seenBytes >= 8 * MiB) ac.abort();
          },
        }),
        "bad_request",
      );
      expect(e.details).toEqual({ aborted: true });
      await new Promise((r) => setTimeout(r, 100));
      expect(tusEvents.finished).toHaveLength(0);
      // tus retries the termination while the aborted PATCH still holds the upload's lock.
      expect(tusEvents.deletes).toBeGreaterThanOrEqual(1);
    });

    it("maps a 409 at creation to conflict without retrying", async () => {
      await expectAppError(store.put("demo_org/exists-big.bin", nodeBody(randomBytes(7 * MiB)), { expectedSize: 7 * MiB }), "conflict");
      expect(tusEvents.created).toHaveLength(1);
      expect(tusEvents.finished).toHaveLength(0);
    });

    it("keeps memory bounded: 20 MiB through tus", async () => {
      const m = await putAndMeasure(store, "demo_org/mem_v1.bin", 20 * MiB);
      console.info(
        `[wiring] 20 MiB tus put: peak live ArrayBuffer growth ${(m.peakArrayBuffers / MiB).toFixed(1)} MiB, rss ${(m.peakRss / MiB).toFixed(1)} MiB`,
      );
      expect(m.put.sha256).toBe(m.sha256);
      expect(m.peakArrayBuffers).toBeLessThan(16 * MiB);
    });
  });
});
