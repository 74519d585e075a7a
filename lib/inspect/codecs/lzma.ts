import { Feeder, ParseError, readBytes, scanBytes, skipBytes, u32le, u64le, type ParserGen } from "../feeder";
import { DecodeError, InputBuffer, type Output, type StreamDecoder } from "./decoder";

/**
 * LZMA decoding in plain TypeScript, after the LZMA SDK's reference decoder (LzmaSpec.cpp):
 * raw LZMA1 (the .lzma "alone" format, 7z and zip method 14), LZMA2 chunks, and the xz container
 * (LZMA2 blocks only). Streaming: a symbol is decoded only when enough input for any symbol is
 * buffered (or the input has ended), so a write may stop and resume between symbols.
 */

/** Largest dictionary we allocate (xz -9 and 7z ultra use 64 MiB). */
const MAX_DICT = 256 * 1024 * 1024;
/** Input bytes one symbol can consume at most, with margin. */
const SYMBOL_INPUT = 64;
const N_STATES = 12;
const POS_BITS_MAX = 4;
const END_POS_MODEL = 14;
const MATCH_MIN = 2;

class RangeDecoder {
  range = 0;
  code = 0;
  buf = new Uint8Array(0);
  pos = 0;
  end = 0;

  init(): void {
    if (this.next() !== 0) throw new DecodeError("bad LZMA range coder start");
    this.range = 0xffffffff;
    this.code = 0;
    for (let i = 0; i < 4; i++) this.code = ((this.code << 8) | this.next()) >>> 0;
    if (this.code === this.range) throw new DecodeError("bad LZMA range coder start");
  }

  next(): number {
    if (this.pos >= this.end) throw new DecodeError("LZMA data ends early", "truncated");
    return this.buf[this.pos++]!;
  }

  bit(probs: Uint16Array, i: number): number {
    const p = probs[i]!;
    const bound = (this.range >>> 11) * p;
    let bit: number;
    if (this.code < bound) {
      this.range = bound;
      probs[i] = p + ((2048 - p) >>> 5);
      bit = 0;
    } else {
      this.range -= bound;
      this.code -= bound;
      probs[i] = p - (p >>> 5);
      bit = 1;
    }
    if (this.range < 0x1000000) {
      this.range = (this.range << 8) >>> 0;
      this.code = ((this.code << 8) | this.next()) >>> 0;
    }
    return bit;
  }

  direct(n: number): number {
    let res = 0;
    for (let i = 0; i < n; i++) {
      this.range >>>= 1;
      let b = 0;
      if (this.code >= this.range) {
        this.code -= this.range;
        b = 1;
      }
      res = ((res << 1) | b) >>> 0;
      if (this.range < 0x1000000) {
        this.range = (this.range << 8) >>> 0;
        this.code = ((this.code << 8) | this.next()) >>> 0;
      }
    }
    return res;
  }

  tree(probs: Uint16Array, base: number, bits: number): number {
    let m = 1;
    for (let i = 0; i < bits; i++) m = (m << 1) | this.bit(probs, base + m);
    return m - (1 << bits);
  }

  reverse(probs: Uint16Array, base: number, bits: number): number {
    let m = 1;
    let sym = 0;
    for (let i = 0; i < bits; i++) {
      const b = this.bit(probs, base + m);
      m = (m << 1) | b;
      sym |= b << i;
    }
    return sym;
  }
}

class LenDecoder {
  choice = new Uint16Array(2);
  low = new Uint16Array(16 << 3);
  mid = new Uint16Array(16 << 3);
  high = new Uint16Array(256);

  reset(): void {
    this.choice.fill(1024);
    this.low.fill(1024);
    this.mid.fill(1024);
    this.high.fill(1024);
  }

  decode(rc: RangeDecoder, posState: number): number {
    if (rc.bit(this.choice, 0) === 0) return rc.tree(this.low, posState << 3, 3);
    if (rc.bit(this.choice, 1) === 0) return 8 + rc.tree(this.mid, posState << 3, 3);
    return 16 + rc.tree(this.high, 0, 8);
  }
}

