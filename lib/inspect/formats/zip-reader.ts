import { createZipMemberDecoder } from "../codecs/index";
import { Inflater } from "../codecs/inflate";
import {
  EofError,
  Feeder,
  ParseError,
  pipeBytes,
  readBytes,
  readU32,
  scanBytes,
  skipBytes,
  skipToEnd,
  u16le,
  u32le,
  u64le,
  type ParserGen,
} from "../feeder";

/**
 * Zip reading in two passes, the second as the loaders read:
 * - ZipWalker streams the archive front to back (as it is uploaded), decoding each member from its
 *   local header and handing the bytes to a sink, and notes every central-directory record and
 *   end-of-central-directory (EOCD) record it passes;
 * - at the end, findEocd/parseCentral read the directory the way Python's zipfile and PyTorch's
 *   miniz reader do: from the LAST EOCD record, through the central directory it points to.
 * The zip handler then reconciles the two views; any disagreement is itself a finding.
 */

const SIG_LOCAL = 0x04034b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_DESCRIPTOR = 0x08074b50;
const SIG_EOCD = 0x06054b50;
const SIG_EOCD64 = 0x06064b50;
const SIG_LOCATOR64 = 0x07064b50;
const DESCRIPTOR_SIG = Buffer.from([0x50, 0x4b, 0x07, 0x08]);
/** Inflate at most this much per member, and stop earlier when the ratio looks like a bomb. */
export const MAX_INFLATE_BYTES = 4 * 1024 * 1024 * 1024;
export const BOMB_RATIO = 200;
export const BOMB_MIN_BYTES = 32 * 1024 * 1024;
export const INFLATE_STEP = 1024 * 1024;
const MAX_MEMBERS = 100_000;
/** Python's zipfile looks for the EOCD record in the last 64 KiB + 22 bytes. */
export const EOCD_SEARCH = 65535 + 22;
const EOCD_SIZE = 22;
const EOCD64_SIZE = 56;
const LOCATOR64_SIZE = 20;
export const FLAG_ENCRYPTED = 0x1;
export const FLAG_DESCRIPTOR = 0x8;

export interface LocalMember {
  name: string;
  offset: number;
  flags: number;
  method: number;
  crc: number;
  csize: number;
  usize: number;
  dataOffset: number;
  /** Why the data could not be decoded from the stream (corrupt, unsupported method, bomb). */
  problem: string | null;
  /** The member inflated so far beyond its size that decoding was stopped. */
  bomb: boolean;
}

export interface CentralEntry {
  name: string;
  offset: number;
  flags: number;
  method: number;
  crc: number;
  csize: number;
  usize: number;
  /** Where this record itself sits, and where it ends. */
  at: number;
  end: number;
}

export interface Eocd {
  offset: number;
  entries: number;
  cdSize: number;
  cdOffset: number;
  commentLength: number;
  zip64: boolean;
}

export interface MemberSink {
  write(b: Uint8Array): void;
  end(): void;
}

export interface ZipEvents {
  /** A sink for the member's uncompressed bytes (as its local header describes them), or null. */
  openMember(m: LocalMember): MemberSink | null;
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

/** Streams an archive front to back (see the file comment). */
export class ZipWalker {
  readonly members: LocalMember[] = [];
  readonly central = new Map<number, CentralEntry>();
  readonly eocds: number[] = [];
  /** Byte ranges no header describes. */
  readonly gaps: Array<[number, number]> = [];
  /** Set when the walk could not continue (it stopped at that offset). */
  stoppedAt: number | null = null;
  stopReason = "";
  totalInflated = 0;
  private readonly feeder: Feeder;

  constructor(private readonly events: ZipEvents) {
    this.feeder = new Feeder((f) => this.parse(f));
  }

  write(chunk: Uint8Array): void {
    this.feeder.write(chunk);
  }

  end(): void {
    this.feeder.end();
    const err = this.feeder.error;
    if (err && this.stoppedAt === null) {
      this.stoppedAt = this.feeder.pos;
      this.stopReason = err instanceof EofError ? "the archive ends inside a record" : (err as Error).message;
    }
  }

