/**
 * Drives a sequential parser written as a generator from pushed chunks, so format parsers can be
 * written as straight-line "read 8 bytes, skip n bytes" code while the inspector stays push-based.
 * Memory stays bounded: only `read` requests are buffered (and they are capped), skips and pipes
 * never copy.
 */
export class EofError extends Error {
  constructor(message = "unexpected end of file") {
    super(message);
    this.name = "EofError";
  }
}

export class ParseError extends Error {
  constructor(
    message: string,
    readonly code = "corrupt",
  ) {
    super(message);
    this.name = "ParseError";
  }
}

export const MAX_READ = 16 * 1024 * 1024;

export type Need =
  | { k: "read"; n: number }
  | { k: "skip"; n: number }
  | { k: "pipe"; n: number; sink: (b: Uint8Array) => void }
  | { k: "varint" }
  /** fn gets the unconsumed bytes; returns bytes consumed (>= 0, wants more) or ~consumed (< 0, finished). */
  | { k: "scan"; fn: (b: Uint8Array, eof: boolean) => number };

/** A parser: yields what it needs, receives the bytes (or varint) it asked for. */
export type ParserGen<T = void> = Generator<Need, T, unknown>;

/** Reads exactly n bytes; the returned view is only valid until the next yield (copy to keep it). */
export function* readBytes(n: number): ParserGen<Uint8Array> {
  if (n > MAX_READ) throw new ParseError(`refusing to buffer ${n} bytes`, "too-large");
  if (n === 0) return new Uint8Array(0);
  return (yield { k: "read", n }) as Uint8Array;
}

export function* skipBytes(n: number): ParserGen<void> {
  if (n > 0) yield { k: "skip", n };
}

export function* skipToEnd(): ParserGen<void> {
  yield { k: "skip", n: Infinity };
}

export function* pipeBytes(n: number, sink: (b: Uint8Array) => void): ParserGen<void> {
  if (n > 0) yield { k: "pipe", n, sink };
}

export function* readVarint(): ParserGen<number> {
  return (yield { k: "varint" }) as number;
}

export function* scanBytes(fn: (b: Uint8Array, eof: boolean) => number): ParserGen<void> {
  yield { k: "scan", fn };
}

export function* readU8(): ParserGen<number> {
  const b = yield* readBytes(1);
  return b[0]!;
}

export function* readU32(): ParserGen<number> {
  const b = yield* readBytes(4);
  return (b[0]! | (b[1]! << 8) | (b[2]! << 16)) + b[3]! * 0x1000000;
}

/** Little-endian u64 as a number (exact up to 2^53, an over-estimate beyond, which callers treat as absurd). */
export function* readU64(): ParserGen<number> {
  const b = yield* readBytes(8);
  return u64le(b, 0);
}

export function u64le(b: Uint8Array, o: number): number {
  const lo = (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16)) + b[o + 3]! * 0x1000000;
  const hi = (b[o + 4]! | (b[o + 5]! << 8) | (b[o + 6]! << 16)) + b[o + 7]! * 0x1000000;
  return hi * 0x100000000 + lo;
}

export function u32le(b: Uint8Array, o: number): number {
  return (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16)) + b[o + 3]! * 0x1000000;
}

export function u16le(b: Uint8Array, o: number): number {
  return b[o]! | (b[o + 1]! << 8);
}

export class Feeder {
  /** Absolute offset of the next byte the parser will see. */
  pos = 0;
  done = false;
  error: unknown = undefined;
  /** Bytes that arrived after the parser returned. */
  trailing = 0;
  private readonly gen: ParserGen<unknown>;
  private need: Need | null = null;
  private acc: Uint8Array | null = null;
  private accLen = 0;
  private carry: Uint8Array | null = null;
  private varValue = 0;
  private varMul = 1;
  private varBytes = 0;

  constructor(make: (feeder: Feeder) => ParserGen<unknown>) {
    this.gen = make(this);
    this.resume(undefined);
  }

