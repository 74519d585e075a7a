import { Bzip2Decoder } from "../codecs/bzip2";
import { DecodeError, type Output, type StreamDecoder } from "../codecs/decoder";
import { RawInflateDecoder } from "../codecs/deflate";
import { Lzma2Decoder, lzma2DictSize, LzmaDecoder } from "../codecs/lzma";
import { u32le, u64le } from "../feeder";
import { readAt, type FormatHandler, type HandlerContext, type NestedContent } from "../handler";
import type { Report } from "../report";
import { judgePlainArchive } from "./archive";

/**
 * 7z archives (models shared as .7z; picklescan opens them too). The header at the end of the file
 * (often itself LZMA-compressed) lists folders of packed streams and the files cut from them; each
 * file is decoded and inspected from its bytes, and the archive takes the format of the model inside.
 * Folders we cannot decode (PPMd, BCJ2, AES and other coder chains) fail closed: such an archive is
 * DANGEROUS, because what a user extracts from it was never inspected.
 */

const SIGNATURE = [0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c];
const TAIL_BYTES = 1024 * 1024;
const MAX_HEADER = 64 * 1024 * 1024;
const STEP = 1024 * 1024;
const MAX_FILES = 100_000;

const K = {
  END: 0x00,
  HEADER: 0x01,
  ARCHIVE_PROPERTIES: 0x02,
  ADDITIONAL_STREAMS: 0x03,
  MAIN_STREAMS: 0x04,
  FILES_INFO: 0x05,
  PACK_INFO: 0x06,
  UNPACK_INFO: 0x07,
  SUBSTREAMS_INFO: 0x08,
  SIZE: 0x09,
  CRC: 0x0a,
  FOLDER: 0x0b,
  CODERS_UNPACK_SIZE: 0x0c,
  NUM_UNPACK_STREAM: 0x0d,
  EMPTY_STREAM: 0x0e,
  EMPTY_FILE: 0x0f,
  NAME: 0x11,
  DUMMY: 0x19,
  ENCODED_HEADER: 0x17,
} as const;

interface Coder {
  id: string;
  props: Uint8Array;
  inStreams: number;
  outStreams: number;
}

interface Folder {
  coders: Coder[];
  unpackSizes: number[];
  packedStreams: number;
}

interface StreamsInfo {
  packPos: number;
  packSizes: number[];
  folders: Folder[];
  /** Files per folder and their sizes. */
  substreams: number[][];
}

class Reader {
  p = 0;
  constructor(readonly b: Uint8Array) {}

  byte(): number {
    if (this.p >= this.b.length) throw new DecodeError("7z header ends early", "truncated");
    return this.b[this.p++]!;
  }

  number(): number {
    const first = this.byte();
    let mask = 0x80;
    let value = 0;
    for (let i = 0; i < 8; i++) {
      if ((first & mask) === 0) return value + (first & (mask - 1)) * 2 ** (8 * i);
      value += this.byte() * 2 ** (8 * i);
      mask >>>= 1;
    }
    return value;
  }

  bytes(n: number): Uint8Array {
    if (this.p + n > this.b.length) throw new DecodeError("7z header ends early", "truncated");
    const out = this.b.subarray(this.p, this.p + n);
    this.p += n;
    return out;
  }

  bits(n: number): boolean[] {
    const out: boolean[] = [];
    let mask = 0;
    let byte = 0;
    for (let i = 0; i < n; i++) {
      if (mask === 0) {
        byte = this.byte();
        mask = 0x80;
      }
      out.push((byte & mask) !== 0);
      mask >>>= 1;
    }
    return out;
  }

  /** "all defined" byte, then a bit vector */
  defined(n: number): boolean[] {
    return this.byte() ? new Array<boolean>(n).fill(true) : this.bits(n);
  }
}

function readFolder(r: Reader): Folder {
  const n = r.number();
  if (n < 1 || n > 64) throw new DecodeError("bad 7z folder");
  const coders: Coder[] = [];
  let totalIn = 0;
  let totalOut = 0;
  for (let i = 0; i < n; i++) {
    const flag = r.byte();
    const id = Array.from(r.bytes(flag & 0x0f), (x) => x.toString(16).padStart(2, "0")).join("");
    const complex = (flag & 0x10) !== 0;
    const inStreams = complex ? r.number() : 1;
    const outStreams = complex ? r.number() : 1;
    const props = flag & 0x20 ? r.bytes(r.number()).slice() : new Uint8Array(0);
    coders.push({ id, props, inStreams, outStreams });
    totalIn += inStreams;
    totalOut += outStreams;
  }
  for (let i = 0; i < totalOut - 1; i++) {
    r.number();
    r.number();
  }
  const packedStreams = totalIn - (totalOut - 1);
  if (packedStreams > 1) for (let i = 0; i < packedStreams; i++) r.number();
  return { coders, unpackSizes: new Array<number>(totalOut).fill(0), packedStreams };
}

