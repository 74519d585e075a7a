import { readdir, stat } from "node:fs/promises";
import path from "node:path";
import { crc32 } from "node:zlib";
import { createInspector, inspectFile } from "./inspect";
import { OP } from "./pickle/opcodes";
import { sniffFile } from "./sniff";
import type { InspectionResult } from "./types";

/**
 * Throughput of the streaming inspector (createInspector, as during an upload) on synthetic files
 * generated on the fly. Every function returns MB/s (10^6 bytes per second) and throws if the file
 * was not judged as expected, so a fast wrong answer never counts.
 */

const MIB = 1024 * 1024;

/** Feeds `source` chunks to an inspector and times it; the source must yield its bytes in order. */
async function time(
  fileName: string,
  size: number | undefined,
  source: Iterable<Uint8Array>,
): Promise<{ seconds: number; bytes: number; result: InspectionResult }> {
  const inspector = createInspector({ fileName, size });
  let bytes = 0;
  const start = performance.now();
  for (const chunk of source) {
    inspector.write(chunk);
    bytes += chunk.length;
  }
  const result = await inspector.end();
  return { seconds: (performance.now() - start) / 1000, bytes, result };
}

function expectSafe(what: string, r: InspectionResult): void {
  if (r.verdict !== "safe") throw new Error(`${what} was not scanned cleanly: ${r.verdict} ${JSON.stringify(r.findings.slice(0, 3))}`);
}

/** Writes one dict entry: key -> (BINBYTES8 array payload, tuple of 64 BINFLOATs), like a pickled state dict. */
function encodeEntry(out: Uint8Array, at: number, index: number, arrayBytes: number): number {
  let p = at;
  const key = `layer_${index}.weight`;
  out[p++] = OP.SHORT_BINUNICODE;
  out[p++] = key.length;
  for (let i = 0; i < key.length; i++) out[p++] = key.charCodeAt(i);
  out[p++] = OP.MEMOIZE;
  out[p++] = OP.MARK;
  out[p++] = OP.BINBYTES8;
  const dv = new DataView(out.buffer, out.byteOffset);
  dv.setBigUint64(p, BigInt(arrayBytes), true);
  p += 8;
  return p;
}

function encodeStats(out: Uint8Array, at: number): number {
  let p = at;
  const dv = new DataView(out.buffer, out.byteOffset);
  for (let i = 0; i < 64; i++) {
    out[p++] = OP.BINFLOAT;
    dv.setFloat64(p, i * 0.5, false);
    p += 8;
  }
  out[p++] = OP.TUPLE; // closes the MARK before the array, so the value is (bytes, floats...)
  out[p++] = OP.SETITEM;
  return p;
}

/**
 * Big-array pickles: a protocol-4 state-dict-like mapping of 64 KiB BINBYTES8 arrays, each followed
 * by ~600 bytes of small opcodes, delivered in 1 MiB chunks generated on the fly (nothing large is held).
 */
export async function measureScanThroughput(totalBytes = 256 * MIB, arrayBytes = 64 * 1024): Promise<number> {
  const chunk = new Uint8Array(MIB + 4096);
  const payload = new Uint8Array(arrayBytes);
  for (let i = 0; i < payload.length; i++) payload[i] = (i * 131 + 7) & 0xff;
  function* source(): Generator<Uint8Array> {
    let fill = 0;
    let bytes = 0;
    const flush = function* (force: boolean): Generator<Uint8Array> {
      if (fill >= MIB || (force && fill > 0)) {
        yield chunk.subarray(0, fill);
        bytes += fill;
        fill = 0;
      }
    };
    chunk.set([OP.PROTO, 4, OP.EMPTY_DICT, OP.MEMOIZE], 0);
    fill = 4;
    for (let i = 0; bytes + fill < totalBytes; i++) {
      fill = encodeEntry(chunk, fill, i, arrayBytes);
      for (let left = arrayBytes; left > 0;) {
        const take = Math.min(left, MIB - fill);
        if (take > 0) {
          chunk.set(payload.subarray(arrayBytes - left, arrayBytes - left + take), fill);
          fill += take;
          left -= take;
        }
        yield* flush(false);
      }
      fill = encodeStats(chunk, fill);
      yield* flush(false);
    }
    chunk[fill++] = OP.STOP;
    yield* flush(true);
  }
  const r = await time("bench.pkl", undefined, source());
  expectSafe("big-array pickle", r.result);
  return r.bytes / 1e6 / r.seconds;
}

