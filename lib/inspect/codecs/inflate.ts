/**
 * Streaming raw-deflate decoder (RFC 1951) in plain TypeScript: synchronous, so it fits the push
 * inspector, holds only a 32 KiB window, and stops at an output cap (zip bombs). It never keeps
 * unconsumed input: `push` returns how many bytes it used and the caller re-presents the rest.
 */

const LBASE = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258];
const LEXT = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0];
const DBASE = [
  1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385,
  24577,
];
const DEXT = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13];
const CL_ORDER = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15];

interface Table {
  table: Int32Array;
  bits: number;
}

class NeedInput extends Error {}
const NEED = new NeedInput();

function buildTable(lengths: ArrayLike<number>, n: number): Table {
  const count = new Int32Array(16);
  for (let i = 0; i < n; i++) count[lengths[i]!]!++;
  count[0] = 0;
  let left = 1;
  let maxLen = 0;
  for (let len = 1; len <= 15; len++) {
    left <<= 1;
    left -= count[len]!;
    if (left < 0) throw new Error("over-subscribed Huffman code");
    if (count[len]! > 0) maxLen = len;
  }
  const next = new Int32Array(16);
  let code = 0;
  for (let len = 1; len <= 15; len++) {
    code = (code + count[len - 1]!) << 1;
    next[len] = code;
  }
  const bits = Math.max(maxLen, 1);
  const table = new Int32Array(1 << bits);
  for (let sym = 0; sym < n; sym++) {
    const len = lengths[sym]!;
    if (!len) continue;
    let c = next[len]!++;
    let rev = 0;
    for (let i = 0; i < len; i++) {
      rev = (rev << 1) | (c & 1);
      c >>= 1;
    }
    for (let i = rev; i < table.length; i += 1 << len) table[i] = (sym << 4) | len;
  }
  return { table, bits };
}

const FIXED_LIT = (() => {
  const l = new Uint8Array(288);
  l.fill(8, 0, 144);
  l.fill(9, 144, 256);
  l.fill(7, 256, 280);
  l.fill(8, 280, 288);
  return buildTable(l, 288);
})();
const FIXED_DIST = buildTable(new Uint8Array(30).fill(5), 30);

const ST_HEADER = 0;
const ST_STORED = 1;
const ST_CODES = 2;
const ST_DONE = 3;

export class Inflater {
  finished = false;
  error: string | null = null;
  totalOut = 0;
  private state = ST_HEADER;
  private final = false;
  private storedLeft = 0;
  private lit: Table = FIXED_LIT;
  private dist: Table = FIXED_DIST;
  private bitBuf = 0;
  private bitCnt = 0;
  private buf: Uint8Array = new Uint8Array(0);
  private pos = 0;
  private readonly window = new Uint8Array(32768);
  private wpos = 0;
  private flushed = 0;
  private pauseAt = Infinity;
  /** The last push stopped at its output budget with input left over. */
  paused = false;
  private totalFlushed = 0;

  constructor(
    private readonly onData: (b: Uint8Array) => void,
    private readonly maxOutput = Infinity,
  ) {}

  /**
   * Feeds compressed bytes and returns how many were consumed (fewer once the stream has ended, or
   * when `maxOut` bytes were produced: then `paused` is set and the caller pushes the rest again).
   */
  push(input: Uint8Array, eof = false, maxOut = Infinity): number {
    if (this.finished || this.error) return 0;
    this.buf = input;
    this.pos = 0;
    this.paused = false;
    this.pauseAt = this.totalOut + maxOut;
    try {
      this.run();
    } catch (e) {
      if (e !== NEED) this.error = (e as Error).message;
    }
    this.flush();
    if (!this.finished && !this.error && !this.paused && eof) this.error = "deflate stream is truncated";
    const used = this.pos;
    this.buf = new Uint8Array(0);
    return used;
  }

  private need(n: number): void {
    while (this.bitCnt < n) {
      if (this.pos >= this.buf.length) throw NEED;
      this.bitBuf |= this.buf[this.pos++]! << this.bitCnt;
      this.bitCnt += 8;
    }
  }

  private bits(n: number): number {
    if (n === 0) return 0;
    this.need(n);
    const v = this.bitBuf & ((1 << n) - 1);
    this.bitBuf >>>= n;
    this.bitCnt -= n;
    return v;
  }

  private decode(t: Table): number {
    const mask = (1 << t.bits) - 1;
    for (;;) {
      const e = t.table[this.bitBuf & mask]!;
      const len = e & 15;
      if (len !== 0 && len <= this.bitCnt) {
        this.bitBuf >>>= len;
        this.bitCnt -= len;
        return e >> 4;
      }
      if (this.bitCnt >= t.bits) throw new Error("invalid Huffman code");
      if (this.pos >= this.buf.length) throw NEED;
      this.bitBuf |= this.buf[this.pos++]! << this.bitCnt;
      this.bitCnt += 8;
    }
  }

