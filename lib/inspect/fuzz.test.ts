import { describe, expect, it } from "vitest";
import { walkPickle } from "./pickle/walker";
import { sniff } from "./sniff";
import { fixture, inspectBytes, inspectStored, prng, readManifest } from "./test-support";

/**
 * Deterministic mutation fuzzing of every fixture: bit flips, truncations, splices, insertions,
 * deletions and extreme length fields. Every case must finish quickly without throwing, return a
 * bounded result, and never call a pickle safe when a fresh walk cannot complete it.
 */

// INSPECT_FUZZ_CASES=500 npx vitest run lib/inspect/fuzz.test.ts fuzzes deeper locally.
const CASES_PER_FIXTURE = Number(process.env.INSPECT_FUZZ_CASES ?? 10);
const FORMATS = new Set(["pickle", "joblib", "pytorch-zip", "pytorch-legacy", "hdf5-keras", "hdf5", "xgboost-binary", "xgboost-json", "xgboost-ubj", "lightgbm-text", "safetensors", "onnx", "gguf", "llm-config-json", "timeseries-config-json", "unknown"]);
const VERDICTS = new Set(["safe", "suspicious", "dangerous", "invalid"]);

// Argument sizes per opcode, as pickletools.genops knows them: an independent check of framing only.
const FIXED: Record<number, number> = { 0x4a: 4, 0x4b: 1, 0x4d: 2, 0x47: 8, 0x68: 1, 0x6a: 4, 0x71: 1, 0x72: 4, 0x80: 1, 0x82: 1, 0x83: 2, 0x84: 4, 0x95: 8 };
const LEN: Record<number, number> = { 0x54: 4, 0x55: 1, 0x58: 4, 0x8c: 1, 0x8d: 8, 0x42: 4, 0x43: 1, 0x8e: 8, 0x96: 8, 0x8a: 1, 0x8b: 4 };
const LINES: Record<number, number> = { 0x46: 1, 0x49: 1, 0x4c: 1, 0x50: 1, 0x53: 1, 0x56: 1, 0x67: 1, 0x70: 1, 0x63: 2, 0x69: 2 };
const NOARG = new Set([0x28, 0x2e, 0x30, 0x31, 0x32, 0x4e, 0x51, 0x52, 0x61, 0x62, 0x64, 0x7d, 0x65, 0x6c, 0x5d, 0x6f, 0x73, 0x74, 0x29, 0x75, 0x81, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8f, 0x90, 0x91, 0x92, 0x93, 0x94, 0x97, 0x98]);

/** Walks opcodes up to the first STOP like pickletools.genops; false when that cannot be done. */
function referenceWalk(b: Uint8Array): boolean {
  let p = 0;
  const le = (o: number, n: number) => {
    let v = 0;
    for (let i = n - 1; i >= 0; i--) v = v * 256 + b[o + i]!;
    return v;
  };
  while (p < b.length) {
    const op = b[p++]!;
    if (op === 0x2e) return true;
    if (NOARG.has(op)) continue;
    if (FIXED[op] !== undefined) p += FIXED[op]!;
    else if (LEN[op] !== undefined) {
      const n = LEN[op]!;
      if (p + n > b.length) return false;
      p += n + le(p, n);
    } else if (LINES[op] !== undefined) {
      for (let i = 0; i < LINES[op]!; i++) {
        const nl = b.indexOf(10, p);
        if (nl < 0) return false;
        p = nl + 1;
      }
    } else return false;
  }
  return false;
}