/**
 * The opcode-dense pickle CPython writes for `[{'a': i, 'b': (i, 'x'), 'c': [i]} for i in range(rows)]`
 * at protocol 4: 16 opcodes per row, every container memoized, keys fetched back with BINGET (about
 * 4.4 M opcodes in 8.3 MB for the default 275 000 rows). Built in memory first, then fed in 1 MiB chunks.
 */
export function buildDensePickle(rows = 275_000): Uint8Array {
  const out = new Uint8Array(64 + rows * 40);
  let p = 0;
  const u32 = (v: number) => {
    out[p++] = v & 0xff;
    out[p++] = (v >>> 8) & 0xff;
    out[p++] = (v >>> 16) & 0xff;
    out[p++] = (v >>> 24) & 0xff;
  };
  const int = (v: number) => {
    if (v < 256) out.set([OP.BININT1, v], (p += 2) - 2);
    else if (v < 65536) out.set([OP.BININT2, v & 0xff, v >>> 8], (p += 3) - 3);
    else {
      out[p++] = OP.BININT;
      u32(v);
    }
  };
  const get = (i: number) => {
    if (i < 256) out.set([OP.BINGET, i], (p += 2) - 2);
    else {
      out[p++] = OP.LONG_BINGET;
      u32(i);
    }
  };
  const str = (s: string) => {
    out[p++] = OP.SHORT_BINUNICODE;
    out[p++] = s.length;
    for (let i = 0; i < s.length; i++) out[p++] = s.charCodeAt(i);
    out[p++] = OP.MEMOIZE;
  };
  out.set([OP.PROTO, 4, OP.EMPTY_LIST, OP.MEMOIZE, OP.MARK], 0);
  p = 5;
  let memo = 1;
  let keys = -1;
  for (let i = 0; i < rows; i++) {
    if (i > 0 && i % 1000 === 0) out.set([OP.APPENDS, OP.MARK], (p += 2) - 2);
    out.set([OP.EMPTY_DICT, OP.MEMOIZE, OP.MARK], (p += 3) - 3);
    memo++;
    if (keys < 0) {
      keys = memo;
      str("a");
      int(i);
      str("b");
      int(i);
      str("x");
      memo += 3;
    } else {
      get(keys);
      int(i);
      get(keys + 1);
      int(i);
      get(keys + 2);
    }
    out.set([OP.TUPLE2, OP.MEMOIZE], (p += 2) - 2);
    memo++;
    if (i === 0) {
      str("c");
      memo++;
    } else get(keys + 3);
    out.set([OP.EMPTY_LIST, OP.MEMOIZE], (p += 2) - 2);
    memo++;
    int(i);
    out.set([OP.APPEND, OP.SETITEMS], (p += 2) - 2);
  }
  out.set([OP.APPENDS, OP.STOP], (p += 2) - 2);
  return out.subarray(0, p);
}

/** Opcode-dense pickles (see buildDensePickle): the best of `runs` scans, in MB/s. */
export async function measureDensePickleThroughput(rows = 275_000, runs = 3): Promise<number> {
  const bytes = buildDensePickle(rows);
  let best = 0;
  for (let run = 0; run < runs; run++) {
    const chunks = function* () {
      for (let i = 0; i < bytes.length; i += MIB) yield bytes.subarray(i, i + MIB);
    };
    const r = await time("dense.pkl", bytes.length, chunks());
    expectSafe("dense pickle", r.result);
    best = Math.max(best, r.bytes / 1e6 / r.seconds);
  }
  return best;
}

/**
 * Zipped torch checkpoints as torch.save writes them (PyTorch's miniz writer: stored members with
 * data descriptors, 64-byte aligned, a small data.pkl naming every storage), `storageBytes` per
 * storage, streamed in 1 MiB chunks with no random access (as during an upload).
 */
