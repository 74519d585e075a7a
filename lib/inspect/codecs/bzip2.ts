import { DecodeError, InputBuffer, type Output, type StreamDecoder } from "./decoder";

/**
 * bzip2 decoding (the format of Python's bz2 module, joblib's compress="bz2" and zip method 12), after
 * bzip2's decompress.c: Huffman-coded MTF/RLE2 symbols, inverse BWT, RLE1, block and stream CRCs.
 * Multi-stream files (bz2 streams back to back) are read to the end as Python's BZ2File does.
 * Streaming: a block's tables are read once 32 KiB (or the rest of the input) are buffered, and each
 * symbol once 16 bytes are, so a write may stop and resume between symbols.
 */

const BLOCK_MAGIC_HI = 0x314159;
const BLOCK_MAGIC_LO = 0x265359;
const END_MAGIC_HI = 0x177245;
const END_MAGIC_LO = 0x385090;
const MAX_GROUPS = 6;
const MAX_ALPHA = 258;
const MAX_CODE_LEN = 20;
const MAX_SELECTORS = 18002;
const GROUP_SIZE = 50;
const TABLES_INPUT = 32 * 1024;
const SYMBOL_INPUT = 16;
const OUT_CHUNK = 64 * 1024;

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i << 24;
    for (let k = 0; k < 8; k++) c = c & 0x80000000 ? (c << 1) ^ 0x04c11db7 : c << 1;
    t[i] = c >>> 0;
  }
  return t;
})();

interface Table {
  limit: Int32Array;
  base: Int32Array;
  perm: Int32Array;
  minLen: number;
}

const PHASE_STREAM = 0;
const PHASE_BLOCK = 1;
const PHASE_SYMBOLS = 2;
const PHASE_DONE = 3;

export class Bzip2Decoder implements StreamDecoder {
  finished = false;
  trailing = 0;
  private readonly input = new InputBuffer();
  private bitBuf = 0;
  private bitCount = 0;
  private phase = PHASE_STREAM;
  private ended = false;
  private blockMax = 0;
  private streamCrc = 0;
  // current block
  private blockCrc = 0;
  private origPtr = 0;
  private seqToUnseq = new Uint8Array(256);
  private inUse = 0;
  private selectors = new Uint8Array(MAX_SELECTORS);
  private tables: Table[] = [];
  private tt = new Uint32Array(0);
  private count = new Int32Array(256);
  private mtf = new Uint8Array(256);
  private nblock = 0;
  private groupNo = -1;
  private groupPos = 0;
  private runLength = 0;
  private runWeight = 1;
  private out = new Uint8Array(OUT_CHUNK);
  private outLen = 0;

  constructor(private readonly emit: Output) {}

  write(chunk: Uint8Array): void {
    if (this.phase === PHASE_DONE) {
      this.trailing += chunk.length;
      return;
    }
    this.input.append(chunk);
    this.run();
  }

  end(): void {
    this.ended = true;
    if (this.phase !== PHASE_DONE) this.run();
    if (!this.finished) throw new DecodeError("bzip2 stream ends early", "truncated");
  }

  private availableBits(): number {
    return this.input.available * 8 + this.bitCount;
  }

  private bits(n: number): number {
    while (this.bitCount < n) {
      if (this.input.pos >= this.input.len) throw new DecodeError("bzip2 data ends early", "truncated");
      this.bitBuf = ((this.bitBuf << 8) | this.input.buf[this.input.pos++]!) & 0xffffffff;
      this.bitCount += 8;
    }
    this.bitCount -= n;
    return (this.bitBuf >>> this.bitCount) & ((1 << n) - 1);
  }

  private run(): void {
    for (;;) {
      if (this.phase === PHASE_STREAM) {
        if (!this.streamHeader()) return;
      } else if (this.phase === PHASE_BLOCK) {
        if (!this.ended && this.input.available < TABLES_INPUT) return;
        this.blockHeader();
      } else if (this.phase === PHASE_SYMBOLS) {
        if (!this.symbols()) return;
      } else {
        return;
      }
    }
  }

  /** "BZh1".."BZh9" at the start or after a finished stream; anything else after one ends the input. */
  private streamHeader(): boolean {
    this.bitCount = 0;
    if (this.input.available < 4) {
      if (!this.ended) return false;
      if (this.finished) {
        this.trailing += this.input.available;
        this.phase = PHASE_DONE;
        return false;
      }
      throw new DecodeError("bzip2 header is incomplete", "truncated");
    }
    const b = this.input.buf;
    const p = this.input.pos;
    if (b[p] !== 0x42 || b[p + 1] !== 0x5a || b[p + 2] !== 0x68 || b[p + 3]! < 0x31 || b[p + 3]! > 0x39) {
      if (!this.finished) throw new DecodeError("not a bzip2 stream");
      this.trailing += this.input.available;
      this.input.pos = this.input.len;
      this.phase = PHASE_DONE;
      return false;
    }
    this.blockMax = (b[p + 3]! - 0x30) * 100_000;
    if (this.tt.length < this.blockMax) this.tt = new Uint32Array(this.blockMax);
    this.input.pos += 4;
    this.streamCrc = 0;
    this.phase = PHASE_BLOCK;
    return true;
  }

