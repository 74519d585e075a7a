import { crc32 } from "node:zlib";
import { Feeder, ParseError, pipeBytes, readBytes, readU32, scanBytes, skipBytes, skipToEnd, u16le, u32le, u64le, type ParserGen } from "../feeder";
import { Inflater } from "../codecs/inflate";
import type { ReadRange } from "../types";

/**
 * Streaming zip reader for PyTorch checkpoints: walks local file headers in order (stored and
 * deflated members, with or without data descriptors), hands pickle members to a sink, then reads
 * the central directory from the same stream and cross-checks it against what was walked.
 */

const SIG_LOCAL = 0x04034b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_DESCRIPTOR = 0x08074b50;
const SIG_EOCD = 0x06054b50;
const SIG_EOCD64 = 0x06064b50;
const SIG_LOCATOR64 = 0x07064b50;
/** Inflate at most this much per member, and stop earlier when the ratio looks like a bomb. */
export const MAX_INFLATE_BYTES = 4 * 1024 * 1024 * 1024;
export const BOMB_RATIO = 200;
export const BOMB_MIN_BYTES = 32 * 1024 * 1024;
const MAX_MEMBERS = 100_000;
export const INFLATE_STEP = 1024 * 1024;

export interface LocalMember {
  name: string;
  offset: number;
  method: number;
  flags: number;
  csize: number;
  usize: number;
  dataOffset: number;
}

export interface CentralEntry {
  name: string;
  offset: number;
  method: number;
  flags: number;
  csize: number;
  usize: number;
}

export interface MemberSink {
  write(b: Uint8Array): void;
  end(): void;
}

export interface ZipEvents {
  /** Return a sink to receive the member's uncompressed bytes, or null to skip it. */
  openMember(name: string): MemberSink | null;
  finding(kind: "flag" | "fail" | "info", code: string, message: string, location?: string): void;
}

/** True for members whose content is a pickle that a loader would unpickle. */
export function isPickleMember(name: string): boolean {
  const base = name.slice(name.lastIndexOf("/") + 1).toLowerCase();
  return base === "data.pkl" || base.endsWith(".pkl") || base.endsWith(".pickle");
}

function decodeName(b: Uint8Array): string {
  return new TextDecoder("utf-8").decode(b);
}

function zip64Fields(extra: Uint8Array, usize: number, csize: number, offset: number): { usize: number; csize: number; offset: number } {
  let p = 0;
  while (p + 4 <= extra.length) {
    const id = u16le(extra, p);
    const size = u16le(extra, p + 2);
    const body = p + 4;
    if (id === 0x0001) {
      let q = body;
      const end = Math.min(body + size, extra.length);
      if (usize === 0xffffffff && q + 8 <= end) {
        usize = u64le(extra, q);
        q += 8;
      }
      if (csize === 0xffffffff && q + 8 <= end) {
        csize = u64le(extra, q);
        q += 8;
      }
      if (offset === 0xffffffff && q + 8 <= end) offset = u64le(extra, q);
    }
    p = body + size;
  }
  return { usize, csize, offset };
}

export class ZipScanner {
  readonly members: LocalMember[] = [];
  readonly central: CentralEntry[] = [];
  eocd = false;
  totalInflated = 0;
  private readonly feeder: Feeder;

  constructor(
    private readonly events: ZipEvents,
    private readonly size?: number,
  ) {
    this.feeder = new Feeder((f) => this.parse(f));
  }

  write(chunk: Uint8Array): void {
    this.feeder.write(chunk);
  }

  end(): void {
    this.feeder.end();
    const err = this.feeder.error;
    if (err instanceof ParseError) this.events.finding("fail", `zip-${err.code}`, err.message);
    else if (err) this.events.finding("fail", "zip-truncated", `zip stream ended early: ${(err as Error).message}`);
    if (!this.eocd && !err) this.events.finding("fail", "zip-no-eocd", "zip has no end-of-central-directory record (truncated?)");
  }

  private *parse(f: Feeder): ParserGen {
    for (;;) {
      const at = f.pos;
      const sig = yield* readU32();
      if (sig === SIG_LOCAL) {
        yield* this.localMember(f, at);
      } else if (sig === SIG_CENTRAL) {
        yield* this.centralEntry();
      } else if (sig === SIG_EOCD64) {
        const len = u64le(yield* readBytes(8), 0);
        yield* skipBytes(len);
      } else if (sig === SIG_LOCATOR64) {
        yield* skipBytes(16);
      } else if (sig === SIG_EOCD) {
        const rest = yield* readBytes(18);
        this.eocd = true;
        const comment = u16le(rest, 16);
        yield* skipBytes(comment);
        if (this.size !== undefined && f.pos !== this.size) {
          this.events.finding("flag", "zip-trailing-data", `${this.size - f.pos} bytes follow the end of the zip`);
        }
        yield* skipToEnd();
        return;
      } else {
        throw new ParseError(`unexpected bytes in zip stream at offset ${at}`, "corrupt");
      }
    }
  }