export async function measureTorchZipThroughput(totalBytes = 256 * MIB, storageBytes = 4 * MIB): Promise<number> {
  const storages = Math.max(1, Math.floor(totalBytes / storageBytes));
  const payload = new Uint8Array(storageBytes);
  for (let i = 0; i < payload.length; i++) payload[i] = (i * 2654435761) >>> 24;
  const payloadCrc = crc32(payload);
  const te = new TextEncoder();
  const parts: Array<Uint8Array | "payload"> = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  const member = (name: string, data: Uint8Array | "payload", crc: number, size: number) => {
    const n = te.encode(`archive/${name}`);
    const pad = (64 - ((offset + 30 + n.length + 4) % 64)) % 64;
    const extra = new Uint8Array(4 + pad);
    extra.set([0x46, 0x42, pad & 0xff, pad >>> 8]);
    const h = new Uint8Array(30 + n.length);
    const dv = new DataView(h.buffer);
    dv.setUint32(0, 0x04034b50, true);
    dv.setUint16(6, 0x0808, true);
    dv.setUint16(26, n.length, true);
    dv.setUint16(28, extra.length, true);
    h.set(n, 30);
    const desc = new Uint8Array(16);
    const dd = new DataView(desc.buffer);
    dd.setUint32(0, 0x08074b50, true);
    dd.setUint32(4, crc, true);
    dd.setUint32(8, size, true);
    dd.setUint32(12, size, true);
    const c = new Uint8Array(46 + n.length);
    const cv = new DataView(c.buffer);
    cv.setUint32(0, 0x02014b50, true);
    cv.setUint16(8, 0x0808, true);
    cv.setUint32(16, crc, true);
    cv.setUint32(20, size, true);
    cv.setUint32(24, size, true);
    cv.setUint16(28, n.length, true);
    cv.setUint32(42, offset, true);
    c.set(n, 46);
    central.push(c);
    parts.push(h, extra, data, desc);
    offset += h.length + extra.length + size + desc.length;
  };
  const pkl = torchStateDictPickle(storages, storageBytes / 4);
  member("data.pkl", pkl, crc32(pkl), pkl.length);
  for (let i = 0; i < storages; i++) member(`data/${i}`, "payload", payloadCrc, storageBytes);
  const version = te.encode("3\n");
  member("version", version, crc32(version), version.length);
  const cdSize = central.reduce((n, c) => n + c.length, 0);
  const eocd = new Uint8Array(22);
  const ev = new DataView(eocd.buffer);
  ev.setUint32(0, 0x06054b50, true);
  ev.setUint16(8, central.length, true);
  ev.setUint16(10, central.length, true);
  ev.setUint32(12, cdSize, true);
  ev.setUint32(16, offset, true);
  const size = offset + cdSize + 22;
  function* source(): Generator<Uint8Array> {
    for (const part of parts) {
      if (part !== "payload") yield part;
      else for (let i = 0; i < payload.length; i += MIB) yield payload.subarray(i, i + MIB);
    }
    yield* central;
    yield eocd;
  }
  const r = await time("bench.pt", size, source());
  expectSafe("torch zip", r.result);
  if (r.result.format !== "pytorch-zip") throw new Error(`torch zip read as ${r.result.format}`);
  return r.bytes / 1e6 / r.seconds;
}

/** data.pkl of a state dict with `n` float32 tensors of `numel` elements, as torch.save writes it (protocol 2). */
function torchStateDictPickle(n: number, numel: number): Uint8Array {
  const out: number[] = [OP.PROTO, 2, OP.GLOBAL, ...ascii("collections\nOrderedDict\n"), OP.EMPTY_TUPLE, OP.REDUCE, OP.MARK];
  for (let i = 0; i < n; i++) {
    const key = `layer${i}.weight`;
    out.push(OP.SHORT_BINUNICODE, key.length, ...ascii(key));
    out.push(OP.GLOBAL, ...ascii("torch._utils\n_rebuild_tensor_v2\n"), OP.MARK);
    out.push(OP.MARK, OP.SHORT_BINUNICODE, 7, ...ascii("storage"), OP.GLOBAL, ...ascii("torch\nFloatStorage\n"));
    out.push(
      OP.SHORT_BINUNICODE,
      String(i).length,
      ...ascii(String(i)),
      OP.SHORT_BINUNICODE,
      3,
      ...ascii("cpu"),
      OP.BININT,
      ...le32(numel),
      OP.TUPLE,
      OP.BINPERSID,
    );
    out.push(OP.BININT1, 0, OP.BININT, ...le32(numel), OP.TUPLE1, OP.BININT1, 1, OP.TUPLE1, OP.NEWFALSE);
    out.push(OP.GLOBAL, ...ascii("collections\nOrderedDict\n"), OP.EMPTY_TUPLE, OP.REDUCE, OP.TUPLE, OP.REDUCE);
  }
  out.push(OP.SETITEMS, OP.STOP);
  return Uint8Array.from(out);
}