function readStreamsInfo(r: Reader): StreamsInfo {
  const info: StreamsInfo = { packPos: 0, packSizes: [], folders: [], substreams: [] };
  for (let id = r.byte(); id !== K.END; id = r.byte()) {
    if (id === K.PACK_INFO) {
      info.packPos = r.number();
      const count = r.number();
      for (let t = r.byte(); t !== K.END; t = r.byte()) {
        if (t === K.SIZE) for (let i = 0; i < count; i++) info.packSizes.push(r.number());
        else if (t === K.CRC) {
          const defined = r.defined(count);
          r.bytes(4 * defined.filter(Boolean).length);
        } else throw new DecodeError(`unexpected 7z pack property ${t}`);
      }
    } else if (id === K.UNPACK_INFO) {
      if (r.byte() !== K.FOLDER) throw new DecodeError("7z unpack info without folders");
      const n = r.number();
      if (n > MAX_FILES) throw new DecodeError("too many 7z folders", "limit");
      if (r.byte() !== 0) throw new DecodeError("external 7z folders are not supported", "unsupported");
      for (let i = 0; i < n; i++) info.folders.push(readFolder(r));
      if (r.byte() !== K.CODERS_UNPACK_SIZE) throw new DecodeError("7z folders without sizes");
      for (const f of info.folders) for (let i = 0; i < f.unpackSizes.length; i++) f.unpackSizes[i] = r.number();
      for (let t = r.byte(); t !== K.END; t = r.byte()) {
        if (t !== K.CRC) throw new DecodeError(`unexpected 7z unpack property ${t}`);
        const defined = r.defined(n);
        r.bytes(4 * defined.filter(Boolean).length);
      }
    } else if (id === K.SUBSTREAMS_INFO) {
      readSubstreams(r, info);
    } else {
      throw new DecodeError(`unexpected 7z streams property ${id}`);
    }
  }
  if (info.substreams.length === 0) info.substreams = info.folders.map((f) => [folderSize(f)]);
  return info;
}

function readSubstreams(r: Reader, info: StreamsInfo): void {
  let counts = info.folders.map(() => 1);
  let t = r.byte();
  if (t === K.NUM_UNPACK_STREAM) {
    counts = info.folders.map(() => r.number());
    t = r.byte();
  }
  const sizes: number[][] = info.folders.map(() => []);
  const hasSizes = t === K.SIZE;
  info.folders.forEach((f, i) => {
    const n = counts[i]!;
    if (n === 0) return;
    let sum = 0;
    for (let j = 0; j < n - 1 && hasSizes; j++) {
      const s = r.number();
      sizes[i]!.push(s);
      sum += s;
    }
    sizes[i]!.push(folderSize(f) - sum);
  });
  if (hasSizes) t = r.byte();
  while (t !== K.END) {
    if (t !== K.CRC) throw new DecodeError(`unexpected 7z substream property ${t}`);
    const total = counts.reduce((a, b) => a + b, 0);
    const defined = r.defined(total);
    r.bytes(4 * defined.filter(Boolean).length);
    t = r.byte();
  }
  info.substreams = sizes;
}

/** The folder's final output size (the output no bind pair consumes: with one coder, its only output). */
function folderSize(f: Folder): number {
  return f.unpackSizes[f.unpackSizes.length - 1] ?? 0;
}

function readNames(r: Reader, n: number, end: number): string[] {
  if (r.byte() !== 0) throw new DecodeError("external 7z names are not supported", "unsupported");
  const names: string[] = [];
  let cur = "";
  while (r.p + 1 < end && names.length < n) {
    const c = r.b[r.p]! | (r.b[r.p + 1]! << 8);
    r.p += 2;
    if (c === 0) {
      names.push(cur);
      cur = "";
    } else cur += String.fromCharCode(c);
  }
  r.p = end;
  return names;
}

interface FileEntry {
  name: string;
  hasStream: boolean;
}

