import { ParseError, readBytes, readU8, skipBytes, skipToEnd, type ParserGen } from "../feeder";
import { setOwn } from "../report";

/** Events shared by the JSON and UBJSON readers. */
export interface JsonSink {
  startObject(): void;
  endObject(): void;
  startArray(): void;
  endArray(): void;
  key(k: string): void;
  /** `total` is the full length when a string was cut to the capture cap. */
  value(v: string | number | boolean | null, total?: number): void;
  /** Items of a typed UBJSON array that were skipped without being decoded. */
  skippedItems(n: number): void;
}

const MAX_DEPTH = 512;
const STR_CAP = 64 * 1024;

const V_VALUE = 0;
const V_OBJ_FIRST = 1;
const V_OBJ_KEY = 2;
const V_COLON = 3;
const V_AFTER = 4;
const V_STRING = 5;
const V_NUMBER = 6;
const V_LITERAL = 7;
const V_DONE = 8;
const V_ERROR = 9;
const V_ARR_FIRST = 10;

const LITERALS: Record<number, [string, boolean | null]> = { 0x74: ["true", true], 0x66: ["false", false], 0x6e: ["null", null] };

/** Push-mode JSON tokenizer: constant memory apart from one capped string and the nesting stack. */
export class JsonTokenizer {
  error: string | null = null;
  offset = 0;
  private state = V_VALUE;
  private readonly stack = new Uint8Array(MAX_DEPTH + 1);
  private depth = 0;
  private buf = new Uint8Array(1024);
  private len = 0;
  private total = 0;
  private isKey = false;
  private esc = 0;
  private hex = 0;
  private highSurrogate = 0;
  private literal = "";
  private literalPos = 0;
  private literalValue: boolean | null = null;
  private started = false;

  constructor(private readonly sink: JsonSink) {}

  get complete(): boolean {
    return this.state === V_DONE;
  }