  write(input: Uint8Array): void {
    if (this.done) {
      this.trailing += input.length;
      return;
    }
    let chunk = input;
    if (this.carry) {
      const merged = new Uint8Array(this.carry.length + input.length);
      merged.set(this.carry);
      merged.set(input, this.carry.length);
      chunk = merged;
      this.carry = null;
    }
    let off = 0;
    const len = chunk.length;
    try {
      off = this.drive(chunk, off, len);
    } catch (e) {
      // a sink or scan callback threw: hand the error to the parser (which normally lets it end the parse)
      this.fail(e instanceof Error ? e : new Error(String(e)));
      if (!this.done) {
        this.done = true;
        this.need = null;
        this.error = e;
      }
      off = len;
    }
    if (this.done && off < len) this.trailing += len - off;
  }

  private drive(chunk: Uint8Array, start: number, len: number): number {
    let off = start;
    while (off < len && !this.done) {
      const need = this.need!;
      switch (need.k) {
        case "read": {
          if (this.accLen === 0 && len - off >= need.n) {
            const view = chunk.subarray(off, off + need.n);
            off += need.n;
            this.pos += need.n;
            this.resume(view);
            break;
          }
          if (!this.acc || this.acc.length < need.n) this.acc = new Uint8Array(Math.max(need.n, 64));
          const take = Math.min(need.n - this.accLen, len - off);
          this.acc.set(chunk.subarray(off, off + take), this.accLen);
          this.accLen += take;
          off += take;
          this.pos += take;
          if (this.accLen === need.n) {
            this.accLen = 0;
            this.resume(this.acc.subarray(0, need.n));
          }
          break;
        }
        case "skip": {
          const take = Math.min(need.n, len - off);
          need.n -= take;
          off += take;
          this.pos += take;
          if (need.n === 0) this.resume(undefined);
          break;
        }
        case "pipe": {
          const take = Math.min(need.n, len - off);
          need.n -= take;
          const piece = chunk.subarray(off, off + take);
          off += take;
          this.pos += take;
          need.sink(piece);
          if (need.n === 0) this.resume(undefined);
          break;
        }
        case "varint": {
          const b = chunk[off++]!;
          this.pos++;
          this.varValue += (b & 0x7f) * this.varMul;
          this.varMul *= 128;
          this.varBytes++;
          if ((b & 0x80) === 0 || this.varBytes >= 10) {
            const v = (b & 0x80) === 0 ? this.varValue : NaN;
            this.varValue = 0;
            this.varMul = 1;
            this.varBytes = 0;
            this.resume(v);
          }
          break;
        }
        case "scan": {
          const r = need.fn(chunk.subarray(off), false);
          if (r >= 0) {
            off += r;
            this.pos += r;
            if (off < len) {
              this.carry = chunk.slice(off);
              off = len;
            }
          } else {
            off += ~r;
            this.pos += ~r;
            this.resume(undefined);
          }
          break;
        }
      }
    }
    return off;
  }

  /** Signals end of input; the parser sees an EofError at its pending request (except an open-ended skip). */
  end(): void {
    // The parser may keep asking after EOF (it caught the error); give up after a few rounds.
    for (let round = 0; round < 16 && !this.done; round++) {
      const need = this.need!;
      if (need.k === "skip" && need.n === Infinity) {
        this.resume(undefined);
        continue;
      }
      if (need.k === "scan") {
        const rest = this.carry ?? new Uint8Array(0);
        this.carry = null;
        let r: number;
        try {
          r = need.fn(rest, true);
        } catch (e) {
          this.fail(e instanceof Error ? e : new Error(String(e)));
          if (!this.done) {
            this.done = true;
            this.need = null;
            this.error = e;
          }
          continue;
        }
        if (r < 0) {
          this.pos += ~r;
          this.resume(undefined);
          continue;
        }
      }
      this.fail(new EofError());
    }
    if (!this.done) {
      this.done = true;
      this.need = null;
      this.error = new EofError();
    }
  }

  private resume(value: unknown): void {
    try {
      const r = this.gen.next(value);
      if (r.done) {
        this.done = true;
        this.need = null;
      } else {
        this.need = r.value;
      }
    } catch (e) {
      this.done = true;
      this.need = null;
      this.error = e;
    }
  }

  private fail(err: Error): void {
    try {
      const r = this.gen.throw(err);
      if (r.done) {
        this.done = true;
        this.need = null;
      } else {
        this.need = r.value;
      }
    } catch (e) {
      this.done = true;
      this.need = null;
      this.error = e;
    }
  }
}