  private *localMember(f: Feeder, offset: number): ParserGen {
    const h = (yield* readBytes(26)).slice();
    const flags = u16le(h, 2);
    const method = u16le(h, 4);
    let csize = u32le(h, 14);
    let usize = u32le(h, 18);
    const nameLen = u16le(h, 22);
    const extraLen = u16le(h, 24);
    const name = decodeName(yield* readBytes(nameLen));
    const extra = (yield* readBytes(extraLen)).slice();
    ({ usize, csize } = zip64Fields(extra, usize, csize, 0));
    const member: LocalMember = { name, offset, method, flags, csize, usize, dataOffset: f.pos };
    if (this.members.length < MAX_MEMBERS) this.members.push(member);
    const descriptor = (flags & 8) !== 0;
    const sizesKnown = !descriptor || csize !== 0;
    const pickle = isPickleMember(name);
    const location = name;
    if (flags & 1) {
      this.events.finding(pickle ? "flag" : "info", "zip-encrypted", "member is encrypted and cannot be scanned", location);
      if (!sizesKnown) throw new ParseError("encrypted member with unknown size", "unsupported");
      yield* skipBytes(csize);
      return;
    }
    const sink = this.events.openMember(name);
    if (method === 0) {
      if (sizesKnown) {
        if (sink) {
          yield* this.pipe(csize, sink);
        } else {
          yield* skipBytes(csize);
        }
      } else {
        yield* this.storedUntilDescriptor(sink, f);
        return;
      }
    } else if (method === 8) {
      if (sink || !sizesKnown) {
        yield* this.inflateMember(sink, location, csize);
      } else {
        yield* skipBytes(csize);
      }
    } else {
      if (pickle) this.events.finding("flag", "zip-unsupported-method", `pickle member uses compression method ${method}; not scanned`, location);
      if (!sizesKnown) throw new ParseError(`member ${name} uses method ${method} with a data descriptor`, "unsupported");
      yield* skipBytes(csize);
      sink?.end();
    }
    if (descriptor) yield* this.descriptor(usize > 0xffffffff || csize > 0xffffffff);
  }

  private *pipe(n: number, sink: MemberSink): ParserGen {
    try {
      yield* pipeBytes(n, (b) => sink.write(b));
    } finally {
      sink.end();
    }
  }

  private *inflateMember(sink: MemberSink | null, location: string, csize: number): ParserGen {
    let consumed = 0;
    let bomb = false;
    const inflater = new Inflater((b) => {
      this.totalInflated += b.length;
      sink?.write(b);
    }, MAX_INFLATE_BYTES);
    yield* scanBytes((b, eof) => {
      let used = 0;
      for (;;) {
        // small output steps so the ratio check runs before a bomb gets far
        const u = inflater.push(b.subarray(used), eof, INFLATE_STEP);
        used += u;
        consumed += u;
        if (!bomb && inflater.totalOut > BOMB_MIN_BYTES && inflater.totalOut > consumed * BOMB_RATIO) {
          bomb = true;
          this.events.finding("flag", "zip-bomb", `member inflates more than ${BOMB_RATIO}x (${inflater.totalOut} bytes from ${consumed}); inflation stopped`, location);
          sink?.end();
          throw new ParseError("compression ratio too high; stopped", "bomb");
        }
        if (inflater.error) {
          sink?.end();
          throw new ParseError(`bad deflate data in ${location}: ${inflater.error}`, "corrupt");
        }
        if (inflater.finished) {
          sink?.end();
          return ~used;
        }
        if (!inflater.paused) return used;
      }
    });
    if (csize !== 0 && csize !== consumed && csize !== 0xffffffff) {
      this.events.finding("flag", "zip-size-mismatch", `deflate stream is ${consumed} bytes, header says ${csize}`, location);
    }
  }

  private *storedUntilDescriptor(sink: MemberSink | null, f: Feeder): ParserGen {
    let dataLen = 0;
    let crc = 0;
    let found = false;
    const emit = (b: Uint8Array) => {
      if (b.length === 0) return;
      crc = crc32(b, crc);
      dataLen += b.length;
      sink?.write(b);
    };
    yield* scanBytes((b, eof) => {
      let from = 0;
      // running CRC of b[0..crcAt) on top of `crc`, so many false candidates stay linear
      let crcAt = 0;
      let crcHere = crc;
      for (;;) {
        const j = indexOfSig(b, from);
        if (j < 0) {
          const safe = eof ? b.length : Math.max(0, b.length - 3);
          emit(b.subarray(0, safe));
          return safe;
        }
        if (j + 24 > b.length && !eof) {
          emit(b.subarray(0, j));
          return j;
        }
        const candidate = dataLen + j;
        crcHere = crc32(b.subarray(crcAt, j), crcHere);
        crcAt = j;
        if (j + 16 <= b.length && u32le(b, j + 4) === crcHere && u32le(b, j + 8) === candidate && u32le(b, j + 12) === candidate) {
          emit(b.subarray(0, j));
          found = true;
          return ~(j + 16);
        }
        if (j + 24 <= b.length && u32le(b, j + 4) === crcHere && u64le(b, j + 8) === candidate && u64le(b, j + 16) === candidate) {
          emit(b.subarray(0, j));
          found = true;
          return ~(j + 24);
        }
        from = j + 1;
      }
    });
    sink?.end();
    if (!found) throw new ParseError(`stored member without a findable data descriptor (at ${f.pos})`, "truncated");
  }

