// Helpers of the BlobStore contract suite (blob-store.contract.ts): bodies, reads, memory measurement.
import { createHash, randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import v8 from "node:v8";
import vm from "node:vm";
import { expect } from "vitest";
import { AppError } from "@/lib/errors";
import type { BlobStore } from "../blob-store";

export const MiB = 1024 * 1024;

export const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

/** A Node Readable over `buf` in `chunk`-sized copies (like a request body). */
export function nodeBody(buf: Buffer, chunk = 64 * 1024): Readable {
  return Readable.from(
    (function* () {
      for (let i = 0; i < buf.length; i += chunk) yield Buffer.from(buf.subarray(i, i + chunk));
    })(),
  );
}

/** A web ReadableStream over `buf`, pulled on demand. */
export function webBody(buf: Buffer, chunk = 64 * 1024): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (i >= buf.length) return controller.close();
      controller.enqueue(new Uint8Array(buf.subarray(i, i + chunk)));
      i += chunk;
    },
  });
}

export async function readAll(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of stream) parts.push(Buffer.from(c as Uint8Array));
  return Buffer.concat(parts);
}

export async function expectAppError(p: Promise<unknown>, code: AppError["code"]): Promise<AppError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e, `expected AppError("${code}")`).toBeInstanceOf(AppError);
  expect((e as AppError).code).toBe(code);
  return e as AppError;
}

/** A body that records whether anyone read from it. */
export function untouchableBody() {
  const state = { read: false };
  const body = new Readable({
    read() {
      state.read = true;
      this.push(null);
    },
  });
  return { body, state };
}

/** The keys a store must refuse before any I/O (see lib/storage/object-key.test.ts for the full table). */
export const HOSTILE_KEYS: [string, string][] = [
  ["empty", ""],
  ["absolute", "/etc/passwd"],
  ["dot-dot", "../escape.bin"],
  ["inner dot-dot", "a/../../b.bin"],
  ["dot segment", "a/./b.bin"],
  ["empty segment", "a//b.bin"],
  ["backslash", "a\\..\\b.bin"],
  ["NUL", "a/b\u0000.bin"],
  ["percent-encoded dots", "%2e%2e/x.bin"],
  ["one-dot leaders", "\u2024\u2024/x.bin"],
  ["fullwidth dots", "\uff0e\uff0e/x.bin"],
  ["division slash", "a\u2215..\u2215b.bin"],
  ["RTL override", "a/\u202egnp.bin"],
  ["temp dir", ".tmp/x.bin"],
  ["trailing dot", "a/b.bin."],
  ["too long", `a/${"x".repeat(1100)}.bin`],
];

export function getGc(): (() => void) | undefined {
  const existing = (globalThis as { gc?: () => void }).gc;
  if (existing) return existing;
  try {
    v8.setFlagsFromString("--expose-gc");
    return vm.runInNewContext("gc") as () => void;
  } catch {
    return undefined;
  }
}

/**
 * Puts `size` random bytes (256 KiB chunks, made as they are pulled) and samples live memory after
 * a gc() every MiB: if the store buffered the body, the ArrayBuffer peak would approach `size`.
 */
export async function putAndMeasure(store: BlobStore, key: string, size: number) {
  const gc = getGc();
  const chunk = 256 * 1024;
  const hash = createHash("sha256");
  // Let earlier tests' buffers go first, or their release would hide this put's growth.
  for (let i = 0; i < 3; i++) {
    await new Promise((r) => setTimeout(r, 20));
    gc?.();
  }
  const base = process.memoryUsage();
  let peakArrayBuffers = 0;
  let peakRss = 0;
  const sample = async () => {
    // Two passes around a macrotask: V8 frees ArrayBuffer memory on a background sweeper.
    gc?.();
    await new Promise((r) => setImmediate(r));
    gc?.();
    const m = process.memoryUsage();
    peakArrayBuffers = Math.max(peakArrayBuffers, m.arrayBuffers - base.arrayBuffers);
    peakRss = Math.max(peakRss, m.rss - base.rss);
  };
  const body = Readable.from(
    (async function* () {
      for (let sent = 0; sent < size; sent += chunk) {
        if (sent % MiB === 0) await sample();
        const c = randomBytes(Math.min(chunk, size - sent));
        hash.update(c);
        yield c;
      }
    })(),
  );
  const put = await store.put(key, body, { expectedSize: size });
  await sample();
  return { put, sha256: hash.digest("hex"), peakArrayBuffers, peakRss, gcAvailable: gc !== undefined };
}