  private run(): void {
    for (;;) {
      if (this.totalOut >= this.pauseAt && this.state !== ST_DONE) {
        this.paused = true;
        return;
      }
      // Each unit either completes or rolls back to here, so a chunk boundary never splits one.
      const savePos = this.pos;
      const saveBuf = this.bitBuf;
      const saveCnt = this.bitCnt;
      try {
        if (!this.step()) return;
      } catch (e) {
        if (e === NEED) {
          this.pos = savePos;
          this.bitBuf = saveBuf;
          this.bitCnt = saveCnt;
        }
        throw e;
      }
    }
  }

  /** One atomic unit of work; false when the stream is finished. */
  private step(): boolean {
    switch (this.state) {
      case ST_HEADER: {
        const h = this.bits(3);
        const type = h >> 1;
        if (type === 0) {
          const drop = this.bitCnt & 7;
          this.bitBuf >>>= drop;
          this.bitCnt -= drop;
          const len = this.bits(16);
          const nlen = this.bits(16);
          if ((len ^ 0xffff) !== nlen) throw new Error("stored block length check failed");
          this.storedLeft = len;
          this.state = ST_STORED;
        } else if (type === 1) {
          this.lit = FIXED_LIT;
          this.dist = FIXED_DIST;
          this.state = ST_CODES;
        } else if (type === 2) {
          this.readDynamic();
          this.state = ST_CODES;
        } else {
          throw new Error("invalid deflate block type");
        }
        this.final = (h & 1) === 1;
        return true;
      }
      case ST_STORED: {
        if (this.storedLeft === 0) {
          this.endBlock();
          return !this.finished;
        }
        if (this.pos >= this.buf.length) throw NEED;
        const take = Math.min(this.storedLeft, this.buf.length - this.pos);
        for (let i = 0; i < take; i++) this.out(this.buf[this.pos + i]!);
        this.pos += take;
        this.storedLeft -= take;
        return true;
      }
      case ST_CODES: {
        const sym = this.decode(this.lit);
        if (sym < 256) {
          this.out(sym);
          return true;
        }
        if (sym === 256) {
          this.endBlock();
          return !this.finished;
        }
        const li = sym - 257;
        if (li >= 29) throw new Error("invalid length symbol");
        const len = LBASE[li]! + this.bits(LEXT[li]!);
        const ds = this.decode(this.dist);
        if (ds >= 30) throw new Error("invalid distance symbol");
        const dist = DBASE[ds]! + this.bits(DEXT[ds]!);
        if (dist > this.totalOut) throw new Error("invalid distance too far back");
        for (let i = 0; i < len; i++) this.out(this.window[(this.wpos - dist) & 32767]!);
        return true;
      }
      default:
        return false;
    }
  }

  private endBlock(): void {
    if (this.final) {
      this.state = ST_DONE;
      this.finished = true;
    } else {
      this.state = ST_HEADER;
    }
  }

  private readDynamic(): void {
    const hlit = this.bits(5) + 257;
    const hdist = this.bits(5) + 1;
    const hclen = this.bits(4) + 4;
    if (hlit > 286 || hdist > 30) throw new Error("too many length or distance codes");
    const cl = new Uint8Array(19);
    for (let i = 0; i < hclen; i++) cl[CL_ORDER[i]!] = this.bits(3);
    const clTable = buildTable(cl, 19);
    const lengths = new Uint8Array(hlit + hdist);
    let i = 0;
    while (i < hlit + hdist) {
      const sym = this.decode(clTable);
      if (sym < 16) {
        lengths[i++] = sym;
        continue;
      }
      let rep: number;
      let val = 0;
      if (sym === 16) {
        if (i === 0) throw new Error("repeat with no previous length");
        val = lengths[i - 1]!;
        rep = 3 + this.bits(2);
      } else if (sym === 17) {
        rep = 3 + this.bits(3);
      } else {
        rep = 11 + this.bits(7);
      }
      if (i + rep > hlit + hdist) throw new Error("too many code lengths");
      lengths.fill(val, i, i + rep);
      i += rep;
    }
    if (lengths[256] === 0) throw new Error("missing end-of-block code");
    this.lit = buildTable(lengths.subarray(0, hlit), hlit);
    this.dist = buildTable(lengths.subarray(hlit), hdist);
  }

  private out(b: number): void {
    this.window[this.wpos] = b;
    this.wpos = (this.wpos + 1) & 32767;
    this.totalOut++;
    if (this.wpos === 0) {
      this.flush();
      if (this.totalOut > this.maxOutput) throw new Error(`inflated size exceeds the ${this.maxOutput}-byte cap`);
    }
  }

  private flush(): void {
    const pending = this.totalOut - this.totalFlushed;
    if (pending === 0) return;
    this.onData(this.window.subarray(this.flushed, this.flushed + pending));
    this.flushed = (this.flushed + pending) & 32767;
    this.totalFlushed = this.totalOut;
  }
}