  write(chunk: Uint8Array): void {
    if (this.state === V_ERROR) return;
    let i = 0;
    const n = chunk.length;
    if (!this.started && n > 0) {
      this.started = true;
      if (n >= 3 && chunk[0] === 0xef && chunk[1] === 0xbb && chunk[2] === 0xbf) i = 3;
    }
    try {
      for (; i < n; i++) {
        const c = chunk[i]!;
        switch (this.state) {
          case V_STRING: {
            if (this.esc === 0) {
              // fast path: copy plain bytes up to the next quote or backslash
              let j = i;
              while (j < n) {
                const d = chunk[j]!;
                if (d === 0x22 || d === 0x5c) break;
                if (d < 0x20) throw new ParseError("control character in string");
                j++;
              }
              this.append(chunk, i, j);
              if (j >= n) {
                i = n;
                break;
              }
              i = j;
              if (chunk[j] === 0x22) this.endString();
              else this.esc = 1;
            } else {
              this.escape(c);
            }
            break;
          }
          case V_NUMBER:
            if ((c >= 0x30 && c <= 0x39) || c === 0x2e || c === 0x65 || c === 0x45 || c === 0x2b || c === 0x2d) {
              if (this.len < 64) this.buf[this.len++] = c;
              else throw new ParseError("number too long");
            } else {
              this.endNumber();
              i--;
            }
            break;
          case V_LITERAL:
            if (c !== this.literal.charCodeAt(this.literalPos)) throw new ParseError("invalid literal");
            if (++this.literalPos === this.literal.length) {
              this.sink.value(this.literalValue);
              this.afterValue();
            }
            break;
          default:
            if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) break;
            this.structural(c);
        }
      }
    } catch (e) {
      this.state = V_ERROR;
      this.error = `${(e as Error).message} at byte ${this.offset + i}`;
    }
    this.offset += n;
  }

  end(): void {
    if (this.state === V_NUMBER && this.depth === 0) {
      try {
        this.endNumber();
      } catch (e) {
        this.error = (e as Error).message;
        this.state = V_ERROR;
      }
    }
    if (this.state !== V_DONE && this.state !== V_ERROR) {
      this.error = this.offset === 0 ? "empty input" : "unexpected end of JSON input";
      this.state = V_ERROR;
    }
  }

  private structural(c: number): void {
    switch (this.state) {
      case V_VALUE:
      case V_ARR_FIRST:
        if (c === 0x5d && this.state === V_ARR_FIRST) {
          this.close(1);
          return;
        }
        this.beginValue(c);
        return;
      case V_OBJ_FIRST:
      case V_OBJ_KEY:
        if (c === 0x7d && this.state === V_OBJ_FIRST) {
          this.close(0);
          return;
        }
        if (c !== 0x22) throw new ParseError("expected a property name");
        this.startString(true);
        return;
      case V_COLON:
        if (c !== 0x3a) throw new ParseError("expected ':'");
        this.state = V_VALUE;
        return;
      case V_AFTER:
        if (c === 0x2c) {
          this.state = this.stack[this.depth - 1] === 0 ? V_OBJ_KEY : V_VALUE;
          return;
        }
        if (c === 0x7d || c === 0x5d) {
          const want = c === 0x7d ? 0 : 1;
          if (this.stack[this.depth - 1] !== want) throw new ParseError("mismatched bracket");
          this.close(want);
          return;
        }
        throw new ParseError("expected ',' or a closing bracket");
      case V_DONE:
        throw new ParseError("unexpected data after the JSON value");
    }
  }

  private beginValue(c: number): void {
    if (c === 0x7b || c === 0x5b) {
      if (this.depth >= MAX_DEPTH) throw new ParseError(`nesting deeper than ${MAX_DEPTH} levels`);
      this.stack[this.depth++] = c === 0x7b ? 0 : 1;
      if (c === 0x7b) {
        this.sink.startObject();
        this.state = V_OBJ_FIRST;
      } else {
        this.sink.startArray();
        this.state = V_ARR_FIRST;
      }
    } else if (c === 0x22) {
      this.startString(false);
    } else if ((c >= 0x30 && c <= 0x39) || c === 0x2d) {
      this.len = 0;
      this.buf[this.len++] = c;
      this.state = V_NUMBER;
    } else if (LITERALS[c]) {
      const [word, value] = LITERALS[c]!;
      this.literal = word;
      this.literalPos = 1;
      this.literalValue = value;
      this.state = V_LITERAL;
    } else {
      throw new ParseError(`unexpected character '${String.fromCharCode(c)}'`);
    }
  }

  private close(kind: number): void {
    this.depth--;
    if (kind === 0) this.sink.endObject();
    else this.sink.endArray();
    this.afterValue();
  }

  private afterValue(): void {
    this.state = this.depth === 0 ? V_DONE : V_AFTER;
  }

  private startString(isKey: boolean): void {
    this.isKey = isKey;
    this.len = 0;
    this.total = 0;
    this.esc = 0;
    this.highSurrogate = 0;
    this.state = V_STRING;
  }

  private append(src: Uint8Array, from: number, to: number): void {
    const count = to - from;
    if (count <= 0) return;
    this.total += count;
    const room = STR_CAP - this.len;
    const take = Math.min(room, count);
    if (take > 0) {
      this.ensure(this.len + take);
      this.buf.set(src.subarray(from, from + take), this.len);
      this.len += take;
    }
  }

  private ensure(size: number): void {
    if (size <= this.buf.length) return;
    const grown = new Uint8Array(Math.min(STR_CAP + 8, Math.max(size, this.buf.length * 2)));
    grown.set(this.buf.subarray(0, this.len));
    this.buf = grown;
  }

  private pushCodePoint(cp: number): void {
    const bytes =
      cp < 0x80
        ? [cp]
        : cp < 0x800
          ? [0xc0 | (cp >> 6), 0x80 | (cp & 63)]
          : cp < 0x10000
            ? [0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 63), 0x80 | (cp & 63)]
            : [0xf0 | (cp >> 18), 0x80 | ((cp >> 12) & 63), 0x80 | ((cp >> 6) & 63), 0x80 | (cp & 63)];
    this.append(Uint8Array.from(bytes), 0, bytes.length);
  }

  private escape(c: number): void {
    if (this.esc === 1) {
      const simple: Record<number, number> = { 0x22: 0x22, 0x5c: 0x5c, 0x2f: 0x2f, 0x62: 8, 0x66: 12, 0x6e: 10, 0x72: 13, 0x74: 9 };
      if (c === 0x75) {
        this.esc = 2;
        this.hex = 0;
        return;
      }
      const v = simple[c];
      if (v === undefined) throw new ParseError("bad escape in string");
      if (this.highSurrogate) this.pushCodePoint(0xfffd);
      this.highSurrogate = 0;
      this.pushCodePoint(v);
      this.esc = 0;
      return;
    }
    const d = c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x61 && c <= 0x66 ? c - 87 : c >= 0x41 && c <= 0x46 ? c - 55 : -1;
    if (d < 0) throw new ParseError("bad \\u escape");
    this.hex = this.hex * 16 + d;
    if (++this.esc < 6) return;
    this.esc = 0;
    const u = this.hex;
    if (u >= 0xd800 && u <= 0xdbff) {
      if (this.highSurrogate) this.pushCodePoint(0xfffd);
      this.highSurrogate = u;
    } else if (u >= 0xdc00 && u <= 0xdfff && this.highSurrogate) {
      this.pushCodePoint(0x10000 + ((this.highSurrogate - 0xd800) << 10) + (u - 0xdc00));
      this.highSurrogate = 0;
    } else {
      if (this.highSurrogate) this.pushCodePoint(0xfffd);
      this.highSurrogate = 0;
      this.pushCodePoint(u >= 0xd800 && u <= 0xdfff ? 0xfffd : u);
    }
  }

  private endString(): void {
    if (this.highSurrogate) this.pushCodePoint(0xfffd);
    const s = new TextDecoder("utf-8").decode(this.buf.subarray(0, this.len));
    if (this.isKey) {
      this.sink.key(s);
      this.state = V_COLON;
    } else {
      this.sink.value(s, this.total > STR_CAP ? this.total : undefined);
      this.afterValue();
    }
  }

  private endNumber(): void {
    const text = String.fromCharCode(...this.buf.subarray(0, this.len));
    if (!/^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/.test(text)) throw new ParseError(`bad number ${text.slice(0, 20)}`);
    this.sink.value(Number(text));
    this.afterValue();
  }
}

