import { DecodeError, InputBuffer, type Output, type StreamDecoder } from "./decoder";
import { Inflater } from "./inflate";

/**
 * zlib and gzip streams (joblib's default compress=True is zlib; compress="gzip" is gzip) on top of
 * the raw-deflate Inflater. gzip members may follow one another and zero padding may follow the last,
 * as Python's gzip module accepts.
 */

const STEP = 1024 * 1024;
const MAX_OUTPUT = 64 * 1024 * 1024 * 1024;

const P_HEADER = 0;
const P_DATA = 1;
const P_TRAILER = 2;
const P_DONE = 3;

export class DeflateStreamDecoder implements StreamDecoder {
  finished = false;
  trailing = 0;
  private readonly input = new InputBuffer();
  private phase = P_HEADER;
  private inflater: Inflater;
  private members = 0;

  constructor(
    private readonly kind: "zlib" | "gzip",
    private readonly out: Output,
  ) {
    this.inflater = new Inflater(out, MAX_OUTPUT);
  }

  write(chunk: Uint8Array): void {
    if (this.phase === P_DONE) {
      this.trailing += chunk.length;
      return;
    }
    this.input.append(chunk);
    this.run(false);
  }

  end(): void {
    if (this.phase !== P_DONE) this.run(true);
    if (this.phase !== P_HEADER && this.phase !== P_DONE) throw new DecodeError(`${this.kind} stream ends early`, "truncated");
    if (!this.finished) throw new DecodeError(`${this.kind} stream ends early`, "truncated");
    this.trailing += this.input.available;
  }

  private run(eof: boolean): void {
    for (;;) {
      if (this.phase === P_HEADER && !this.header(eof)) return;
      if (this.phase === P_DATA && !this.data(eof)) return;
      if (this.phase === P_TRAILER && !this.trailer()) return;
      if (this.phase === P_DONE) return;
    }
  }

  private header(eof: boolean): boolean {
    const inp = this.input;
    const b = inp.buf;
    const p = inp.pos;
    if (this.kind === "zlib") {
      if (inp.available < 2) return false;
      if ((b[p]! & 0x0f) !== 8 || (b[p]! * 256 + b[p + 1]!) % 31 !== 0) throw new DecodeError("bad zlib header");
      if (b[p + 1]! & 0x20) throw new DecodeError("zlib preset dictionaries are not supported", "unsupported");
      inp.pos += 2;
      this.phase = P_DATA;
      return true;
    }
    if (this.members > 0) {
      // after a member: zero padding, another member, or the end
      while (inp.pos < inp.len && b[inp.pos] === 0) inp.pos++;
      if (inp.available === 0) return false;
    }
    const q = inp.pos;
    if (inp.available < 10) {
      if (eof && this.members > 0) this.stopWithTrailing();
      return false;
    }
    if (b[q] !== 0x1f || b[q + 1] !== 0x8b) {
      if (this.members > 0) return this.stopWithTrailing();
      throw new DecodeError("bad gzip header");
    }
    if (b[q + 2] !== 8) throw new DecodeError("gzip uses an unknown compression method");
    const flags = b[q + 3]!;
    let r = q + 10;
    if (flags & 4) {
      if (r + 2 > inp.len) return false;
      r += 2 + (b[r]! | (b[r + 1]! << 8));
    }
    for (const bit of [8, 16]) {
      if (!(flags & bit)) continue;
      while (r < inp.len && b[r] !== 0) r++;
      if (r >= inp.len) return false;
      r++;
    }
    if (flags & 2) r += 2;
    if (r > inp.len) return false;
    inp.pos = r;
    this.phase = P_DATA;
    return true;
  }

  private stopWithTrailing(): boolean {
    this.trailing += this.input.available;
    this.input.pos = this.input.len;
    this.phase = P_DONE;
    return false;
  }

  private data(eof: boolean): boolean {
    const inp = this.input;
    for (;;) {
      const used = this.inflater.push(inp.buf.subarray(inp.pos, inp.len), eof, STEP);
      inp.pos += used;
      if (this.inflater.error)
        throw new DecodeError(
          `bad ${this.kind} data: ${this.inflater.error}`,
          /truncated/.test(this.inflater.error) ? "truncated" : "corrupt",
        );
      if (this.inflater.finished) {
        this.phase = P_TRAILER;
        return true;
      }
      if (!this.inflater.paused) return false;
    }
  }

  private trailer(): boolean {
    const size = this.kind === "zlib" ? 4 : 8;
    if (this.input.available < size) return false;
    this.input.pos += size;
    this.members++;
    this.finished = true;
    if (this.kind === "zlib") {
      this.phase = P_DONE;
      this.trailing += this.input.available;
      this.input.pos = this.input.len;
    } else {
      this.phase = P_HEADER;
      this.inflater = new Inflater(this.out, MAX_OUTPUT);
    }
    return true;
  }
}

/** Raw deflate with no header (zip method 8, 7z's Deflate coder). */
export class RawInflateDecoder implements StreamDecoder {
  trailing = 0;
  private readonly inflater: Inflater;
  private readonly input = new InputBuffer();

  constructor(out: Output) {
    this.inflater = new Inflater(out, MAX_OUTPUT);
  }

  get finished(): boolean {
    return this.inflater.finished;
  }

  write(chunk: Uint8Array): void {
    if (this.inflater.finished) {
      this.trailing += chunk.length;
      return;
    }
    this.input.append(chunk);
    this.drain(false);
  }

  end(): void {
    if (!this.inflater.finished) this.drain(true);
    if (!this.inflater.finished) throw new DecodeError("deflate data ends early", "truncated");
  }

  private drain(eof: boolean): void {
    const inp = this.input;
    for (;;) {
      const used = this.inflater.push(inp.buf.subarray(inp.pos, inp.len), eof, STEP);
      inp.pos += used;
      if (this.inflater.error)
        throw new DecodeError(`bad deflate data: ${this.inflater.error}`, /truncated/.test(this.inflater.error) ? "truncated" : "corrupt");
      if (this.inflater.finished) {
        this.trailing += inp.available;
        inp.pos = inp.len;
        return;
      }
      if (!this.inflater.paused) return;
    }
  }
}
