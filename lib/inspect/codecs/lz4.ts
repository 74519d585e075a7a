import { u32le } from "../feeder";
import { DecodeError, InputBuffer, type Output, type StreamDecoder } from "./decoder";

/**
 * LZ4 frame format (lz4.frame, joblib's compress="lz4"): frame header, blocks of at most 4 MiB,
 * each buffered whole and then decoded against the last 64 KiB of output. Checksums are skipped.
 */

const MAGIC = 0x184d2204;
const WINDOW = 64 * 1024;
const MAX_BLOCK = 4 * 1024 * 1024;

export class Lz4FrameDecoder implements StreamDecoder {
  finished = false;
  trailing = 0;
  private readonly input = new InputBuffer();
  private headerDone = false;
  private blockChecksum = false;
  private contentChecksum = false;
  private blockMax = MAX_BLOCK;
  private hist = new Uint8Array(0);
  private frames = 0;

  constructor(private readonly out: Output) {}

  write(chunk: Uint8Array): void {
    if (this.finished && this.input.available === 0 && !this.startsFrame(chunk)) {
      this.trailing += chunk.length;
      return;
    }
    this.input.append(chunk);
    while (this.step());
  }

  end(): void {
    if (!this.finished) throw new DecodeError("LZ4 frame ends early", "truncated");
    this.trailing += this.input.available;
  }

  private startsFrame(b: Uint8Array): boolean {
    return b.length >= 4 && u32le(b, 0) === MAGIC;
  }

  private step(): boolean {
    const inp = this.input;
    if (!this.headerDone) {
      if (inp.available < 7) return false;
      const b = inp.buf;
      const p = inp.pos;
      if (u32le(b, p) !== MAGIC) {
        if (this.frames > 0) {
          this.trailing += inp.available;
          inp.pos = inp.len;
          return false;
        }
        throw new DecodeError("not an LZ4 frame");
      }
      const flg = b[p + 4]!;
      if (flg >>> 6 !== 1) throw new DecodeError("unsupported LZ4 frame version", "unsupported");
      const size = 7 + (flg & 0x08 ? 8 : 0) + (flg & 0x01 ? 4 : 0);
      if (inp.available < size) return false;
      this.blockChecksum = (flg & 0x10) !== 0;
      this.contentChecksum = (flg & 0x04) !== 0;
      const bd = (b[p + 5]! >>> 4) & 7;
      this.blockMax = bd >= 4 ? 1 << (2 * bd + 8) : MAX_BLOCK;
      inp.pos += size;
      this.headerDone = true;
      this.finished = false;
      this.hist = new Uint8Array(0);
      return true;
    }
    if (inp.available < 4) return false;
    const word = u32le(inp.buf, inp.pos);
    if (word === 0) {
      const tail = 4 + (this.contentChecksum ? 4 : 0);
      if (inp.available < tail) return false;
      inp.pos += tail;
      this.headerDone = false;
      this.finished = true;
      this.frames++;
      return inp.available >= 4;
    }
    const stored = (word & 0x80000000) !== 0;
    const size = word & 0x7fffffff;
    if (size > this.blockMax) throw new DecodeError("LZ4 block is larger than the frame allows");
    const need = 4 + size + (this.blockChecksum ? 4 : 0);
    if (inp.available < need) return false;
    const data = inp.buf.subarray(inp.pos + 4, inp.pos + 4 + size);
    const block = stored ? data.slice() : this.decodeBlock(data);
    inp.pos += need;
    this.out(block);
    this.keepHistory(block);
    return true;
  }

  private keepHistory(block: Uint8Array): void {
    if (block.length >= WINDOW) {
      this.hist = block.slice(block.length - WINDOW);
      return;
    }
    const merged = new Uint8Array(Math.min(WINDOW, this.hist.length + block.length));
    const fromHist = merged.length - block.length;
    merged.set(this.hist.subarray(this.hist.length - fromHist));
    merged.set(block, fromHist);
    this.hist = merged;
  }

  private decodeBlock(src: Uint8Array): Uint8Array {
    const hist = this.hist;
    const dst = new Uint8Array(this.blockMax);
    let s = 0;
    let d = 0;
    for (;;) {
      if (s >= src.length) throw new DecodeError("LZ4 block ends early");
      const token = src[s++]!;
      let lit = token >>> 4;
      if (lit === 15) {
        for (let b = 255; b === 255;) {
          if (s >= src.length) throw new DecodeError("LZ4 block ends early");
          b = src[s++]!;
          lit += b;
        }
      }
      if (s + lit > src.length || d + lit > dst.length) throw new DecodeError("LZ4 literals overrun the block");
      dst.set(src.subarray(s, s + lit), d);
      s += lit;
      d += lit;
      if (s === src.length) break;
      if (s + 2 > src.length) throw new DecodeError("LZ4 block ends early");
      const offset = src[s]! | (src[s + 1]! << 8);
      s += 2;
      let len = (token & 15) + 4;
      if ((token & 15) === 15) {
        for (let b = 255; b === 255;) {
          if (s >= src.length) throw new DecodeError("LZ4 block ends early");
          b = src[s++]!;
          len += b;
        }
      }
      if (offset === 0 || offset > d + hist.length) throw new DecodeError("LZ4 match offset beyond the data");
      if (d + len > dst.length) throw new DecodeError("LZ4 match overruns the block");
      for (let i = 0; i < len; i++, d++) {
        const from = d - offset;
        dst[d] = from >= 0 ? dst[from]! : hist[hist.length + from]!;
      }
    }
    return dst.subarray(0, d);
  }
}