  private *descriptor(zip64: boolean): ParserGen {
    const first = yield* readU32();
    const rest = zip64 ? 20 : 12;
    yield* skipBytes(first === SIG_DESCRIPTOR ? rest : rest - 4);
  }

  private *centralEntry(): ParserGen {
    const h = (yield* readBytes(42)).slice();
    const flags = u16le(h, 4);
    const method = u16le(h, 6);
    let csize = u32le(h, 16);
    let usize = u32le(h, 20);
    const nameLen = u16le(h, 24);
    const extraLen = u16le(h, 26);
    const commentLen = u16le(h, 28);
    let offset = u32le(h, 38);
    const name = decodeName(yield* readBytes(nameLen));
    const extra = (yield* readBytes(extraLen)).slice();
    yield* skipBytes(commentLen);
    ({ usize, csize, offset } = zip64Fields(extra, usize, csize, offset));
    if (this.central.length < MAX_MEMBERS) this.central.push({ name, offset, method, flags, csize, usize });
  }

  /** Compares the central directory (what loaders use) with the local headers that were walked. */
  crossCheck(): CentralEntry[] {
    const unmatched: CentralEntry[] = [];
    if (!this.eocd) return unmatched;
    const byOffset = new Map(this.members.map((m) => [m.offset, m]));
    const names = new Set<string>();
    for (const e of this.central) {
      if (names.has(e.name)) this.events.finding("flag", "zip-duplicate-name", "central directory lists this name twice", e.name);
      names.add(e.name);
      const local = byOffset.get(e.offset);
      if (!local) {
        this.events.finding("flag", "zip-hidden-entry", `central directory entry at offset ${e.offset} has no matching local header in the stream`, e.name);
        unmatched.push(e);
        continue;
      }
      if (local.name !== e.name) {
        this.events.finding("flag", "zip-name-mismatch", `local header says "${local.name.slice(0, 200)}", central directory says "${e.name.slice(0, 200)}"`, e.name);
        unmatched.push(e);
      } else if ((local.csize && local.csize !== e.csize) || local.method !== e.method) {
        this.events.finding("flag", "zip-entry-mismatch", "local header and central directory disagree on size or method", e.name);
        unmatched.push(e);
      }
    }
    const cdOffsets = new Set(this.central.map((e) => e.offset));
    for (const m of this.members) {
      if (!cdOffsets.has(m.offset)) this.events.finding("flag", "zip-unlisted-member", "local member is not in the central directory", m.name);
    }
    return unmatched;
  }
}

function indexOfSig(b: Uint8Array, from: number): number {
  for (let i = b.indexOf(0x50, from); i >= 0 && i + 3 < b.length; i = b.indexOf(0x50, i + 1)) {
    if (b[i + 1] === 0x4b && b[i + 2] === 0x07 && b[i + 3] === 0x08) return i;
  }
  // a signature may straddle the end of this view
  const tail = Math.max(from, b.length - 3);
  for (let i = tail; i < b.length; i++) {
    if (b[i] === 0x50 && (i + 1 >= b.length || b[i + 1] === 0x4b) && (i + 2 >= b.length || b[i + 2] === 0x07)) return i;
  }
  return -1;
}

/** Scans one member through random access (for central-directory entries the stream walk did not see). */
export async function readMemberAt(readRange: ReadRange, entry: CentralEntry, sink: MemberSink, size: number): Promise<string | null> {
  const head = await readRange(entry.offset, Math.min(size, entry.offset + 30));
  if (head.length < 30 || u32le(head, 0) !== SIG_LOCAL) return "no local header at the central directory offset";
  const dataStart = entry.offset + 30 + u16le(head, 26) + u16le(head, 28);
  if (dataStart + entry.csize > size) return "member runs past the end of the file";
  const step = 1024 * 1024;
  if (entry.method === 0) {
    for (let p = 0; p < entry.csize; p += step) sink.write(await readRange(dataStart + p, dataStart + Math.min(entry.csize, p + step)));
    sink.end();
    return null;
  }
  if (entry.method !== 8) return `compression method ${entry.method} not supported`;
  const inflater = new Inflater((b) => sink.write(b), MAX_INFLATE_BYTES);
  let carry = new Uint8Array(0);
  for (let p = 0; p < entry.csize && !inflater.finished && !inflater.error; p += step) {
    const part = await readRange(dataStart + p, dataStart + Math.min(entry.csize, p + step));
    let input = carry.length ? concat(carry, part) : part;
    for (;;) {
      const used = inflater.push(input, p + step >= entry.csize, INFLATE_STEP);
      input = input.subarray(used);
      if (inflater.totalOut > BOMB_MIN_BYTES && inflater.totalOut > (p + step) * BOMB_RATIO) {
        sink.end();
        return "compression ratio too high; stopped";
      }
      if (!inflater.paused) break;
    }
    carry = input.slice();
  }
  sink.end();
  return inflater.error;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
