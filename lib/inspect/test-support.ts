import fs from "node:fs";
import path from "node:path";
import { createInspector } from "./inspect";
import { OP } from "./pickle/opcodes";
import type { InspectionResult } from "./types";

/** Test helpers: fixture access, chunked streaming, and a tiny byte assembler for hand-built files. */

export const FIXTURES = path.resolve(process.cwd(), "test/fixtures/models");

export interface ManifestEntry {
  file: string;
  format: string;
  framework: string;
  expected_scan: "safe" | "suspicious" | "dangerous" | "n/a";
  dangerous_globals: string[];
  size_bytes: number;
  notes: string;
}

export function readManifest(): ManifestEntry[] {
  return JSON.parse(fs.readFileSync(path.join(FIXTURES, "MANIFEST.json"), "utf8")) as ManifestEntry[];
}

export function fixture(name: string): Uint8Array {
  return new Uint8Array(fs.readFileSync(path.join(FIXTURES, name)));
}

/** Streams bytes through createInspector in fixed or PRNG-chosen chunk sizes, without readRange. */
export async function inspectBytes(
  bytes: Uint8Array,
  fileName: string,
  chunk: number | (() => number) = 7,
  size?: number,
): Promise<InspectionResult> {
  const ins = createInspector({ fileName, size });
  for (let i = 0; i < bytes.length;) {
    const n = Math.max(1, typeof chunk === "number" ? chunk : chunk());
    ins.write(bytes.subarray(i, i + n));
    i += n;
  }
  return ins.end();
}

/** Same, but with a readRange over the in-memory bytes (what a stored file gets). */
export async function inspectStored(bytes: Uint8Array, fileName: string, chunk = 64 * 1024): Promise<InspectionResult> {
  const ins = createInspector({
    fileName,
    size: bytes.length,
    readRange: async (s, e) => bytes.slice(s, Math.min(e, bytes.length)),
  });
  for (let i = 0; i < bytes.length; i += chunk) ins.write(bytes.subarray(i, i + chunk));
  return ins.end();
}

export type Part = number | number[] | string | Uint8Array;

/** Concatenates bytes, byte arrays, Latin-1 strings and Uint8Arrays. */
export function bytes(...parts: Part[]): Uint8Array {
  const out: number[] = [];
  for (const p of parts) {
    if (typeof p === "number") out.push(p);
    else if (typeof p === "string") for (let i = 0; i < p.length; i++) out.push(p.charCodeAt(i) & 0xff);
    else out.push(...p);
  }
  return Uint8Array.from(out);
}

export function u32(n: number): number[] {
  return [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff];
}

export function u64(n: number | bigint): number[] {
  const v = BigInt(n);
  return Array.from({ length: 8 }, (_, i) => Number((v >> BigInt(8 * i)) & 0xffn));
}

/** SHORT_BINUNICODE for ASCII text. */
export function sbu(s: string): number[] {
  return [OP.SHORT_BINUNICODE, s.length, ...Array.from(s, (c) => c.charCodeAt(0))];
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Deterministic PRNG (mulberry32) for fuzzing. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
