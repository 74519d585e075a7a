import { ParseError, readBytes, readU8, scanBytes, skipBytes, skipToEnd, u16le, type ParserGen } from "../feeder";
import { Inflater } from "../codecs/inflate";
import { createPickleHandler } from "./pickle";
import { feederHandler, type FormatHandler, type HandlerContext } from "../handler";
import { sniff, type Sniff } from "../sniff";
import { INFLATE_STEP, MAX_INFLATE_BYTES } from "./zip-reader";

/**
 * zlib/gzip streams (joblib.dump(..., compress=...) writes zlib by default): inflate on the fly and
 * scan the pickle inside. Other compressors (bz2, xz, lz4, zstd) are reported as unscannable.
 */
export function createCompressedHandler(ctx: HandlerContext, s: Sniff): FormatHandler {
  const { report } = ctx;
  if (s.compression !== "zlib" && s.compression !== "gzip") {
    return {
      write() {},
      end() {},
      finish: () => {
        report.flag("compressed-unscanned", `${s.label}: compressed content cannot be scanned (a compressed joblib or pickle would be loaded from it)`);
      },
    };
  }
  const innerCtx: HandlerContext = { ...ctx, size: undefined, readRange: undefined };
  let inner: FormatHandler | null = null;
  let innerHead = new Uint8Array(0);
  let notPickle = false;
  const deliver = (b: Uint8Array) => {
    if (notPickle) return;
    if (inner) {
      inner.write(b);
      return;
    }
    const merged = new Uint8Array(innerHead.length + b.length);
    merged.set(innerHead);
    merged.set(b, innerHead.length);
    innerHead = merged;
    if (innerHead.length >= 64) startInner(false);
  };
  const startInner = (complete: boolean) => {
    const kind = sniff(innerHead, complete).kind;
    if (kind !== "pickle") {
      notPickle = true;
      return;
    }
    inner = createPickleHandler(innerCtx);
    inner.write(innerHead);
  };

  function* parse(): ParserGen {
    if (s.compression === "gzip") {
      const h = yield* readBytes(10);
      const flags = h[3]!;
      if (h[2] !== 8) throw new ParseError("gzip uses an unknown compression method", "corrupt");
      if (flags & 4) yield* skipBytes(u16le(yield* readBytes(2), 0));
      if (flags & 8) while ((yield* readU8()) !== 0);
      if (flags & 16) while ((yield* readU8()) !== 0);
      if (flags & 2) yield* skipBytes(2);
    } else {
      yield* skipBytes(2);
    }
    const inflater = new Inflater(deliver, MAX_INFLATE_BYTES);
    yield* scanBytes((b, eof) => {
      let used = 0;
      for (;;) {
        used += inflater.push(b.subarray(used), eof, INFLATE_STEP);
        if (inflater.error) throw new ParseError(`bad ${s.compression} data: ${inflater.error}`, "corrupt");
        if (inflater.finished || notPickle) return ~used;
        if (!inflater.paused) return used;
      }
    });
    if (notPickle) {
      yield* skipToEnd();
      return;
    }
    yield* skipBytes(s.compression === "gzip" ? 8 : 4);
    yield* skipToEnd();
  }

  return feederHandler(ctx, "compressed", () => parse(), async () => {
    if (!inner && !notPickle && innerHead.length) startInner(true);
    if (notPickle || !inner) {
      report.fail("compressed-not-a-model", `${s.label} does not contain a pickle`);
      return;
    }
    const handler = inner as FormatHandler;
    handler.end();
    await handler.finish();
    report.info("compressed", `${s.label}: the pickle inside was inflated and scanned`);
  });
}