function mutate(src: Uint8Array, rnd: () => number, donor: Uint8Array): [string, Uint8Array] {
  const pick = (n: number) => Math.floor(rnd() * n);
  const b = src.slice();
  const kind = pick(7);
  switch (kind) {
    case 0: {
      const flips = 1 + pick(8);
      for (let i = 0; i < flips && b.length; i++) b[pick(b.length)]! ^= 1 << pick(8);
      return ["bitflip", b];
    }
    case 1:
      return ["truncate", b.subarray(0, pick(b.length + 1))];
    case 2: {
      if (!b.length || !donor.length) return ["noop", b];
      const len = 1 + pick(Math.min(256, donor.length));
      const from = pick(donor.length - len + 1);
      const at = pick(b.length);
      b.set(donor.subarray(from, from + len).subarray(0, b.length - at), at);
      return ["splice", b];
    }
    case 3: {
      const at = pick(b.length + 1);
      const ins = Uint8Array.from({ length: 1 + pick(64) }, () => pick(256));
      const out = new Uint8Array(b.length + ins.length);
      out.set(b.subarray(0, at));
      out.set(ins, at);
      out.set(b.subarray(at), at + ins.length);
      return ["insert", out];
    }
    case 4: {
      const at = pick(b.length + 1);
      const len = pick(Math.max(1, Math.min(512, b.length - at)));
      const out = new Uint8Array(b.length - len);
      out.set(b.subarray(0, at));
      out.set(b.subarray(at + len), at);
      return ["delete", out];
    }
    case 5: {
      if (b.length < 8) return ["noop", b];
      const at = pick(b.length - 7);
      const extremes = [[0xff, 0xff, 0xff, 0xff], [0xff, 0xff, 0xff, 0x7f], [0, 0, 0, 0x80], [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], [0, 0, 0, 0, 0, 0, 0, 1]];
      b.set(extremes[pick(extremes.length)]!, at);
      return ["extreme-length", b];
    }
    default: {
      const at = pick(b.length + 1);
      const len = pick(Math.min(1024, b.length - at) + 1);
      const out = new Uint8Array(b.length + len);
      out.set(b.subarray(0, at + len));
      out.set(b.subarray(at), at + len);
      return ["duplicate", out];
    }
  }
}

const manifest = readManifest();
const cases = manifest.flatMap((e, fi) =>
  Array.from({ length: CASES_PER_FIXTURE }, (_, k) => {
    const seed = 0x5eed0000 + fi * 101 + k;
    // the mutation is computed once here only for the test name; the case re-derives it from the seed
    const make = () => mutate(fixture(e.file), prng(seed), fixture(manifest[(fi + 1 + k) % manifest.length]!.file));
    return { name: `${e.file} #${k} ${make()[0]}`, file: e.file, make, seed, stored: k % 2 === 1 };
  }),
);

describe("fuzzed fixtures", () => {
  it.each(cases.map((c) => [c.name, c] as const))(
    "%s",
    async (_n, c) => {
      const [, bytes] = c.make();
      const chunk = prng(c.seed ^ 0xabcdef);
      const buffersBefore = process.memoryUsage().arrayBuffers;
      const t0 = performance.now();
      const r = c.stored ? await inspectStored(bytes, c.file, 1 + Math.floor(chunk() * 8192)) : await inspectBytes(bytes, c.file, () => 1 + Math.floor(chunk() * 4096));
      expect(performance.now() - t0).toBeLessThan(2000);
      // nothing sized from a declared length: the inspector keeps a head buffer of at most a few MiB
      expect(process.memoryUsage().arrayBuffers - buffersBefore).toBeLessThan(64 * 1024 * 1024);
      expect(FORMATS.has(r.format)).toBe(true);
      expect(VERDICTS.has(r.verdict)).toBe(true);
      expect(JSON.stringify(r).length).toBeLessThan(256 * 1024);
      if (sniff(bytes.subarray(0, 4096), true).kind === "pickle") {
        const fresh = walkPickle(bytes);
        if (!fresh.complete) expect(r.verdict).not.toBe("safe");
        const joblibOrLegacy = fresh.joblibArrays > 0 || fresh.legacyTorch;
        if (!joblibOrLegacy && !referenceWalk(bytes)) expect(r.verdict).not.toBe("safe");
      }
    },
    2000,
  );
});
