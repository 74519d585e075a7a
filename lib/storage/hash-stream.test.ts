import { createHash, randomBytes } from "node:crypto";
import { PassThrough, Readable, Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { AppError } from "@/lib/errors";
import { checkPutOptions, createHashingStream, pipeWithHash } from "./hash-stream";

const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

/** Chunks of `buf`, counting how many bytes the consumer pulled. */
function countingBody(buf: Buffer, chunk = 16 * 1024) {
  const state = { pulled: 0, closed: false };
  const body = Readable.from(
    (function* () {
      try {
        for (let i = 0; i < buf.length; i += chunk) {
          const c = Buffer.from(buf.subarray(i, i + chunk));
          state.pulled += c.length;
          yield c;
        }
      } finally {
        state.closed = true;
      }
    })(),
  );
  return { body, state };
}

/** A Writable that keeps what it receives; `delayMs` makes it slow. */
function sink(delayMs = 0) {
  const parts: Buffer[] = [];
  const w = new Writable({
    highWaterMark: 16 * 1024,
    write(c: Buffer, _e, cb) {
      parts.push(c);
      if (delayMs) setTimeout(cb, delayMs);
      else cb();
    },
  });
  return { w, received: () => Buffer.concat(parts) };
}

async function rejection(p: Promise<unknown>): Promise<AppError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(AppError);
  return e as AppError;
}

describe("pipeWithHash", () => {
  it("copies the body and returns its size and SHA-256", async () => {
    const data = randomBytes(100_000);
    const { w, received } = sink();
    const out = await pipeWithHash(countingBody(data).body, w, { expectedSize: data.length, expectedSha256: sha256(data) });
    expect(out).toEqual({ size: data.length, sha256: sha256(data) });
    expect(received().equals(data)).toBe(true);
  });

  it("reads a web ReadableStream", async () => {
    const data = randomBytes(50_000);
    const web = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(new Uint8Array(data.subarray(0, 20_000)));
        c.enqueue(new Uint8Array(data.subarray(20_000)));
        c.close();
      },
    });
    const { w, received } = sink();
    expect((await pipeWithHash(web, w)).sha256).toBe(sha256(data));
    expect(received().equals(data)).toBe(true);
  });

  it("handles an empty body", async () => {
    const { w } = sink();
    expect(await pipeWithHash(Readable.from([]), w, { expectedSize: 0 })).toEqual({ size: 0, sha256: sha256(Buffer.alloc(0)) });
  });

  it("stops at once when the body runs past expectedSize", async () => {
    const data = randomBytes(1024 * 1024);
    const { body, state } = countingBody(data);
    const e = await rejection(pipeWithHash(body, sink().w, { expectedSize: 100_000 }));
    expect(e.code).toBe("length_mismatch");
    expect(state.pulled).toBeLessThan(300_000);
    expect(state.closed).toBe(true);
  });

  it("fails at the end when the body is shorter than expectedSize", async () => {
    const data = randomBytes(10_000);
    const e = await rejection(pipeWithHash(countingBody(data).body, sink().w, { expectedSize: 10_001 }));
    expect(e.code).toBe("length_mismatch");
    expect(e.details).toMatchObject({ expected: 10_001, received: 10_000 });
  });

  it("cuts the stream off as soon as maxBytes is exceeded", async () => {
    const data = randomBytes(1024 * 1024);
    const { body, state } = countingBody(data);
    const { w, received } = sink();
    const e = await rejection(pipeWithHash(body, w, { maxBytes: 64 * 1024 }));
    expect(e.code).toBe("payload_too_large");
    expect(e.status).toBe(413);
    expect(received().length).toBeLessThanOrEqual(64 * 1024);
    expect(state.pulled).toBeLessThan(300_000);
  });

  it("rejects a body whose SHA-256 differs from the announced one", async () => {
    const data = randomBytes(10_000);
    const e = await rejection(pipeWithHash(countingBody(data).body, sink().w, { expectedSha256: sha256(Buffer.from("x")) }));
    expect(e.code).toBe("checksum_mismatch");
  });

  it("accepts an upper-case expected SHA-256", async () => {
    const data = randomBytes(1000);
    await expect(pipeWithHash(countingBody(data).body, sink().w, { expectedSha256: sha256(data).toUpperCase() })).resolves.toMatchObject({
      size: 1000,
    });
  });

  it("turns an abort into AppError and destroys the body", async () => {
    const ac = new AbortController();
    const { body, state } = countingBody(randomBytes(4 * 1024 * 1024));
    let seen = 0;
    const p = pipeWithHash(body, sink(1).w, {
      signal: ac.signal,
      onChunk: (c) => {
        seen += c.length;
        if (seen > 100_000) ac.abort();
      },
    });
    const e = await rejection(p);
    expect(e.details).toEqual({ aborted: true });
    expect(state.closed).toBe(true);
  });

  it("passes every chunk to onChunk and fails when onChunk throws", async () => {
    const data = randomBytes(100_000);
    let total = 0;
    await pipeWithHash(countingBody(data).body, sink().w, { onChunk: (c) => void (total += c.length) });
    expect(total).toBe(data.length);
    const boom = new AppError("invalid_model_file", "nope");
    await expect(
      pipeWithHash(countingBody(data).body, sink().w, {
        onChunk: () => {
          throw boom;
        },
      }),
    ).rejects.toBe(boom);
  });

  it("respects backpressure: a slow destination keeps the source from running ahead", async () => {
    const data = randomBytes(2 * 1024 * 1024);
    const { body, state } = countingBody(data);
    const { w } = sink(2);
    let maxAhead = 0;
    let written = 0;
    const tap = new PassThrough();
    tap.on("data", (c: Buffer) => {
      written += c.length;
      maxAhead = Math.max(maxAhead, state.pulled - written);
    });
    tap.pipe(w);
    await pipeWithHash(body, tap);
    // A few stream buffers (16 KiB high-water marks), never the whole 2 MiB.
    expect(maxAhead).toBeLessThan(256 * 1024);
  });

  it("rejects bad options before reading anything", async () => {
    const { body, state } = countingBody(randomBytes(1000));
    await expect(pipeWithHash(body, sink().w, { expectedSize: 2000, maxBytes: 1000 })).rejects.toMatchObject({ code: "payload_too_large" });
    expect(state.pulled).toBe(0);
  });
});

