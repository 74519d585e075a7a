/**
 * The push-decoder contract shared by the bzip2, LZMA (alone, xz, raw), LZ4 and deflate wrappers:
 * write compressed bytes in any chunking, get uncompressed bytes through `onOutput` (views valid
 * only during the call), `end()` when the input ends. Corrupt or truncated input throws
 * DecodeError; an output callback may throw to abort (zip-bomb checks).
 */
export class DecodeError extends Error {
  constructor(
    message: string,
    readonly code: "corrupt" | "truncated" | "unsupported" | "limit" = "corrupt",
  ) {
    super(message);
    this.name = "DecodeError";
  }
}

export interface StreamDecoder {
  write(input: Uint8Array): void;
  end(): void;
  /** The end-of-stream marker was read; bytes after it are trailing data. */
  readonly finished: boolean;
  /** Bytes that arrived after the end of the (last) stream. */
  readonly trailing: number;
}

export type Output = (b: Uint8Array) => void;

/** Unconsumed input kept between writes (decoders that need lookahead consume from here). */
export class InputBuffer {
  buf = new Uint8Array(0);
  pos = 0;
  len = 0;

  append(input: Uint8Array): void {
    if (this.pos > 0 && this.pos === this.len) {
      this.pos = 0;
      this.len = 0;
    }
    if (this.len + input.length > this.buf.length) {
      const live = this.len - this.pos;
      if (live + input.length <= this.buf.length) {
        this.buf.copyWithin(0, this.pos, this.len);
      } else {
        const next = new Uint8Array(Math.max(64, (live + input.length) * 2));
        next.set(this.buf.subarray(this.pos, this.len));
        this.buf = next;
      }
      this.len = live;
      this.pos = 0;
    }
    this.buf.set(input, this.len);
    this.len += input.length;
  }

  get available(): number {
    return this.len - this.pos;
  }
}