function readFiles(r: Reader): FileEntry[] {
  const n = r.number();
  if (n > MAX_FILES) throw new DecodeError("too many 7z files", "limit");
  let empty = new Array<boolean>(n).fill(false);
  let names: string[] = [];
  for (let t = r.number(); t !== K.END; t = r.number()) {
    const size = r.number();
    const end = r.p + size;
    if (t === K.EMPTY_STREAM) empty = r.bits(n);
    else if (t === K.NAME) names = readNames(r, n, end);
    r.p = end;
  }
  return Array.from({ length: n }, (_, i) => ({ name: names[i] ?? `file${i}`, hasStream: !empty[i] }));
}

/** A decoder for a single-coder folder, or a reason it cannot be decoded. */
function folderDecoder(f: Folder, out: Output): StreamDecoder | string {
  if (f.coders.length !== 1) return `a chain of ${f.coders.length} coders (${f.coders.map((c) => c.id).join(", ")})`;
  const c = f.coders[0]!;
  const size = folderSize(f);
  switch (c.id) {
    case "00":
      return { finished: false, trailing: 0, write: (b) => out(b), end: () => {} };
    case "030101":
      if (c.props.length < 5) return "LZMA coder without properties";
      return new LzmaDecoder(c.props[0]!, u32le(c.props, 1), size, out);
    case "21":
      if (c.props.length < 1) return "LZMA2 coder without properties";
      return new Lzma2Decoder(lzma2DictSize(c.props[0]!), out);
    case "040108":
      return new RawInflateDecoder(out);
    case "040202":
      return new Bzip2Decoder(out);
    case "06f10701":
      return "AES encryption";
    default:
      return `coder ${c.id}`;
  }
}

type Fetch = (start: number, end: number) => Promise<Uint8Array | null>;

/** Decodes one folder from the packed bytes at `at`, calling `out` with its output. */
async function decodeFolder(fetch: Fetch, f: Folder, at: number, packSize: number, out: Output): Promise<string | null> {
  const decoder = folderDecoder(f, out);
  if (typeof decoder === "string") return decoder;
  try {
    for (let p = 0; p < packSize; p += STEP) {
      const part = await fetch(at + p, at + Math.min(packSize, p + STEP));
      if (!part) return "no random access to the packed data";
      decoder.write(part);
    }
    decoder.end();
  } catch (e) {
    return (e as Error).message;
  }
  return null;
}

async function readHeader(fetch: Fetch, size: number): Promise<{ info: StreamsInfo | null; files: FileEntry[] }> {
  const start = await fetch(0, 32);
  if (!start || start.length < 32 || !SIGNATURE.every((v, i) => start[i] === v)) throw new DecodeError("bad 7z signature header");
  const offset = 32 + u64le(start, 12);
  const length = u64le(start, 20);
  if (length === 0) return { info: null, files: [] };
  if (length > MAX_HEADER || offset + length > size) throw new DecodeError("7z header lies outside the file", "corrupt");
  let header = await fetch(offset, offset + length);
  if (!header) throw new DecodeError("no random access to the 7z header", "unsupported");
  for (let round = 0; round < 4 && header[0] === K.ENCODED_HEADER; round++) {
    const r = new Reader(header);
    r.p = 1;
    const enc = readStreamsInfo(r);
    const f = enc.folders[0];
    if (!f || enc.folders.length !== 1) throw new DecodeError("encoded 7z header without one folder");
    const parts: Uint8Array[] = [];
    const problem = await decodeFolder(fetch, f, 32 + enc.packPos, enc.packSizes[0] ?? 0, (b) => parts.push(b.slice()));
    if (problem) throw new DecodeError(`7z header cannot be decoded: ${problem}`, "unsupported");
    header = Buffer.concat(parts);
  }
  const r = new Reader(header);
  if (r.byte() !== K.HEADER) throw new DecodeError("bad 7z header");
  let info: StreamsInfo | null = null;
  let files: FileEntry[] = [];
  for (let id = r.byte(); id !== K.END; id = r.byte()) {
    if (id === K.MAIN_STREAMS) info = readStreamsInfo(r);
    else if (id === K.FILES_INFO) files = readFiles(r);
    else if (id === K.ARCHIVE_PROPERTIES || id === K.ADDITIONAL_STREAMS)
      throw new DecodeError("7z archive properties are not supported", "unsupported");
    else throw new DecodeError(`unexpected 7z header property ${id}`);
  }
  return { info, files };
}