  private *parse(f: Feeder): ParserGen {
    for (;;) {
      const at = f.pos;
      let sig: number;
      try {
        sig = yield* readU32();
      } catch (e) {
        if (e instanceof EofError) return;
        throw e;
      }
      if (sig === SIG_LOCAL) {
        yield* this.localMember(f, at);
      } else if (sig === SIG_CENTRAL) {
        yield* this.centralRecord(f, at);
      } else if (sig === SIG_EOCD64) {
        yield* skipBytes(u64le(yield* readBytes(8), 0));
      } else if (sig === SIG_LOCATOR64) {
        yield* skipBytes(16);
      } else if (sig === SIG_EOCD) {
        const rest = yield* readBytes(18);
        this.eocds.push(at);
        yield* skipBytes(u16le(rest, 16));
      } else {
        yield* this.gap(f, at);
      }
    }
  }

  /** Bytes that are not a record: skip to the next signature (or the end) and remember the gap. */
  private *gap(f: Feeder, at: number): ParserGen {
    let found = false;
    yield* scanBytes((b, eof) => {
      for (let i = b.indexOf(0x50); i >= 0 && i + 3 < b.length; i = b.indexOf(0x50, i + 1)) {
        if (b[i + 1] === 0x4b && isSignatureTail(b[i + 2]!, b[i + 3]!)) {
          found = true;
          return ~i;
        }
      }
      if (eof) return ~b.length;
      return Math.max(0, b.length - 3);
    });
    this.gaps.push([at, f.pos]);
    if (!found) yield* skipToEnd();
  }

  private *localMember(f: Feeder, offset: number): ParserGen {
    const h = (yield* readBytes(26)).slice();
    const flags = u16le(h, 2);
    const method = u16le(h, 4);
    const crc = u32le(h, 10);
    let csize = u32le(h, 14);
    let usize = u32le(h, 18);
    const name = decodeName(yield* readBytes(u16le(h, 22)));
    const extra = (yield* readBytes(u16le(h, 24))).slice();
    ({ usize, csize } = zip64Fields(extra, usize, csize, 0));
    const member: LocalMember = { name, offset, flags, method, crc, csize, usize, dataOffset: f.pos, problem: null, bomb: false };
    if (this.members.length < MAX_MEMBERS) this.members.push(member);
    const descriptor = (flags & FLAG_DESCRIPTOR) !== 0;
    const sizesKnown = !descriptor || csize !== 0;
    // IMPORTANT: loaders ignore the local header's flags (encryption included): the data is read as they would read it.
    const sink = this.events.openMember(member);
    try {
      if (method === 8) {
        yield* this.inflateMember(member, sink, sizesKnown);
      } else if (method === 0 && !sizesKnown) {
        // the descriptor that ends the data is consumed while searching for it
        yield* this.storedUntilDescriptor(sink, f);
        return;
      } else if (sizesKnown) {
        yield* this.decodeMember(member, sink);
      } else {
        throw new ParseError(
          `member ${name.slice(0, 100)} uses method ${method} with a data descriptor; the stream walk stops here`,
          "unsupported",
        );
      }
    } finally {
      sink?.end();
    }
    if (descriptor) yield* this.descriptor(usize > 0xffffffff || csize > 0xffffffff);
  }

  /** Stored, bzip2 and LZMA members of known size; other methods are skipped and noted. */
  private *decodeMember(member: LocalMember, sink: MemberSink | null): ParserGen {
    const decoder = sink ? createZipMemberDecoder(member.method, member.usize, (b) => sink.write(b)) : null;
    if (!decoder) {
      if (sink) member.problem = `compression method ${member.method} is not supported`;
      yield* skipBytes(member.csize);
      return;
    }
    yield* pipeBytes(member.csize, (b) => {
      if (member.problem) return;
      try {
        decoder.write(b);
      } catch (e) {
        member.problem = (e as Error).message;
      }
    });
    if (member.problem) return;
    try {
      decoder.end();
    } catch (e) {
      member.problem = (e as Error).message;
    }
  }

