import { EofError, ParseError, readBytes, readVarint, skipBytes, type Feeder, type ParserGen } from "../feeder";

/**
 * Protobuf wire-format readers for the generator parsers (ONNX, TensorFlow, Core ML): fields are read
 * one at a time from the stream, lengths checked against the enclosing message, nothing buffered
 * beyond the strings a caller asks for (capped).
 */

export interface Tag {
  field: number;
  wire: number;
}

export function* tag(end: number, f: Feeder): ParserGen<Tag | null> {
  if (f.pos >= end) return null;
  const t = yield* readVarint();
  if (!Number.isFinite(t) || t === 0) throw new ParseError("bad protobuf tag", "corrupt");
  const wire = t % 8;
  if (wire === 3 || wire === 4 || wire > 5) throw new ParseError(`unsupported protobuf wire type ${wire}`, "corrupt");
  return { field: Math.floor(t / 8), wire };
}

/**
 * The next tag of a message that may run to the end of the file: null at `end` and at a clean end of
 * the file between two fields (`topLevel`); inside a message an early end is an error, as with tag().
 */
export function* nextTag(end: number, f: Feeder, topLevel: boolean): ParserGen<Tag | null> {
  try {
    return yield* tag(end, f);
  } catch (e) {
    if (topLevel && e instanceof EofError) return null;
    throw e;
  }
}

export function* skipField(wire: number, end: number, f: Feeder): ParserGen<void> {
  if (wire === 0) yield* readVarint();
  else if (wire === 1) yield* skipBytes(8);
  else if (wire === 5) yield* skipBytes(4);
  else {
    const len = yield* readVarint();
    if (!Number.isFinite(len) || f.pos + len > end) throw new ParseError("field length runs past its message", "corrupt");
    yield* skipBytes(len);
  }
}

export function* length(end: number, f: Feeder): ParserGen<number> {
  const len = yield* readVarint();
  if (!Number.isFinite(len) || f.pos + len > end) throw new ParseError("field length runs past its message", "corrupt");
  return len;
}

/** End offset of a length-delimited field. IMPORTANT: read the length first — `f.pos + (yield* ...)` would use the old pos. */
export function* fieldEnd(end: number, f: Feeder): ParserGen<number> {
  const len = yield* length(end, f);
  return f.pos + len;
}

export function* str(end: number, f: Feeder, cap = 4096): ParserGen<string> {
  const len = yield* length(end, f);
  const take = Math.min(len, cap);
  const s = new TextDecoder().decode(yield* readBytes(take));
  yield* skipBytes(len - take);
  return len > cap ? `${s}…` : s;
}

export function* int(): ParserGen<number> {
  const v = yield* readVarint();
  // negative int64 values arrive as 10-byte varints, which readVarint reports as NaN
  return Number.isFinite(v) ? v : -1;
}

export function* keyValue(end: number, f: Feeder): ParserGen<[string, string]> {
  let k = "";
  let v = "";
  for (let t = yield* tag(end, f); t; t = yield* tag(end, f)) {
    if (t.field === 1 && t.wire === 2) k = yield* str(end, f);
    else if (t.field === 2 && t.wire === 2) v = yield* str(end, f, 64 * 1024);
    else yield* skipField(t.wire, end, f);
  }
  return [k, v];
}