/** The LZMA1 decoder core: window, probabilities and state; LZMA2 and the containers drive it. */
export class LzmaCore {
  lc = 0;
  lp = 0;
  pb = 0;
  /** Bytes output since the last dictionary reset. */
  total = 0;
  finished = false;
  readonly rc = new RangeDecoder();
  private win: Uint8Array;
  private winPos = 0;
  private flushed = 0;
  private full = false;
  private state = 0;
  private rep0 = 0;
  private rep1 = 0;
  private rep2 = 0;
  private rep3 = 0;
  private remain = 0;
  private literal = new Uint16Array(0x300);
  private readonly isMatch = new Uint16Array(N_STATES << POS_BITS_MAX);
  private readonly isRep = new Uint16Array(N_STATES);
  private readonly isRepG0 = new Uint16Array(N_STATES);
  private readonly isRepG1 = new Uint16Array(N_STATES);
  private readonly isRepG2 = new Uint16Array(N_STATES);
  private readonly isRep0Long = new Uint16Array(N_STATES << POS_BITS_MAX);
  private readonly posSlot = new Uint16Array(4 << 6);
  private readonly posDecoders = new Uint16Array(1 + 114);
  private readonly align = new Uint16Array(1 << 4);
  private readonly lenDec = new LenDecoder();
  private readonly repLenDec = new LenDecoder();

  constructor(
    dictSize: number,
    private readonly out: Output,
  ) {
    if (dictSize > MAX_DICT) throw new DecodeError(`LZMA dictionary of ${dictSize} bytes is larger than we decode`, "limit");
    this.win = new Uint8Array(Math.max(4096, dictSize));
  }

  setProps(d: number): void {
    if (d >= 9 * 5 * 5) throw new DecodeError("bad LZMA properties");
    this.lc = d % 9;
    d = (d / 9) | 0;
    this.lp = d % 5;
    this.pb = (d / 5) | 0;
    this.literal = new Uint16Array(0x300 << (this.lc + this.lp));
  }

  resetDict(): void {
    this.winPos = 0;
    this.flushed = 0;
    this.full = false;
    this.total = 0;
  }

  resetState(): void {
    this.literal.fill(1024);
    for (const a of [
      this.isMatch,
      this.isRep,
      this.isRepG0,
      this.isRepG1,
      this.isRepG2,
      this.isRep0Long,
      this.posSlot,
      this.posDecoders,
      this.align,
    ])
      a.fill(1024);
    this.lenDec.reset();
    this.repLenDec.reset();
    this.state = 0;
    this.rep0 = this.rep1 = this.rep2 = this.rep3 = 0;
    this.remain = 0;
  }

  /** Copies stored bytes (LZMA2 uncompressed chunks) into the window and out. */
  putRaw(b: Uint8Array): void {
    for (let i = 0; i < b.length; i++) this.put(b[i]!);
    this.flush();
  }

  flush(): void {
    if (this.winPos > this.flushed) this.out(this.win.subarray(this.flushed, this.winPos));
    this.flushed = this.winPos;
  }

  private put(b: number): void {
    this.win[this.winPos++] = b;
    this.total++;
    if (this.winPos === this.win.length) {
      this.flush();
      this.winPos = 0;
      this.flushed = 0;
      this.full = true;
    }
  }

  private byteAt(dist: number): number {
    let i = this.winPos - dist - 1;
    if (i < 0) i += this.win.length;
    return this.win[i]!;
  }

  /**
   * Decodes from rc's buffer until `limit` total bytes were output, the end marker, or (when the
   * input is not complete) fewer than SYMBOL_INPUT bytes remain.
   */
  decode(limit: number, complete: boolean, allowEndMarker: boolean): void {
    const rc = this.rc;
    while (this.total < limit && !this.finished) {
      if (this.remain > 0) {
        this.copyMatch(limit);
        continue;
      }
      if (!complete && rc.end - rc.pos < SYMBOL_INPUT) break;
      this.symbol(allowEndMarker);
    }
    this.flush();
  }