  private blockHeader(): void {
    const hi = this.bits(24);
    const lo = this.bits(24);
    if (hi === END_MAGIC_HI && lo === END_MAGIC_LO) {
      const crc = (this.bits(16) * 0x10000 + this.bits(16)) >>> 0;
      if (crc !== this.streamCrc >>> 0) throw new DecodeError("bzip2 stream CRC mismatch");
      this.finished = true;
      this.phase = PHASE_STREAM;
      return;
    }
    if (hi !== BLOCK_MAGIC_HI || lo !== BLOCK_MAGIC_LO) throw new DecodeError("bad bzip2 block header");
    this.blockCrc = (this.bits(16) * 0x10000 + this.bits(16)) >>> 0;
    if (this.bits(1)) throw new DecodeError("randomised bzip2 blocks are not supported", "unsupported");
    this.origPtr = this.bits(24);
    this.readMapping();
    this.readSelectors();
    this.readTables();
    this.nblock = 0;
    this.groupNo = -1;
    this.groupPos = 0;
    this.runLength = 0;
    this.runWeight = 1;
    this.count.fill(0);
    for (let i = 0; i < 256; i++) this.mtf[i] = i;
    this.phase = PHASE_SYMBOLS;
  }

  private readMapping(): void {
    const used16 = this.bits(16);
    this.inUse = 0;
    for (let i = 0; i < 16; i++) {
      if (!(used16 & (0x8000 >>> i))) continue;
      const word = this.bits(16);
      for (let j = 0; j < 16; j++) if (word & (0x8000 >>> j)) this.seqToUnseq[this.inUse++] = i * 16 + j;
    }
    if (this.inUse === 0) throw new DecodeError("bzip2 block uses no symbols");
  }

  private readSelectors(): void {
    const groups = this.bits(3);
    if (groups < 2 || groups > MAX_GROUPS) throw new DecodeError("bad bzip2 group count");
    const nSelectors = this.bits(15);
    if (nSelectors < 1) throw new DecodeError("bad bzip2 selector count");
    const order = [0, 1, 2, 3, 4, 5].slice(0, groups);
    for (let i = 0; i < nSelectors; i++) {
      let j = 0;
      while (this.bits(1)) if (++j >= groups) throw new DecodeError("bad bzip2 selector");
      // selectors beyond the maximum are read and ignored, as bzip2 1.0.8 does
      if (i < MAX_SELECTORS) {
        const v = order[j]!;
        order.splice(j, 1);
        order.unshift(v);
        this.selectors[i] = v;
      }
    }
    this.tables = new Array(groups);
  }

  private readTables(): void {
    const alpha = this.inUse + 2;
    const lens = new Uint8Array(MAX_ALPHA);
    for (let t = 0; t < this.tables.length; t++) {
      let cur = this.bits(5);
      for (let i = 0; i < alpha; i++) {
        for (;;) {
          if (cur < 1 || cur > MAX_CODE_LEN) throw new DecodeError("bad bzip2 code length");
          if (!this.bits(1)) break;
          cur += this.bits(1) ? -1 : 1;
        }
        lens[i] = cur;
      }
      this.tables[t] = buildTable(lens, alpha);
    }
  }

  private nextSymbol(): number {
    if (this.groupPos === 0) {
      this.groupNo++;
      this.groupPos = GROUP_SIZE;
      if (this.groupNo >= MAX_SELECTORS) throw new DecodeError("bzip2 block has too many symbols");
    }
    this.groupPos--;
    const t = this.tables[this.selectors[this.groupNo]!]!;
    let n = t.minLen;
    let v = this.bits(n);
    while (n <= MAX_CODE_LEN && v > t.limit[n]!) {
      n++;
      v = (v << 1) | this.bits(1);
    }
    const idx = v - t.base[n]!;
    if (n > MAX_CODE_LEN || idx < 0 || idx >= MAX_ALPHA) throw new DecodeError("bad bzip2 Huffman code");
    return t.perm[idx]!;
  }

