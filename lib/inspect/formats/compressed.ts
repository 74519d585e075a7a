import { DecodeError } from "../codecs/decoder";
import { createStreamDecoder, type Compression } from "../codecs/index";
import type { FormatHandler, HandlerContext } from "../handler";
import type { Sniff } from "../sniff";
import { BOMB_MIN_BYTES, BOMB_RATIO } from "./zip-reader";

/**
 * A whole file compressed with zlib, gzip, bzip2, xz, lzma or lz4 — what joblib.dump(..., compress=…)
 * writes and joblib.load opens transparently. The stream is decoded on the fly and its content is
 * inspected like any file (a pickle, usually); the result carries the content's format. zstd, which
 * no model loader opens, is refused as not a model.
 */
export function createCompressedHandler(ctx: HandlerContext, s: Sniff): FormatHandler {
  const { report } = ctx;
  const kind = (s.compression ?? "zstd") as Compression;
  const inner = ctx.nested(ctx.fileName, { whole: true });
  let compressedIn = 0;
  let inflated = 0;
  let error: DecodeError | null = null;
  let bomb = false;
  const decoder = createStreamDecoder(kind, (b) => {
    inflated += b.length;
    if (inflated > BOMB_MIN_BYTES && inflated > compressedIn * BOMB_RATIO) {
      bomb = true;
      throw new DecodeError(`expands more than ${BOMB_RATIO}x (${inflated} bytes from ${compressedIn}); decoding stopped`, "limit");
    }
    inner.write(b);
  });

  const guard = (fn: () => void) => {
    if (error || !decoder) return;
    try {
      fn();
    } catch (e) {
      error = e instanceof DecodeError ? e : new DecodeError((e as Error).message);
    }
  };

  return {
    write: (c) => {
      compressedIn += c.length;
      guard(() => decoder!.write(c));
    },
    end: () => guard(() => decoder!.end()),
    async finish() {
      if (!decoder) {
        report.fail("compressed-unsupported", `${s.label}: no model loader opens this compression, and it is not scanned`);
        return;
      }
      await inner.end();
      const child = inner.report;
      report.absorb(child, "(decompressed)", "fail");
      report.format = child.format;
      report.framework = child.framework;
      report.metadata = { ...child.metadata, compression: kind, decompressedBytes: inflated };
      if (child.contentType !== "application/octet-stream") report.contentType = child.contentType;
      const err = error as DecodeError | null;
      if (bomb) report.flag("compressed-bomb", err?.message ?? "decompression stopped");
      else if (err) report.fail(`compressed-${err.code}`, `${s.label} cannot be decoded: ${err.message}`);
      if (decoder.trailing > 0) report.flag("compressed-trailing-data", `${decoder.trailing} bytes follow the end of the ${kind} stream`);
      report.info("compressed", `${s.label}: the content was decompressed and inspected`);
    },
  };
}