  private symbol(allowEndMarker: boolean): void {
    const rc = this.rc;
    const posState = this.total & ((1 << this.pb) - 1);
    if (rc.bit(this.isMatch, (this.state << POS_BITS_MAX) + posState) === 0) return this.decodeLiteral();
    let len: number;
    if (rc.bit(this.isRep, this.state) === 0) {
      this.rep3 = this.rep2;
      this.rep2 = this.rep1;
      this.rep1 = this.rep0;
      len = this.lenDec.decode(rc, posState);
      this.state = this.state < 7 ? 7 : 10;
      this.rep0 = this.distance(len);
      if (this.rep0 === 0xffffffff) {
        if (!allowEndMarker) throw new DecodeError("unexpected LZMA end marker");
        this.finished = true;
        return;
      }
    } else {
      if (this.total === 0 && !this.full) throw new DecodeError("LZMA repeat before any data");
      if (rc.bit(this.isRepG0, this.state) === 0) {
        if (rc.bit(this.isRep0Long, (this.state << POS_BITS_MAX) + posState) === 0) {
          this.state = this.state < 7 ? 9 : 11;
          this.put(this.byteAt(this.rep0));
          return;
        }
      } else {
        let dist: number;
        if (rc.bit(this.isRepG1, this.state) === 0) {
          dist = this.rep1;
        } else {
          if (rc.bit(this.isRepG2, this.state) === 0) {
            dist = this.rep2;
          } else {
            dist = this.rep3;
            this.rep3 = this.rep2;
          }
          this.rep2 = this.rep1;
        }
        this.rep1 = this.rep0;
        this.rep0 = dist;
      }
      len = this.repLenDec.decode(rc, posState);
      this.state = this.state < 7 ? 8 : 11;
    }
    if (this.rep0 >= this.win.length || (!this.full && this.rep0 >= this.winPos))
      throw new DecodeError("LZMA match distance beyond the data");
    this.remain = len + MATCH_MIN;
  }

  private copyMatch(limit: number): void {
    const n = Math.min(this.remain, limit - this.total);
    for (let i = 0; i < n; i++) this.put(this.byteAt(this.rep0));
    this.remain -= n;
  }

  private decodeLiteral(): void {
    const rc = this.rc;
    const prev = this.total > 0 || this.full ? this.byteAt(0) : 0;
    const litState = ((this.total & ((1 << this.lp) - 1)) << this.lc) + (prev >>> (8 - this.lc));
    const base = 0x300 * litState;
    const probs = this.literal;
    let sym = 1;
    if (this.state >= 7) {
      let match = this.byteAt(this.rep0);
      while (sym < 0x100) {
        const matchBit = (match >>> 7) & 1;
        match <<= 1;
        const bit = rc.bit(probs, base + ((1 + matchBit) << 8) + sym);
        sym = (sym << 1) | bit;
        if (matchBit !== bit) break;
      }
    }
    while (sym < 0x100) sym = (sym << 1) | rc.bit(probs, base + sym);
    this.put(sym - 0x100);
    this.state = this.state < 4 ? 0 : this.state < 10 ? this.state - 3 : this.state - 6;
  }

  private distance(len: number): number {
    const rc = this.rc;
    const lenState = Math.min(len, 3);
    const slot = rc.tree(this.posSlot, lenState << 6, 6);
    if (slot < 4) return slot;
    const direct = (slot >>> 1) - 1;
    let dist = ((2 | (slot & 1)) << direct) >>> 0;
    if (slot < END_POS_MODEL) return (dist + rc.reverse(this.posDecoders, dist - slot, direct)) >>> 0;
    dist = (dist + ((rc.direct(direct - 4) << 4) >>> 0)) >>> 0;
    return (dist + rc.reverse(this.align, 0, 4)) >>> 0;
  }
}

/** Raw LZMA1 with known properties (7z coders, zip method 14, .lzma): `size` null means "until the end marker". */
export class LzmaDecoder implements StreamDecoder {
  finished = false;
  trailing = 0;
  private readonly input = new InputBuffer();
  private readonly core: LzmaCore;
  private started = false;