function ascii(s: string): number[] {
  return Array.from(s, (c) => c.charCodeAt(0));
}

function le32(v: number): number[] {
  return [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
}

/**
 * The "no file takes more than 2 s per 10 MB" bar over real files: every file under `dirs` is
 * inspected from disk, twice (the first pass warms the JIT, as a running server is); small files get
 * a floor of 1 MB (their time is fixed cost, not throughput). Returns the worst file of the second
 * pass, its time in seconds per 10 MB, and how many files were measured.
 */
export async function measureSlowestFile(dirs: string[]): Promise<{ file: string; secondsPer10MB: number; files: number }> {
  let worst = { file: "", secondsPer10MB: 0, files: 0 };
  const visit = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        await visit(full);
        continue;
      }
      if (!entry.isFile() || entry.name.endsWith(".json") || entry.name.endsWith(".md") || entry.name.endsWith(".py")) continue;
      const size = (await stat(full)).size;
      const start = performance.now();
      await inspectFile(full);
      const seconds = (performance.now() - start) / 1000;
      const per10 = (seconds * 10e6) / Math.max(size, 1e6);
      worst.files++;
      if (per10 > worst.secondsPer10MB) worst = { file: full, secondsPer10MB: per10, files: worst.files };
    }
  };
  for (const d of dirs) await visit(d);
  worst = { file: "", secondsPer10MB: 0, files: 0 };
  for (const d of dirs) await visit(d);
  return worst;
}

/**
 * Content no parser reads, stored as "unknown format" (issue 15): `binary` (pseudo-random bytes named
 * .bin: still read to the end as a possible zip with data before it) or `text` (log-like lines named
 * .txt, every line through the credential scanner). 1 MiB chunks generated on the fly.
 */
export async function measureUnknownContentThroughput(kind: "binary" | "text", totalBytes = 256 * MIB): Promise<number> {
  const chunk = new Uint8Array(MIB);
  if (kind === "binary") {
    let x = 0x9e3779b9;
    for (let i = 0; i < chunk.length; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      chunk[i] = x & 0xff;
    }
    chunk[0] = 0xf7; // no signature starts with it
  } else {
    const line = new TextEncoder().encode(
      "2024-05-02 09:41:17 step=1200 loss=0.4821 lr=0.0003 grad_norm=1.27 tokens_per_s=18234 eta=00:12:44\n",
    );
    for (let i = 0; i < chunk.length; i++) chunk[i] = line[i % line.length]!;
  }
  const chunks = Math.max(1, Math.round(totalBytes / MIB));
  function* source(): Generator<Uint8Array> {
    for (let i = 0; i < chunks; i++) yield chunk;
  }
  const { seconds, bytes, result } = await time(kind === "binary" ? "weights.bin" : "train.log.txt", chunks * MIB, source());
  const expected = kind === "binary" ? "suspicious" : "safe";
  if (result.verdict !== expected || result.format !== "unknown")
    throw new Error(`${kind} content was judged ${result.format}/${result.verdict}, not unknown/${expected}`);
  return bytes / 1e6 / seconds;
}

/** sniffFile on a 64 KiB head (what the browser runs per dropped file), in microseconds per call. */
export function measureSniffMicroseconds(runs = 2000): number {
  const head = new Uint8Array(64 * 1024);
  for (let i = 0; i < head.length; i++) head[i] = (i * 2654435761) >>> 24;
  head[0] = 0x28; // "(" — a possible protocol-0 pickle, the slowest path (a pickle walk of the head)
  const start = performance.now();
  for (let i = 0; i < runs; i++) sniffFile("model.pt", head, 1e9);
  return ((performance.now() - start) * 1000) / runs;
}

/** The synthetic worst cases (dense pickle, big arrays, streamed torch zip) in seconds per 10 MB. */
export async function measureWorstSecondsPer10MB(): Promise<{ file: string; secondsPer10MB: number }> {
  const cases: Array<[string, () => Promise<number>]> = [
    ["dense pickle", () => measureDensePickleThroughput(275_000, 1)],
    ["big-array pickle", () => measureScanThroughput(64 * MIB)],
    ["torch zip", () => measureTorchZipThroughput(64 * MIB)],
  ];
  let worst = { file: "", secondsPer10MB: 0 };
  for (const [file, run] of cases) {
    const s = 10 / (await run());
    if (s > worst.secondsPer10MB) worst = { file, secondsPer10MB: s };
  }
  return worst;
}