  private *inflateMember(member: LocalMember, sink: MemberSink | null, sizesKnown: boolean): ParserGen {
    let consumed = 0;
    const inflater = new Inflater((b) => {
      this.totalInflated += b.length;
      sink?.write(b);
    }, MAX_INFLATE_BYTES);
    if (!sink && sizesKnown) {
      yield* skipBytes(member.csize);
      return;
    }
    yield* scanBytes((b, eof) => {
      let used = 0;
      for (;;) {
        // small output steps so the ratio check runs before a bomb gets far
        const u = inflater.push(b.subarray(used), eof, INFLATE_STEP);
        used += u;
        consumed += u;
        if (inflater.totalOut > BOMB_MIN_BYTES && inflater.totalOut > consumed * BOMB_RATIO) {
          member.problem = `inflates more than ${BOMB_RATIO}x (${inflater.totalOut} bytes from ${consumed}); inflation stopped`;
          member.bomb = true;
          return ~used;
        }
        if (inflater.error) {
          member.problem = `bad deflate data: ${inflater.error}`;
          return ~used;
        }
        if (inflater.finished) return ~used;
        if (!inflater.paused) return used;
      }
    });
    if (member.problem) {
      if (!sizesKnown) throw new ParseError(`${member.problem} in ${member.name.slice(0, 100)}; the stream walk stops here`, "corrupt");
      yield* skipBytes(Math.max(0, member.csize - consumed));
    } else if (sizesKnown && member.csize !== consumed) {
      member.problem = `deflate stream is ${consumed} bytes, header says ${member.csize}`;
      if (member.csize > consumed) yield* skipBytes(member.csize - consumed);
    }
  }

  /**
   * A stored member whose size is only in the data descriptor after it (PyTorch's writer does this):
   * the data ends at the first "PK\x07\x08" followed by sizes equal to the bytes seen so far. The
   * sizes alone make a false match practically impossible, and the directory check catches a forged one.
   */
  private *storedUntilDescriptor(sink: MemberSink | null, f: Feeder): ParserGen {
    let dataLen = 0;
    let found = false;
    const emit = (b: Uint8Array) => {
      if (b.length === 0) return;
      dataLen += b.length;
      sink?.write(b);
    };
    yield* scanBytes((b, eof) => {
      const buf = Buffer.from(b.buffer, b.byteOffset, b.length);
      for (let from = 0; ;) {
        const j = buf.indexOf(DESCRIPTOR_SIG, from);
        if (j < 0) {
          // a signature may straddle the end of this view: keep the last 3 bytes
          const safe = eof ? b.length : Math.max(0, b.length - 3);
          emit(b.subarray(0, safe));
          return safe;
        }
        if (j + 24 > b.length && !eof) {
          emit(b.subarray(0, j));
          return j;
        }
        const size = dataLen + j;
        if (j + 16 <= b.length && u32le(b, j + 8) === size % 0x100000000 && u32le(b, j + 12) === size % 0x100000000 && size < 0x100000000) {
          emit(b.subarray(0, j));
          found = true;
          return ~(j + 16);
        }
        if (j + 24 <= b.length && u64le(b, j + 8) === size && u64le(b, j + 16) === size) {
          emit(b.subarray(0, j));
          found = true;
          return ~(j + 24);
        }
        from = j + 1;
      }
    });
    if (!found) throw new ParseError(`stored member without a findable data descriptor (at ${f.pos})`, "truncated");
  }

  private *descriptor(zip64: boolean): ParserGen {
    const first = yield* readU32();
    const rest = zip64 ? 20 : 12;
    yield* skipBytes(first === SIG_DESCRIPTOR ? rest : rest - 4);
  }

