import { ParseError, readBytes, scanBytes, skipToEnd, u16le, u32le, type Feeder, type ParserGen } from "../feeder";
import { feederHandler, type FormatHandler, type HandlerContext, type NestedContent } from "../handler";

/**
 * NumPy .npy files (also the members of an .npz). An array whose dtype holds Python objects is
 * stored as a pickle after the header (np.load unpickles it when allow_pickle=True), so that pickle
 * is inspected like any other and decides the verdict; a plain numeric array (weights, embeddings) is
 * read without unpickling anything and is accepted as format "numpy".
 */

const ITEM_SIZE: Record<string, number> = {
  b: 1,
  B: 1,
  "?": 1,
  h: 2,
  H: 2,
  i: 4,
  I: 4,
  l: 8,
  L: 8,
  q: 8,
  Q: 8,
  e: 2,
  f: 4,
  d: 8,
  g: 16,
  F: 8,
  D: 16,
  G: 32,
};

interface Header {
  descr: string;
  object: boolean;
  shape: number[] | null;
  itemSize: number | null;
}

/** Reads the dict literal numpy writes ({'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }). */
export function parseNpyHeader(text: string): Header {
  const descr = /'descr':\s*(\[.*\]|'[^']*'|"[^"]*")/s.exec(text)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(text)?.[1];
  if (!descr || shapeText === undefined) throw new ParseError("npy header has no descr or shape", "corrupt");
  const codes = [...descr.matchAll(/'([<>|=]?[A-Za-z?]\d*(?:\[[a-z]+\])?)'/g)].map((m) => m[1]!);
  const object = codes.some((c) => /^[<>|=]?O\d*$/.test(c));
  const shape =
    shapeText.trim() === ""
      ? []
      : shapeText
          .split(",")
          .map((s) => s.trim())
          .filter(Boolean)
          .map(Number);
  let itemSize: number | null = null;
  if (!descr.startsWith("[")) {
    const m = /^'[<>|=]?([A-Za-z?])(\d*)/.exec(descr);
    if (m) itemSize = m[2] ? Number(m[2]) * (m[1] === "U" ? 4 : 1) : (ITEM_SIZE[m[1]!] ?? null);
  }
  return { descr: descr.slice(0, 200), object, shape: shape.every(Number.isSafeInteger) ? shape : null, itemSize };
}

export function createNpyHandler(ctx: HandlerContext): FormatHandler {
  const { report } = ctx;
  let header: Header | null = null;
  let pickle: NestedContent | null = null;
  let dataBytes = 0;

  function* parse(f: Feeder): ParserGen {
    const pre = (yield* readBytes(10)).slice();
    const major = pre[6]!;
    if (major < 1 || major > 3) throw new ParseError(`unsupported npy version ${major}`, "version");
    let len = u16le(pre, 8);
    if (major >= 2) len = u32le(Uint8Array.from([pre[8]!, pre[9]!, ...(yield* readBytes(2))]), 0);
    const raw = yield* readBytes(len);
    header = parseNpyHeader(new TextDecoder(major === 3 ? "utf-8" : "latin1").decode(raw));
    if (header.object) {
      pickle = ctx.nested(`${ctx.fileName}:pickle`);
      const sink = pickle;
      yield* scanBytes((b, eof) => {
        sink.write(b);
        return eof ? ~b.length : b.length;
      });
      return;
    }
    const start = f.pos;
    yield* skipToEnd();
    dataBytes = f.pos - start;
  }

  return feederHandler(
    ctx,
    "npy",
    (f) => parse(f),
    async () => {
      const h = header as Header | null;
      if (!h) return;
      const meta = { npyDescr: h.descr, shape: h.shape, objectArray: h.object };
      const content = pickle as NestedContent | null;
      if (content) {
        await content.end();
        report.absorb(content.report, "pickled array", "fail");
        report.format = content.report.format === "unknown" ? "pickle" : content.report.format;
        report.framework = content.report.framework;
        report.metadata = { ...meta, ...content.report.metadata };
        report.info(
          "npy-object-array",
          "the array holds Python objects: np.load(allow_pickle=True) unpickles them; the pickle was inspected",
        );
        return;
      }
      report.metadata = meta;
      const expected = h.shape && h.itemSize !== null ? h.shape.reduce((a, b) => a * b, 1) * h.itemSize : null;
      if (expected !== null && dataBytes < expected) {
        report.fail("npy-truncated", `array needs ${expected} bytes, the file has ${dataBytes}`);
        return;
      }
      // numbers only (weights, embeddings): np.load reads them without unpickling anything
      report.format = "numpy";
      report.framework = "numpy";
    },
  );
}