  constructor(
    props: number,
    dictSize: number,
    private readonly size: number | null,
    out: Output,
  ) {
    this.core = new LzmaCore(size !== null ? Math.min(dictSize, Math.max(size, 4096)) : dictSize, out);
    this.core.setProps(props);
    this.core.resetState();
  }

  write(chunk: Uint8Array): void {
    if (this.finished) {
      this.trailing += chunk.length;
      return;
    }
    this.input.append(chunk);
    this.run(false);
  }

  end(): void {
    if (!this.finished) this.run(true);
    if (!this.finished) throw new DecodeError("LZMA stream ends early", "truncated");
  }

  private run(complete: boolean): void {
    const rc = this.core.rc;
    rc.buf = this.input.buf;
    rc.pos = this.input.pos;
    rc.end = this.input.len;
    if (!this.started) {
      if (!complete && this.input.available < 5) return;
      rc.init();
      this.started = true;
    }
    const limit = this.size ?? Number.MAX_SAFE_INTEGER;
    this.core.decode(limit, complete, true);
    this.input.pos = rc.pos;
    if (this.core.finished || this.core.total >= limit) {
      this.finished = true;
      this.trailing += this.input.available;
      this.input.pos = this.input.len;
    }
  }
}

/** Zip method 14: a 4-byte LZMA version/properties-size header, 5 property bytes, then raw LZMA1. */
export class ZipLzmaDecoder implements StreamDecoder {
  trailing = 0;
  private readonly head = new Uint8Array(9);
  private have = 0;
  private inner: LzmaDecoder | null = null;

  constructor(
    private readonly size: number | null,
    private readonly out: Output,
  ) {}

  get finished(): boolean {
    return this.inner?.finished ?? false;
  }

  write(chunk: Uint8Array): void {
    let c = chunk;
    if (!this.inner) {
      const take = Math.min(9 - this.have, c.length);
      this.head.set(c.subarray(0, take), this.have);
      this.have += take;
      c = c.subarray(take);
      if (this.have < 9) return;
      if (this.head[2] !== 5 || this.head[3] !== 0) throw new DecodeError("bad zip LZMA properties header");
      this.inner = new LzmaDecoder(this.head[4]!, u32le(this.head, 5), this.size, this.out);
    }
    if (c.length) this.inner.write(c);
    this.trailing = this.inner.trailing;
  }

  end(): void {
    if (!this.inner) throw new DecodeError("zip LZMA header is incomplete", "truncated");
    this.inner.end();
    this.trailing = this.inner.trailing;
  }
}

/** Dictionary size of an LZMA2 properties byte (xz filter properties, 7z coder properties). */
export function lzma2DictSize(b: number): number {
  if (b > 40) throw new DecodeError("bad LZMA2 dictionary size");
  return b === 40 ? 0xffffffff : (2 | (b & 1)) * 2 ** ((b >>> 1) + 11);
}

/** LZMA2: chunks of up to 64 KiB compressed, each decoded once it is complete. */
export class Lzma2Decoder implements StreamDecoder {
  finished = false;
  trailing = 0;
  private readonly input = new InputBuffer();
  private readonly core: LzmaCore;
  private needProps = true;
  private needDictReset = true;

  constructor(dictSize: number, out: Output) {
    this.core = new LzmaCore(Math.min(dictSize, MAX_DICT), out);
  }

  /** Feeds bytes; returns how many were used (fewer than given once the end marker was read). */
  write(chunk: Uint8Array): number {
    if (this.finished) {
      this.trailing += chunk.length;
      return 0;
    }
    this.input.append(chunk);
    while (!this.finished && this.chunk());
    if (this.finished) {
      const extra = this.input.available;
      this.input.pos = this.input.len;
      return chunk.length - extra;
    }
    return chunk.length;
  }

  end(): void {
    if (!this.finished) throw new DecodeError("LZMA2 stream ends early", "truncated");
  }

