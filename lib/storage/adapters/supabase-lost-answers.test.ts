// What the real Supabase Storage server (and a gateway in front of it) was seen to do to uploads and
// deletes, reproduced by a local HTTP server: an answer, then the socket closed under the sender; a
// 502 from a gateway that lost Storage's answer; a hang-up after the whole body arrived; a bulk
// delete that answers [] for what the caller cannot see. Our side must read each for what it is.
import { randomBytes, randomUUID } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { BlobStore } from "../blob-store";
import { expectAppError, nodeBody, sha256 } from "./blob-store.contract-helpers";
import { createSupabaseBlobStore } from "./supabase";

const MiB = 1024 * 1024;
const error = (statusCode: string, code: string, err: string, message: string) => JSON.stringify({ statusCode, code, error: err, message });
/** The object a gateway's lost answer hid: 1000 bytes, someone else's. */
const EXISTING = randomBytes(1000);

describe("Supabase adapter: answers lost with the connection, and deletes that removed nothing", () => {
  let server: http.Server;
  let store: BlobStore;
  /** Objects a hang-up route received in full: info and GET serve them. */
  const kept = new Map<string, Buffer>();

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      const url = new URL(req.url!, "http://x");
      const reply = (status: number, body: string | Buffer, headers: http.OutgoingHttpHeaders = {}) => {
        res.writeHead(status, { "content-type": typeof body === "string" ? "application/json" : "application/octet-stream", ...headers });
        res.end(body);
      };
      const keyOf = (prefix: RegExp) => decodeURIComponent(url.pathname.replace(prefix, ""));
      if (req.method === "GET" && url.pathname.includes("/object/info/")) {
        const key = keyOf(/^\/storage\/v1\/object\/info\/(authenticated\/)?ai-models\//);
        const stored = kept.get(key) ?? (key === "demo_org/exists-lost.bin" ? EXISTING : undefined);
        if (!stored) return reply(400, error("404", "NoSuchKey", "not_found", "Object not found"));
        const now = new Date().toISOString();
        return reply(200, JSON.stringify({ id: randomUUID(), name: key, size: stored.length, last_modified: now, created_at: now }));
      }
      const key = keyOf(/^\/storage\/v1\/object\/(authenticated\/)?ai-models\//);
      if (req.method === "GET") {
        const body = kept.get(key);
        return body
          ? reply(200, body, { "content-length": body.length })
          : reply(400, error("404", "NoSuchKey", "not_found", "Object not found"));
      }
      if (req.method === "POST" && key === "demo_org/exists-close.bin") {
        // As the real server was seen to: the answer before reading the body, then the socket closed.
        res.writeHead(400, { "content-type": "application/json", connection: "close" });
        res.end(error("409", "KeyAlreadyExists", "Duplicate", "The resource already exists"), () => req.socket.destroy());
        return;
      }
      if (req.method === "POST" && key === "demo_org/exists-lost.bin") {
        // A gateway that lost Storage's early 409 with the connection answers 502 of its own.
        res.writeHead(502, { "content-type": "application/json", connection: "close" });
        res.end(JSON.stringify({ message: "gateway: upstream failed: write EPIPE" }), () => req.socket.destroy());
        return;
      }
      if (req.method === "POST" && key.startsWith("demo_org/hangup")) {
        // Reads the whole body, keeps it, and hangs up without an answer.
        const parts: Buffer[] = [];
        req.on("data", (c: Buffer) => parts.push(c));
        req.on("end", () => {
          kept.set(key, Buffer.concat(parts));
          req.socket.destroy();
        });
        return;
      }
      if (req.method === "DELETE" && url.pathname === "/storage/v1/object/ai-models") {
        // Bulk delete: 200 with the rows removed — [] for keys the caller cannot see (or that are not there).
        let body = "";
        req.on("data", (c: Buffer) => (body += c.toString()));
        req.on("end", () => {
          const { prefixes } = JSON.parse(body) as { prefixes: string[] };
          const removed = prefixes.filter((k) => k.startsWith("demo_org/visible")).map((name) => ({ name, bucket_id: "ai-models" }));
          reply(200, JSON.stringify(removed));
        });
        return;
      }
      reply(400, error("400", "InvalidRequest", "invalid", "unexpected request"));
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });
  beforeEach(() => {
    kept.clear();
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    store = createSupabaseBlobStore({ url: base, anonKey: "anon-key", accessToken: "user-token", bucket: "ai-models" });
  });

  it("an answer that arrived wins over the broken pipe: 409 then a closed socket is a conflict, never 'interrupted'", async () => {
    for (const mb of [1, 2, 3, 5, 1, 2, 3, 5, 1, 2, 3, 5, 5, 5, 5, 5]) {
      await expectAppError(store.put("demo_org/exists-close.bin", nodeBody(randomBytes(mb * MiB)), { expectedSize: mb * MiB }), "conflict");
    }
  });

  it("a lost answer while the body was still going out, with an object at the key: a conflict, not 'unavailable'", async () => {
    await expectAppError(store.put("demo_org/exists-lost.bin", nodeBody(randomBytes(3 * MiB)), { expectedSize: 3 * MiB }), "conflict");
  });

  it("a lost answer after the whole body went out: the object there has our bytes, so the upload succeeded", async () => {
    const data = randomBytes(200_000);
    const put = await store.put("demo_org/hangup_v1.bin", nodeBody(data), { expectedSize: data.length });
    expect(put.sha256).toBe(sha256(data));
  });

  it("a lost answer after the whole body went out, and other bytes at the key: a conflict", async () => {
    const data = randomBytes(200_000);
    const put = store.put("demo_org/hangup_other.bin", nodeBody(data), { expectedSize: data.length });
    // Someone else's object of the same size lands at the key instead of ours.
    const t = setInterval(() => kept.has("demo_org/hangup_other.bin") && kept.set("demo_org/hangup_other.bin", randomBytes(200_000)), 1);
    await expectAppError(put, "conflict").finally(() => clearInterval(t));
  });

  it("a lost answer after the whole body went out, and nothing at the key: unavailable (and nothing to infer)", async () => {
    const put = store.put("demo_org/hangup_gone.bin", nodeBody(randomBytes(1000)), { expectedSize: 1000 });
    const t = setInterval(() => kept.delete("demo_org/hangup_gone.bin"), 1);
    await expectAppError(put, "unavailable").finally(() => clearInterval(t));
  });

  it("delete says whether an object was removed: Storage's bulk delete answers [] for what the caller cannot see", async () => {
    expect(await store.delete("demo_org/visible_v1.bin")).toBe(true);
    expect(await store.delete("demo_org/hidden_v1.bin")).toBe(false);
  });
});