export function createSevenZipHandler(ctx: HandlerContext): FormatHandler {
  const { report } = ctx;
  const tail = { buf: new Uint8Array(0), start: 0 };
  let total = 0;

  const fetch: Fetch = async (s, e) => {
    const direct = await readAt(ctx, s, e);
    if (direct) return direct;
    if (s >= tail.start && e <= tail.start + tail.buf.length) return tail.buf.subarray(s - tail.start, e - tail.start);
    return null;
  };

  return {
    write(c) {
      total += c.length;
      const keep = Math.min(TAIL_BYTES, tail.buf.length + c.length);
      const merged = new Uint8Array(keep);
      const fromOld = keep - Math.min(c.length, keep);
      merged.set(tail.buf.subarray(tail.buf.length - fromOld));
      merged.set(c.subarray(c.length - (keep - fromOld)), fromOld);
      tail.buf = merged;
      tail.start = total - keep;
    },
    end() {},
    async finish() {
      const size = ctx.size ?? total;
      report.format = "unknown";
      report.framework = "none";
      let parsed: Awaited<ReturnType<typeof readHeader>>;
      try {
        parsed = await readHeader(fetch, size);
      } catch (e) {
        const err = e as DecodeError;
        if (err.code === "unsupported")
          report.danger("7z-unscannable", `7z archive cannot be opened (${err.message}); its content was not inspected`);
        else report.fail(`7z-${err.code ?? "corrupt"}`, `7z archive cannot be read: ${err.message}`);
        return;
      }
      await inspectFiles(ctx, fetch, parsed.info, parsed.files, report);
    },
  };
}

async function inspectFiles(
  ctx: HandlerContext,
  fetch: Fetch,
  info: StreamsInfo | null,
  files: FileEntry[],
  report: Report,
): Promise<void> {
  const withData = files.filter((f) => f.hasStream);
  const results: Array<{ name: string; content: NestedContent }> = [];
  let fileIdx = 0;
  let packAt = 32 + (info?.packPos ?? 0);
  let packIdx = 0;
  for (const [fi, folder] of (info?.folders ?? []).entries()) {
    const sizes = info!.substreams[fi] ?? [folderSize(folder)];
    const packSize = info!.packSizes.slice(packIdx, packIdx + folder.packedStreams).reduce((a, b) => a + b, 0);
    const names = sizes.map(() => withData[fileIdx++]?.name ?? `stream${fileIdx}`);
    let cur = -1;
    let left = 0;
    let content: NestedContent | null = null;
    // one nested inspection per file cut from the folder's output
    const next = () => {
      if (content) void content.end();
      content = null;
      while (++cur < sizes.length) {
        const c = ctx.nested(names[cur]!, { size: sizes[cur] });
        results.push({ name: names[cur]!, content: c });
        if (sizes[cur]! > 0) {
          content = c;
          left = sizes[cur]!;
          return;
        }
        void c.end();
      }
    };
    next();
    const problem = await decodeFolder(fetch, folder, packAt, packSize, (b) => {
      for (let off = 0; off < b.length && content;) {
        const n = Math.min(left, b.length - off);
        content.write(b.subarray(off, off + n));
        off += n;
        left -= n;
        if (left === 0) next();
      }
    });
    const open = content as NestedContent | null;
    if (open) void open.end();
    if (problem)
      report.danger("7z-unscannable", `7z folder ${fi} cannot be decoded (${problem}): ${names.join(", ").slice(0, 200)} not inspected`);
    packAt += packSize;
    packIdx += folder.packedStreams;
  }
  let primary: { name: string; content: NestedContent } | null = null;
  for (const r of results) {
    await r.content.end();
    const fmt = r.content.report.format;
    if (!primary && fmt !== "unknown") primary = r;
  }
  for (const r of results)
    report.absorb(r.content.report, r.name, r === primary ? "fail" : r.content.kind() === "pickle" ? "flag" : "info");
  report.metadata = { files: files.length, archive: "7z" };
  // a torch checkpoint's directory packed with 7z instead of zip (nullifAI): the torch layout decides the format
  if (files.some((f) => /(^|\/)data\.pkl$/.test(f.name))) {
    report.format = "pytorch-zip";
    report.framework = "pytorch";
    report.info("7z-torch-layout", "a PyTorch checkpoint directory packed with 7z; every member was decoded and inspected");
    return;
  }
  if (primary) {
    report.format = primary.content.report.format;
    report.framework = primary.content.report.framework;
    report.metadata = { ...primary.content.report.metadata, archive: "7z", member: primary.name, files: files.length };
    report.info("7z-member", `7z archive: ${primary.name.slice(0, 200)} was decoded and inspected`);
  } else if (ctx.top) {
    judgePlainArchive(
      report,
      "7z",
      results.map((r) => ({ name: r.name, kind: r.content.kind() })),
      files.filter((f) => f.hasStream).length,
      report.metadata,
    );
  } else if (!report.isDangerous) {
    report.fail("7z-not-a-model", "7z archive without a model file inside");
  }
}