  private chunk(): boolean {
    const inp = this.input;
    const b = inp.buf;
    const p = inp.pos;
    if (inp.available < 1) return false;
    const control = b[p]!;
    if (control === 0) {
      inp.pos++;
      this.finished = true;
      return false;
    }
    if (control === 1 || control === 2) {
      if (inp.available < 3) return false;
      const size = ((b[p + 1]! << 8) | b[p + 2]!) + 1;
      if (inp.available < 3 + size) return false;
      if (control === 1) this.resetDict();
      else if (this.needDictReset) throw new DecodeError("LZMA2 starts without a dictionary reset");
      this.core.putRaw(b.subarray(p + 3, p + 3 + size));
      inp.pos = p + 3 + size;
      return true;
    }
    if (control < 0x80) throw new DecodeError(`bad LZMA2 control byte ${control}`);
    const reset = (control >>> 5) & 3;
    const head = reset >= 2 ? 6 : 5;
    if (inp.available < head) return false;
    const unpacked = ((control & 0x1f) << 16) + (b[p + 1]! << 8) + b[p + 2]! + 1;
    const packed = (b[p + 3]! << 8) + b[p + 4]! + 1;
    if (inp.available < head + packed) return false;
    if (reset === 3) this.resetDict();
    else if (this.needDictReset) throw new DecodeError("LZMA2 starts without a dictionary reset");
    if (reset >= 2) {
      this.core.setProps(b[p + 5]!);
      if (this.core.lc + this.core.lp > 4) throw new DecodeError("bad LZMA2 properties");
      this.needProps = false;
    } else if (this.needProps) throw new DecodeError("LZMA2 chunk without properties");
    if (reset >= 1) this.core.resetState();
    const rc = this.core.rc;
    rc.buf = b;
    rc.pos = p + head;
    rc.end = p + head + packed;
    rc.init();
    const target = this.core.total + unpacked;
    this.core.decode(target, true, false);
    if (this.core.total !== target) throw new DecodeError("LZMA2 chunk decodes to the wrong size");
    inp.pos = p + head + packed;
    return true;
  }

  private resetDict(): void {
    this.core.resetDict();
    this.needDictReset = false;
  }
}

/** The .lzma "alone" format (Python's lzma FORMAT_ALONE, joblib's .lzma): 13-byte header, then LZMA1. */
export class LzmaAloneDecoder implements StreamDecoder {
  trailing = 0;
  private readonly header = new Uint8Array(13);
  private have = 0;
  private inner: LzmaDecoder | null = null;

  constructor(private readonly out: Output) {}

  get finished(): boolean {
    return this.inner?.finished ?? false;
  }

  write(chunk: Uint8Array): void {
    let c = chunk;
    if (!this.inner) {
      const take = Math.min(13 - this.have, c.length);
      this.header.set(c.subarray(0, take), this.have);
      this.have += take;
      c = c.subarray(take);
      if (this.have < 13) return;
      const dict = u32le(this.header, 1);
      const lo = u32le(this.header, 5);
      const hi = u32le(this.header, 9);
      const size = lo === 0xffffffff && hi === 0xffffffff ? null : u64le(this.header, 5);
      this.inner = new LzmaDecoder(this.header[0]!, dict, size, this.out);
    }
    if (c.length) this.inner.write(c);
    this.trailing = this.inner.trailing;
  }

  end(): void {
    if (!this.inner) throw new DecodeError("LZMA header is incomplete", "truncated");
    this.inner.end();
    this.trailing = this.inner.trailing;
  }
}

const XZ_MAGIC = [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00];
const CHECK_SIZE = [0, 4, 4, 4, 8, 8, 8, 16, 16, 16, 32, 32, 32, 64, 64, 64];

function* readMultibyte(): ParserGen<number> {
  let v = 0;
  for (let i = 0; i < 9; i++) {
    const b = (yield* readBytes(1))[0]!;
    v += (b & 0x7f) * 2 ** (7 * i);
    if ((b & 0x80) === 0) return v;
  }
  throw new ParseError("bad xz integer");
}

/** The xz container (Python's lzma default format): streams of LZMA2 blocks; other filters are refused. */
export class XzDecoder implements StreamDecoder {
  finished = false;
  private readonly feeder: Feeder;

  constructor(private readonly out: Output) {
    this.feeder = new Feeder(() => this.parse());
  }

