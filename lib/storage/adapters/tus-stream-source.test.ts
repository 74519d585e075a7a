import { randomBytes } from "node:crypto";
import { PassThrough, Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { TusStreamSource } from "./tus-stream-source";

const chunked = (buf: Buffer, size: number) =>
  Readable.from(
    (function* () {
      for (let i = 0; i < buf.length; i += size) yield buf.subarray(i, i + size);
    })(),
  );

describe("TusStreamSource", () => {
  it("hands out consecutive slices and the same slice again for a retry", async () => {
    const data = randomBytes(25_000);
    const src = new TusStreamSource(chunked(data, 3000), data.length);
    const a = await src.slice(0, 10_000);
    expect(a.value.equals(data.subarray(0, 10_000))).toBe(true);
    expect(a.value.size).toBe(10_000);
    expect(a.done).toBe(false);
    const retry = await src.slice(0, 10_000);
    expect(retry.value.equals(a.value)).toBe(true);
    const b = await src.slice(10_000, 20_000);
    expect(b.value.equals(data.subarray(10_000, 20_000))).toBe(true);
    const c = await src.slice(20_000, 30_000);
    expect(c.value.equals(data.subarray(20_000))).toBe(true);
    expect(c.done).toBe(true);
  });

  it("refuses to seek backwards past the chunk it holds", async () => {
    const data = randomBytes(10_000);
    const src = new TusStreamSource(chunked(data, 1000), data.length);
    await src.slice(0, 4000);
    await src.slice(4000, 8000);
    await expect(src.slice(0, 4000)).rejects.toThrow(/stream is at/);
  });

  it("returns what there is when the stream ends early", async () => {
    const data = randomBytes(5000);
    const src = new TusStreamSource(chunked(data, 1000), 8000);
    const s = await src.slice(0, 8000);
    expect(s.value.length).toBe(5000);
    expect(s.done).toBe(false);
  });

  it("rejects with the stream's error", async () => {
    const stream = new PassThrough();
    const src = new TusStreamSource(stream, 10_000);
    const p = src.slice(0, 10_000);
    stream.write(randomBytes(100));
    const boom = new Error("checksum");
    setTimeout(() => stream.destroy(boom), 5);
    await expect(p).rejects.toBe(boom);
  });

  it("close() destroys the stream", () => {
    const stream = new PassThrough();
    new TusStreamSource(stream, 1).close();
    expect(stream.destroyed).toBe(true);
  });
});
