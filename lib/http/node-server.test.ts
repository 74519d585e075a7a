import http from "node:http";
import net from "node:net";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tuneNodeServer } from "./node-server";

/** Writes `request` in one go and reads until the server closes; a reset is reported, not thrown. */
function exchange(port: number, request: string): Promise<{ text: string; error?: string }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const socket = net.connect(port, "127.0.0.1", () => socket.write(request));
    socket.on("data", (c: Buffer) => chunks.push(c));
    socket.on("error", (e: NodeJS.ErrnoException) => resolve({ text: Buffer.concat(chunks).toString(), error: e.code }));
    socket.on("close", () => resolve({ text: Buffer.concat(chunks).toString() }));
  });
}

describe("tuneNodeServer: requests Node's HTTP parser refuses", () => {
  let server: http.Server;
  let port: number;
  beforeAll(async () => {
    tuneNodeServer(http);
    server = http.createServer((_req, res) => res.end("ok"));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it("answers an oversized request line with a whole 431 the client can read, never a reset", async () => {
    // Far more than the parser reads before it gives up: the rest is still unread when it answers,
    // and closing a socket with unread bytes makes the kernel reset the connection (which can
    // discard the answer before the client reads it).
    for (let i = 0; i < 20; i++) {
      const got = await exchange(port, `GET /?q=${"a".repeat(400_000)} HTTP/1.1\r\nHost: x\r\n\r\n`);
      expect(got.error, `try ${i}`).toBeUndefined();
      expect(got.text).toMatch(/^HTTP\/1\.1 431 /);
      const body = JSON.parse(got.text.slice(got.text.indexOf("\r\n\r\n") + 4)) as { error: { code: string } };
      expect(body.error.code).toBe("bad_request");
    }
  });

  it("answers oversized headers with 431 and a malformed request with 400, both as JSON errors", async () => {
    const big = await exchange(port, `GET / HTTP/1.1\r\nHost: x\r\nX-Padding: ${"p".repeat(40_000)}\r\n\r\n`);
    expect(big.text).toMatch(/^HTTP\/1\.1 431 /);
    expect(big.text.toLowerCase()).toContain("content-type: application/json");
    const bad = await exchange(port, "GET / HTTP/1.1\r\nHost x\r\n\r\n");
    expect(bad.text).toMatch(/^HTTP\/1\.1 400 /);
    expect(bad.text).toContain('"code":"bad_request"');
  });

  it("still serves ordinary requests", async () => {
    const got = await exchange(port, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    expect(got.text).toMatch(/^HTTP\/1\.1 200 /);
    expect(got.text.endsWith("ok")).toBe(true);
  });
});