interface UbFrame {
  obj: boolean;
  count: number;
  type: number;
}

const UB_SIZES: Record<number, number> = { 0x69: 1, 0x55: 1, 0x49: 2, 0x6c: 4, 0x4c: 8, 0x64: 4, 0x44: 8, 0x43: 1 };

function* ubInt(marker: number): ParserGen<number> {
  const size = UB_SIZES[marker];
  if (size === undefined || marker === 0x64 || marker === 0x44 || marker === 0x43) throw new ParseError("UBJSON length is not an integer");
  const b = yield* readBytes(size);
  const dv = new DataView(b.buffer, b.byteOffset, size);
  switch (marker) {
    case 0x69:
      return dv.getInt8(0);
    case 0x55:
      return dv.getUint8(0);
    case 0x49:
      return dv.getInt16(0);
    case 0x6c:
      return dv.getInt32(0);
    default:
      return Number(dv.getBigInt64(0));
  }
}

function* ubString(len: number, cap: number): ParserGen<[string, number]> {
  if (len < 0) throw new ParseError("negative UBJSON length");
  const take = Math.min(len, cap);
  const s = new TextDecoder("utf-8").decode(yield* readBytes(take));
  yield* skipBytes(len - take);
  return [s, len];
}

/** UBJSON reader (XGBoost's .ubj) emitting the same events as the JSON tokenizer. */
export function* parseUbjson(sink: JsonSink, limit: number): ParserGen<void> {
  const stack: UbFrame[] = [];
  let marker = yield* readU8();
  for (;;) {
    // one value
    if (marker === 0x7b || marker === 0x5b) {
      if (stack.length >= MAX_DEPTH) throw new ParseError(`nesting deeper than ${MAX_DEPTH} levels`);
      const obj = marker === 0x7b;
      let type = 0;
      let count = -1;
      const next = yield* readU8();
      if (next === 0x24) {
        type = yield* readU8();
        if ((yield* readU8()) !== 0x23) throw new ParseError("UBJSON typed container without a count");
        count = yield* ubInt(yield* readU8());
      } else if (next === 0x23) {
        count = yield* ubInt(yield* readU8());
      }
      if (count < -1 || count > limit) throw new ParseError(`UBJSON container count ${count} is absurd`);
      if (obj) sink.startObject();
      else sink.startArray();
      const size = UB_SIZES[type];
      if (!obj && count > 0 && size !== undefined && type !== 0x43) {
        // typed numeric array: skip its payload without decoding
        if (count * size > limit) throw new ParseError("UBJSON typed array runs past the end of the file");
        yield* skipBytes(count * size);
        sink.skippedItems(count);
        sink.endArray();
      } else {
        stack.push({ obj, count, type });
        if (count === -1) {
          // the byte after the container marker was already the first member's marker
          const frame = stack[stack.length - 1]!;
          const r = yield* ubAdvanceUnsized(frame, sink, next);
          if (r === null) {
            stack.pop();
            if (obj) sink.endObject();
            else sink.endArray();
          } else {
            marker = r;
            continue;
          }
        }
      }
    } else {
      yield* ubScalar(marker, sink);
    }
    // find the next value
    let found = false;
    while (stack.length) {
      const frame = stack[stack.length - 1]!;
      if (frame.count >= 0) {
        if (frame.count === 0) {
          stack.pop();
          if (frame.obj) sink.endObject();
          else sink.endArray();
          continue;
        }
        frame.count--;
        if (frame.obj) {
          const [k] = yield* ubString(yield* ubInt(yield* readU8()), 4096);
          sink.key(k);
        }
        marker = frame.type || (yield* readU8());
        found = true;
        break;
      }
      const r = yield* ubAdvanceUnsized(frame, sink, yield* readU8());
      if (r === null) {
        stack.pop();
        if (frame.obj) sink.endObject();
        else sink.endArray();
        continue;
      }
      marker = r;
      found = true;
      break;
    }
    if (!found) {
      yield* skipToEnd();
      return;
    }
  }
}