  private *centralRecord(f: Feeder, at: number): ParserGen {
    const h = (yield* readBytes(42)).slice();
    const e = parseCentralFixed(h, at);
    e.name = decodeName(yield* readBytes(u16le(h, 24)));
    const extra = (yield* readBytes(u16le(h, 26))).slice();
    yield* skipBytes(u16le(h, 28));
    Object.assign(e, zip64Fields(extra, e.usize, e.csize, e.offset));
    e.end = f.pos;
    if (this.central.size < MAX_MEMBERS) this.central.set(at, e);
  }
}

function isSignatureTail(a: number, b: number): boolean {
  return (a === 3 && b === 4) || (a === 1 && b === 2) || (a === 5 && b === 6) || (a === 6 && (b === 6 || b === 7));
}

function parseCentralFixed(h: Uint8Array, at: number): CentralEntry {
  return {
    name: "",
    flags: u16le(h, 4),
    method: u16le(h, 6),
    crc: u32le(h, 12),
    csize: u32le(h, 16),
    usize: u32le(h, 20),
    offset: u32le(h, 38),
    at,
    end: at,
  };
}

/**
 * The EOCD record the loaders use: with no archive comment, the 22 bytes at the very end; otherwise
 * the LAST signature within the final 64 KiB + 22 bytes (Python's zipfile._EndRecData; miniz also
 * searches backwards from the end). `tail` holds the file's last bytes, starting at `tailStart`.
 */
export function findEocd(tail: Uint8Array, tailStart: number, fileSize: number): Eocd | null {
  const end = tail.length;
  let at = -1;
  if (end >= EOCD_SIZE && u32le(tail, end - EOCD_SIZE) === SIG_EOCD && u16le(tail, end - 2) === 0) {
    at = end - EOCD_SIZE;
  } else {
    const from = Math.max(0, fileSize - EOCD_SEARCH - tailStart);
    for (let i = end - 4; i >= from; i--) {
      if (tail[i] === 0x50 && u32le(tail, i) === SIG_EOCD) {
        at = i;
        break;
      }
    }
    if (at < 0 || at + EOCD_SIZE > end) return null;
  }
  const eocd: Eocd = {
    offset: tailStart + at,
    entries: u16le(tail, at + 10),
    cdSize: u32le(tail, at + 12),
    cdOffset: u32le(tail, at + 16),
    commentLength: u16le(tail, at + 20),
    zip64: false,
  };
  const loc = at - LOCATOR64_SIZE;
  if (loc >= 0 && u32le(tail, loc) === SIG_LOCATOR64) {
    const rec = loc - EOCD64_SIZE;
    if (rec >= 0 && u32le(tail, rec) === SIG_EOCD64) {
      eocd.zip64 = true;
      eocd.entries = u64le(tail, rec + 32);
      eocd.cdSize = u64le(tail, rec + 40);
      eocd.cdOffset = u64le(tail, rec + 48);
    }
  }
  return eocd;
}

/** Python's zipfile: offsets are relative to where the archive starts when data was prepended. */
export function archiveOffset(e: Eocd): number {
  return e.offset - e.cdSize - e.cdOffset - (e.zip64 ? EOCD64_SIZE + LOCATOR64_SIZE : 0);
}

/** Central-directory records in `cd` (the loaders read records until `cdSize` bytes are used). */
export function parseCentral(cd: Uint8Array, start: number): { entries: CentralEntry[]; error: string | null } {
  const entries: CentralEntry[] = [];
  let p = 0;
  while (p < cd.length && entries.length < MAX_MEMBERS) {
    if (p + 46 > cd.length || u32le(cd, p) !== SIG_CENTRAL) return { entries, error: `bad central directory record at ${start + p}` };
    const e = parseCentralFixed(cd.subarray(p + 4, p + 46), start + p);
    const nameLen = u16le(cd, p + 28);
    const extraLen = u16le(cd, p + 30);
    const commentLen = u16le(cd, p + 32);
    const next = p + 46 + nameLen + extraLen + commentLen;
    if (next > cd.length) return { entries, error: `central directory record at ${start + p} overruns the directory` };
    e.name = decodeName(cd.subarray(p + 46, p + 46 + nameLen));
    Object.assign(e, zip64Fields(cd.subarray(p + 46 + nameLen, p + 46 + nameLen + extraLen), e.usize, e.csize, e.offset));
    e.end = start + next;
    entries.push(e);
    p = next;
  }
  return { entries, error: null };
}

/** Where a member's data starts, from its local header (the loaders read only the name and extra lengths there). */
export function localDataStart(header: Uint8Array, offset: number): number | null {
  if (header.length < 30 || u32le(header, 0) !== SIG_LOCAL) return null;
  return offset + 30 + u16le(header, 26) + u16le(header, 28);
}