  /** Decodes symbols while input lasts; true when the block is complete (and was output). */
  private symbols(): boolean {
    const eob = this.inUse + 1;
    for (;;) {
      if (!this.ended && this.availableBits() < SYMBOL_INPUT * 8) return false;
      const sym = this.nextSymbol();
      if (sym <= 1) {
        // RUNA / RUNB: a bijective base-2 run length of the front symbol
        this.runLength += (sym + 1) * this.runWeight;
        this.runWeight *= 2;
        if (this.runWeight > 2 * 1024 * 1024) throw new DecodeError("bzip2 run is too long");
        continue;
      }
      this.flushRun();
      if (sym === eob) break;
      const idx = sym - 1;
      const v = this.mtf[idx]!;
      this.mtf.copyWithin(1, 0, idx);
      this.mtf[0] = v;
      this.pushByte(this.seqToUnseq[v]!);
    }
    this.finishBlock();
    return true;
  }

  private flushRun(): void {
    if (this.runLength === 0) return;
    const uc = this.seqToUnseq[this.mtf[0]!]!;
    if (this.nblock + this.runLength > this.blockMax) throw new DecodeError("bzip2 block is larger than declared");
    this.tt.fill(uc, this.nblock, this.nblock + this.runLength);
    this.count[uc]! += this.runLength;
    this.nblock += this.runLength;
    this.runLength = 0;
    this.runWeight = 1;
  }

  private pushByte(b: number): void {
    if (this.nblock >= this.blockMax) throw new DecodeError("bzip2 block is larger than declared");
    this.tt[this.nblock++] = b;
    this.count[b]!++;
  }

  /** Inverse BWT, then RLE1 decoding into the output, checking the block CRC. */
  private finishBlock(): void {
    const n = this.nblock;
    if (this.origPtr >= n) throw new DecodeError("bad bzip2 block origin");
    const tt = this.tt;
    const start = new Int32Array(256);
    for (let i = 0, sum = 0; i < 256; i++) {
      start[i] = sum;
      sum += this.count[i]!;
    }
    for (let i = 0; i < n; i++) {
      const uc = tt[i]! & 0xff;
      tt[start[uc]!]! |= i << 8;
      start[uc]!++;
    }
    let crc = 0xffffffff;
    let pos = tt[this.origPtr]! >>> 8;
    let last = -1;
    let run = 0;
    for (let i = 0; i < n; i++) {
      pos = tt[pos]!;
      const b = pos & 0xff;
      pos >>>= 8;
      if (run === 4) {
        for (let k = 0; k < b; k++) crc = this.put(last, crc);
        run = 0;
        last = -1;
        continue;
      }
      crc = this.put(b, crc);
      run = b === last ? run + 1 : 1;
      last = b;
    }
    this.flushOut();
    crc = ~crc >>> 0;
    if (crc !== this.blockCrc) throw new DecodeError("bzip2 block CRC mismatch");
    this.streamCrc = (((this.streamCrc << 1) | (this.streamCrc >>> 31)) ^ crc) >>> 0;
    this.phase = PHASE_BLOCK;
  }

  private put(b: number, crc: number): number {
    this.out[this.outLen++] = b;
    if (this.outLen === OUT_CHUNK) this.flushOut();
    return ((crc << 8) ^ CRC_TABLE[((crc >>> 24) ^ b) & 0xff]!) >>> 0;
  }

  private flushOut(): void {
    if (this.outLen > 0) this.emit(this.out.subarray(0, this.outLen));
    this.outLen = 0;
  }
}

function buildTable(lens: Uint8Array, alpha: number): Table {
  let minLen = 32;
  let maxLen = 0;
  for (let i = 0; i < alpha; i++) {
    minLen = Math.min(minLen, lens[i]!);
    maxLen = Math.max(maxLen, lens[i]!);
  }
  const perm = new Int32Array(MAX_ALPHA);
  const base = new Int32Array(MAX_CODE_LEN + 2);
  const limit = new Int32Array(MAX_CODE_LEN + 2).fill(-1);
  let pp = 0;
  for (let len = minLen; len <= maxLen; len++) for (let i = 0; i < alpha; i++) if (lens[i] === len) perm[pp++] = i;
  const count = new Int32Array(MAX_CODE_LEN + 2);
  for (let i = 0; i < alpha; i++) count[lens[i]!]!++;
  let code = 0;
  let index = 0;
  for (let len = minLen; len <= maxLen; len++) {
    base[len] = code - index;
    code += count[len]!;
    index += count[len]!;
    limit[len] = code - 1;
    code <<= 1;
  }
  for (let len = maxLen + 1; len <= MAX_CODE_LEN + 1; len++) limit[len] = 0x7fffffff;
  return { limit, base, perm, minLen };
}