/** In an unsized container: returns the next value's marker (after reading a key), or null at the closer. */
function* ubAdvanceUnsized(frame: UbFrame, sink: JsonSink, first: number): ParserGen<number | null> {
  let m = first;
  while (m === 0x4e) m = yield* readU8();
  if (m === (frame.obj ? 0x7d : 0x5d)) return null;
  if (frame.obj) {
    const [k] = yield* ubString(yield* ubInt(m), 4096);
    sink.key(k);
    let v = yield* readU8();
    while (v === 0x4e) v = yield* readU8();
    return v;
  }
  return m;
}

function* ubScalar(marker: number, sink: JsonSink): ParserGen<void> {
  switch (marker) {
    case 0x5a:
      sink.value(null);
      return;
    case 0x54:
      sink.value(true);
      return;
    case 0x46:
      sink.value(false);
      return;
    case 0x53:
    case 0x48: {
      const [s, total] = yield* ubString(yield* ubInt(yield* readU8()), STR_CAP);
      sink.value(marker === 0x48 ? Number(s) : s, total > STR_CAP ? total : undefined);
      return;
    }
    case 0x43:
      sink.value(String.fromCharCode((yield* readBytes(1))[0]!));
      return;
    case 0x64: {
      const b = yield* readBytes(4);
      sink.value(new DataView(b.buffer, b.byteOffset, 4).getFloat32(0));
      return;
    }
    case 0x44: {
      const b = yield* readBytes(8);
      sink.value(new DataView(b.buffer, b.byteOffset, 8).getFloat64(0));
      return;
    }
    default:
      if (UB_SIZES[marker] !== undefined) {
        sink.value(yield* ubInt(marker));
        return;
      }
      throw new ParseError(`unknown UBJSON marker 0x${marker.toString(16)}`);
  }
}

export type JsonNode = null | boolean | number | string | JsonNode[] | { [k: string]: JsonNode };

interface Frame {
  node: JsonNode[] | Record<string, JsonNode> | null;
  isArr: boolean;
  /** Segment naming this container inside its parent (".key" or "[i]"). */
  segment: string;
  /** Key of this container in its parent object (null under an array or at the root). */
  key: string | null;
  index: number;
  keys: number;
}

const MAX_NODES = 200_000;
const MAX_ITEMS = 256;
const DEEP_ITEMS = 32;
const MAX_KEYS = 4096;
const MAX_RETAINED_DEPTH = 64;
const SKELETON_STR = 4096;

