import { Bzip2Decoder } from "./bzip2";
import type { Output, StreamDecoder } from "./decoder";
import { DeflateStreamDecoder, RawInflateDecoder } from "./deflate";
import { Lz4FrameDecoder } from "./lz4";
import { LzmaAloneDecoder, XzDecoder, ZipLzmaDecoder } from "./lzma";

export type Compression = "zlib" | "gzip" | "bzip2" | "xz" | "lzma" | "lz4" | "zstd";

/** The stream decoder for a whole-file compression format, or null when we cannot decode it (zstd). */
export function createStreamDecoder(kind: Compression, out: Output): StreamDecoder | null {
  switch (kind) {
    case "zlib":
    case "gzip":
      return new DeflateStreamDecoder(kind, out);
    case "bzip2":
      return new Bzip2Decoder(out);
    case "xz":
      return new XzDecoder(out);
    case "lzma":
      return new LzmaAloneDecoder(out);
    case "lz4":
      return new Lz4FrameDecoder(out);
    default:
      return null;
  }
}

/** Passes stored bytes through unchanged. */
class StoredDecoder implements StreamDecoder {
  finished = false;
  trailing = 0;
  constructor(private readonly out: Output) {}
  write(chunk: Uint8Array): void {
    if (chunk.length) this.out(chunk);
  }
  end(): void {
    this.finished = true;
  }
}

/** The decoder for a zip member's compression method (those Python's zipfile reads), or null. */
export function createZipMemberDecoder(method: number, size: number | null, out: Output): StreamDecoder | null {
  switch (method) {
    case 0:
      return new StoredDecoder(out);
    case 8:
      return new RawInflateDecoder(out);
    case 12:
      return new Bzip2Decoder(out);
    case 14:
      return new ZipLzmaDecoder(size, out);
    default:
      return null;
  }
}