  get trailing(): number {
    return this.feeder.trailing;
  }

  write(chunk: Uint8Array): void {
    this.feeder.write(chunk);
    this.rethrow();
  }

  end(): void {
    this.feeder.end();
    this.rethrow();
    if (!this.finished) throw new DecodeError("xz stream ends early", "truncated");
  }

  private rethrow(): void {
    const e = this.feeder.error;
    if (!e) return;
    if (e instanceof DecodeError) throw e;
    if (e instanceof ParseError) throw new DecodeError(e.message, e.code === "unsupported" ? "unsupported" : "corrupt");
    throw new DecodeError((e as Error).message, (e as Error).name === "EofError" ? "truncated" : "corrupt");
  }

  private *parse(): ParserGen {
    for (let streams = 0; ; streams++) {
      const magic = yield* readBytes(6);
      if (!XZ_MAGIC.every((v, i) => magic[i] === v)) {
        if (streams === 0) throw new ParseError("not an xz stream");
        throw new ParseError("data after the xz stream");
      }
      const flags = (yield* readBytes(6)).slice();
      const check = flags[1]! & 0x0f;
      while (yield* this.block(CHECK_SIZE[check]!));
      this.finished = true;
      // stream padding (zeros) then maybe another stream
      for (;;) {
        const next = yield* this.peekEnd();
        if (next === null) return;
        if (next !== 0) break;
      }
    }
  }

  /** Skips zero padding; returns the next byte (unconsumed) or null at end of input. */
  private *peekEnd(): ParserGen<number | null> {
    let result: number | null = null;
    yield* scanBytes((b, eof) => {
      let i = 0;
      while (i < b.length && b[i] === 0) i++;
      if (i < b.length) {
        result = b[i]!;
        return ~i;
      }
      return eof ? ~i : i;
    });
    return result;
  }

  /** One block, or the index and footer (then false). */
  private *block(checkSize: number): ParserGen<boolean> {
    const first = (yield* readBytes(1))[0]!;
    if (first === 0) {
      yield* this.indexAndFooter();
      return false;
    }
    const header = (yield* readBytes(first * 4 + 3)).slice();
    const bflags = header[0]!;
    const filters = (bflags & 3) + 1;
    let p = 1;
    const varint = () => {
      let v = 0;
      for (let i = 0; i < 9 && p < header.length; i++) {
        const b = header[p++]!;
        v += (b & 0x7f) * 2 ** (7 * i);
        if ((b & 0x80) === 0) return v;
      }
      throw new ParseError("bad xz block header");
    };
    if (bflags & 0x40) varint();
    if (bflags & 0x80) varint();
    let dict = 0;
    for (let i = 0; i < filters; i++) {
      const id = varint();
      const propSize = varint();
      if (id !== 0x21 || i !== filters - 1 || propSize !== 1)
        throw new ParseError(`xz filter 0x${id.toString(16)} is not supported`, "unsupported");
      dict = lzma2DictSize(header[p++]!);
    }
    const lzma2 = new Lzma2Decoder(dict, this.out);
    let packed = 0;
    yield* scanBytes((b) => {
      const used = lzma2.write(b);
      packed += used;
      return lzma2.finished ? ~used : used;
    });
    yield* skipBytes((4 - (packed % 4)) % 4);
    yield* skipBytes(checkSize);
    return true;
  }

  private *indexAndFooter(): ParserGen {
    const records = yield* readMultibyte();
    let size = 1;
    size += varintSize(records);
    for (let i = 0; i < records; i++) {
      size += varintSize(yield* readMultibyte());
      size += varintSize(yield* readMultibyte());
    }
    yield* skipBytes(((4 - (size % 4)) % 4) + 4);
    const footer = yield* readBytes(12);
    if (footer[10] !== 0x59 || footer[11] !== 0x5a) throw new ParseError("bad xz stream footer");
  }
}

function varintSize(v: number): number {
  let n = 1;
  while (v >= 0x80) {
    v = Math.floor(v / 0x80);
    n++;
  }
  return n;
}