/**
 * Builds a bounded copy of the document (arrays cut to 256 items, strings to 4 KiB, 200k nodes)
 * while reporting every string, at any depth and whatever the caps, with its key path.
 */
export class JsonCollector implements JsonSink {
  root: JsonNode | undefined = undefined;
  /** Full lengths of arrays that were cut. */
  readonly totals = new WeakMap<JsonNode[], number>();
  nodes = 0;
  private readonly stack: Frame[] = [];
  private pendingKey: string | null = null;

  constructor(private readonly onString?: (key: string | null, value: string, path: () => string) => void) {}

  startObject(): void {
    this.open(false);
  }
  startArray(): void {
    this.open(true);
  }
  endObject(): void {
    this.stack.pop();
  }
  endArray(): void {
    this.stack.pop();
  }
  key(k: string): void {
    this.pendingKey = k;
    this.onString?.(null, k, () => this.path());
  }
  value(v: string | number | boolean | null, total?: number): void {
    if (typeof v === "string") this.onString?.(this.currentKey(), v, () => this.path());
    const stored = typeof v === "string" && (v.length > SKELETON_STR || total !== undefined) ? `${v.slice(0, SKELETON_STR)}…` : v;
    this.attach(stored);
  }
  skippedItems(n: number): void {
    const top = this.stack[this.stack.length - 1];
    if (!top) return;
    top.index += n;
    if (top.node && Array.isArray(top.node)) this.totals.set(top.node, top.index);
  }

  /** Full length of an array in the document (cut arrays remember theirs). */
  lengthOf(a: JsonNode[]): number {
    return this.totals.get(a) ?? a.length;
  }

  private currentKey(): string | null {
    const top = this.stack[this.stack.length - 1];
    if (!top) return null;
    return top.isArr ? top.key : this.pendingKey;
  }

  private path(): string {
    let out = "";
    for (let i = 1; i < this.stack.length; i++) out += this.stack[i]!.segment;
    const top = this.stack[this.stack.length - 1];
    if (top) out += top.isArr ? `[${top.index}]` : this.pendingKey !== null ? `.${this.pendingKey}` : "";
    return (out.startsWith(".") ? out.slice(1) : out).slice(0, 300);
  }

  private open(isArr: boolean): void {
    const parent = this.stack[this.stack.length - 1];
    const key = parent && !parent.isArr ? this.pendingKey : null;
    const segment = !parent ? "" : parent.isArr ? `[${parent.index}]` : `.${this.pendingKey ?? ""}`;
    // Only build containers that will actually hang in the tree, so dropped subtrees cost nothing.
    const node: Frame["node"] =
      this.stack.length < MAX_RETAINED_DEPTH && this.accepts(parent)
        ? isArr
          ? []
          : (Object.create(null) as Record<string, JsonNode>)
        : null;
    this.attach(node ?? undefined);
    this.stack.push({ node, isArr, segment, key, index: 0, keys: 0 });
  }

  /** Arrays deep in the document (tree node lists, weights) keep fewer items than top-level ones. */
  private itemCap(): number {
    return this.stack.length <= 3 ? MAX_ITEMS : DEEP_ITEMS;
  }

  private accepts(frame: Frame | undefined): boolean {
    if (this.nodes >= MAX_NODES) return false;
    if (!frame) return true;
    const node = frame.node;
    if (node === null) return false;
    if (Array.isArray(node)) return node.length < this.itemCap();
    return this.pendingKey !== null && (frame.keys < MAX_KEYS || this.pendingKey in node);
  }

  private attach(v: JsonNode | undefined): void {
    const top = this.stack[this.stack.length - 1];
    if (!top) {
      if (v !== undefined) this.root = v;
      return;
    }
    const node = top.node;
    if (node !== null && v !== undefined && this.accepts(top)) {
      if (Array.isArray(node)) {
        node.push(v);
      } else {
        if (!(this.pendingKey! in node)) top.keys++;
        setOwn(node as Record<string, unknown>, this.pendingKey!, v);
      }
      this.nodes++;
    }
    if (node !== null && Array.isArray(node)) this.totals.set(node, top.index + 1);
    if (top.isArr) top.index++;
    else this.pendingKey = null;
  }
}
