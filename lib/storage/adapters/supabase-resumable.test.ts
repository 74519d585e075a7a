// Our tus endpoint streams each chunk on to Storage's resumable upload through a Transform that hashes
// and inspects it (lib/http/tus-supabase-store.ts). When that Transform refuses the chunk that would
// complete the object (wrong SHA-256), the client must hear that refusal — on the real Storage server
// it came back as 503 "interrupted", because the refusal was an AppError from another server chunk
// (Next bundles lib/errors more than once) and `instanceof` did not recognise it.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { Readable, Transform } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AppError } from "@/lib/errors";
import { createResumableSession } from "./supabase-resumable";

/** An AppError as another bundled copy of lib/errors makes it: the brand, not this class. */
const BRAND: unique symbol = Symbol.for("fairmind.AppError") as never;
class AppErrorFromAnotherChunk extends Error {
  readonly [BRAND] = true;
  readonly status = 422;
  readonly code = "checksum_mismatch";
}

describe("resumable session: append", () => {
  let server: http.Server;
  let base: string;

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      req.resume();
      req.on("end", () => res.writeHead(204, { "upload-offset": "1048576" }).end());
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/storage/v1`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  const session = () => createResumableSession({ storageUrl: base, bucket: "ai-models", anonKey: "anon", token: async () => "t", fetch });

  /** 16 chunks of 64 KiB; the Transform refuses the last with `error`. */
  const refusingBody = (error: Error) => {
    let n = 0;
    const through = new Transform({
      transform: (c: Buffer, _e, cb) => (++n === 16 ? cb(error) : cb(null, c)),
    });
    return Readable.from(
      (function* () {
        for (let i = 0; i < 16; i++) yield Buffer.alloc(65536);
      })(),
    ).pipe(through);
  };

  it.each([
    ["this module's AppError", () => new AppError("checksum_mismatch", "The SHA-256 does not match.")],
    ["an AppError from another bundled chunk", () => new AppErrorFromAnotherChunk("The SHA-256 does not match.")],
  ])("a chunk our side refuses reports that refusal (%s), not 'interrupted'", async (_what, make) => {
    const err = await session()
      .append(`${base}/upload/resumable/abc`, 0, refusingBody(make()))
      .then(
        () => undefined,
        (e: unknown) => e as { code?: string; status?: number },
      );
    expect({ code: err?.code, status: err?.status }).toEqual({ code: "checksum_mismatch", status: 422 });
  });

  it("a chunk that goes through answers Storage's new offset", async () => {
    const body = Readable.from([Buffer.alloc(1024)]);
    expect(await session().append(`${base}/upload/resumable/abc`, 0, body)).toBe(1048576);
  });
});