describe("checkPutOptions", () => {
  it.each([
    [{ expectedSize: -1 }, "bad_request"],
    [{ expectedSize: 1.5 }, "bad_request"],
    [{ maxBytes: Number.NaN }, "bad_request"],
    [{ expectedSha256: "abc" }, "bad_request"],
    [{ expectedSha256: "g".repeat(64) }, "bad_request"],
    [{ expectedSize: 11, maxBytes: 10 }, "payload_too_large"],
  ])("%j -> %s", (opts, code) => {
    expect(() => checkPutOptions(opts)).toThrow(expect.objectContaining({ code }));
  });

  it("accepts sane options", () => {
    expect(() => checkPutOptions({ expectedSize: 10, maxBytes: 10, expectedSha256: "A".repeat(64) })).not.toThrow();
    expect(() => checkPutOptions()).not.toThrow();
  });
});

describe("createHashingStream({ holdBackLastChunk })", () => {
  it("withholds the last chunk until the body is verified", async () => {
    const data = randomBytes(64 * 1024);
    const hasher = createHashingStream({ holdBackLastChunk: true, expectedSha256: sha256(Buffer.from("other")) });
    const got: Buffer[] = [];
    hasher.on("data", (c: Buffer) => got.push(c));
    const done = new Promise((resolve) => hasher.on("error", resolve));
    for (let i = 0; i < 4; i++) hasher.write(data.subarray(i * 16 * 1024, (i + 1) * 16 * 1024));
    hasher.end();
    await done;
    expect(Buffer.concat(got).length).toBe(48 * 1024);
    expect(hasher.outcome).toBeUndefined();
  });

  it("releases everything once verified", async () => {
    const data = randomBytes(64 * 1024);
    const hasher = createHashingStream({ holdBackLastChunk: true, expectedSha256: sha256(data), expectedSize: data.length });
    const got: Buffer[] = [];
    hasher.on("data", (c: Buffer) => got.push(c));
    const ended = new Promise((resolve) => hasher.on("end", resolve));
    for (let i = 0; i < 4; i++) hasher.write(data.subarray(i * 16 * 1024, (i + 1) * 16 * 1024));
    hasher.end();
    await ended;
    expect(Buffer.concat(got).equals(data)).toBe(true);
    expect(hasher.outcome).toEqual({ size: data.length, sha256: sha256(data) });
  });
});
