import { classifyGlobal, type GlobalVerdict } from "./globals";
import {
  className,
  intItems,
  PyBytes,
  PyDict,
  PyGlobal,
  PyList,
  PyLongStr,
  PyObj,
  PyPersistent,
  PyTensor,
  PyTuple,
  UNKNOWN,
  type PValue,
} from "./values";

/**
 * Streaming pickle opcode walker with stack + memo emulation. It never calls anything: REDUCE and
 * friends produce placeholder objects, and every global the pickle would import is classified.
 * Handles concatenated pickles, joblib's raw array bytes between pickle frames and the legacy
 * (pre-1.6) PyTorch layout of five pickles followed by raw storages.
 */

export type HaltKind = "truncated" | "corrupt" | "unsupported" | "limit";

export interface PickleHalt {
  kind: HaltKind;
  message: string;
  offset: number;
  pickleIndex: number;
}

export interface PickleHooks {
  /** A string stored under a string key (dict item or attribute): used by the secret scanner. */
  onKeyedString?(key: string, value: string): void;
  onFinding?(severity: "info" | "warning", code: string, message: string): void;
}

export interface PickleSummary {
  pickles: number;
  protocol: number | null;
  complete: boolean;
  halt: PickleHalt | null;
  globals: Map<string, GlobalVerdict>;
  /** Distinct globals beyond the listing cap, and the worst verdict among them. */
  globalsOverflow: number;
  overflowVerdict: GlobalVerdict;
  unresolvedGlobals: number;
  topLevelClass: string | null;
  versions: Record<string, string>;
  featureNames: string[] | null;
  nFeatures: number | null;
  joblibArrays: number;
  legacyTorch: boolean;
  persistentIds: number;
  tensors: PyTensor[];
  tensorCount: number;
  parameterCount: number;
  bytes: number;
}

const S_OP = 0;
const S_ARG = 1;
const S_PAYLOAD = 2;
const S_LINE = 3;
const S_SKIP = 4;
const S_AFTER_STOP = 5;
const S_HALT = 6;
const S_JOBLIB_PAD = 7;
const S_LEGACY_NUMEL = 8;

const K_NONE = 0;
const K_FIXED = 1;
const K_LEN = 2;
const K_LINE = 3;
const K_LINE2 = 4;
const K_BAD = 5;

const ARG_KIND = new Uint8Array(256).fill(K_BAD);
const ARG_SIZE = new Uint8Array(256);
function def(op: number, kind: number, size = 0) {
  ARG_KIND[op] = kind;
  ARG_SIZE[op] = size;
}
for (const op of [0x28, 0x2e, 0x30, 0x31, 0x32, 0x4e, 0x51, 0x52, 0x61, 0x62, 0x64, 0x7d, 0x65, 0x6c, 0x5d, 0x6f, 0x73, 0x74, 0x29, 0x75, 0x81, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8f, 0x90, 0x91, 0x92, 0x93, 0x94, 0x97, 0x98]) {
  def(op, K_NONE);
}
def(0x4a, K_FIXED, 4); // BININT
def(0x4b, K_FIXED, 1); // BININT1
def(0x4d, K_FIXED, 2); // BININT2
def(0x47, K_FIXED, 8); // BINFLOAT
def(0x68, K_FIXED, 1); // BINGET
def(0x6a, K_FIXED, 4); // LONG_BINGET
def(0x71, K_FIXED, 1); // BINPUT
def(0x72, K_FIXED, 4); // LONG_BINPUT
def(0x80, K_FIXED, 1); // PROTO
def(0x82, K_FIXED, 1); // EXT1
def(0x83, K_FIXED, 2); // EXT2
def(0x84, K_FIXED, 4); // EXT4
def(0x95, K_FIXED, 8); // FRAME
def(0x54, K_LEN, 4); // BINSTRING
def(0x55, K_LEN, 1); // SHORT_BINSTRING
def(0x58, K_LEN, 4); // BINUNICODE
def(0x8c, K_LEN, 1); // SHORT_BINUNICODE
def(0x8d, K_LEN, 8); // BINUNICODE8
def(0x42, K_LEN, 4); // BINBYTES
def(0x43, K_LEN, 1); // SHORT_BINBYTES
def(0x8e, K_LEN, 8); // BINBYTES8
def(0x96, K_LEN, 8); // BYTEARRAY8
def(0x8a, K_LEN, 1); // LONG1
def(0x8b, K_LEN, 4); // LONG4
for (const op of [0x46, 0x49, 0x4c, 0x50, 0x53, 0x56, 0x67, 0x70]) def(op, K_LINE);
def(0x63, K_LINE2); // GLOBAL
def(0x69, K_LINE2); // INST

const STR_CAP = 16 * 1024;
const STR_HEAD = 256;
const LINE_CAP = 64 * 1024;
const MEMO_CAP = 1 << 19;
const MEMO_NAME_CAP = 1 << 20;
const CHAR_BUDGET = 32 * 1024 * 1024;
const STACK_CAP = 1 << 20;
const META_CAP = 1 << 16;
const CONTAINER_CAP = 100_000;
const RETAIN_BUDGET = 2_000_000;
const TENSOR_CAP = 100_000;
const GLOBALS_CAP = 10_000;
const LEGACY_MAGIC = 0x1950a86a20f9469cfc6cn;

const utf8 = new TextDecoder("utf-8");
// BINFLOAT is big-endian; the byte reversal below assumes a little-endian host (x86, arm64).
const F64 = new Float64Array(1);
const F64_BYTES = new Uint8Array(F64.buffer);
const latin1 = new TextDecoder("latin1");

const STORAGE_ELEMENT: Record<string, [string, number]> = {
  FloatStorage: ["float32", 4],
  DoubleStorage: ["float64", 8],
  HalfStorage: ["float16", 2],
  BFloat16Storage: ["bfloat16", 2],
  LongStorage: ["int64", 8],
  IntStorage: ["int32", 4],
  ShortStorage: ["int16", 2],
  CharStorage: ["int8", 1],
  ByteStorage: ["uint8", 1],
  BoolStorage: ["bool", 1],
  ComplexFloatStorage: ["complex64", 8],
  ComplexDoubleStorage: ["complex128", 16],
  QInt8Storage: ["qint8", 1],
  QUInt8Storage: ["quint8", 1],
  QInt32Storage: ["qint32", 4],
  QUInt4x2Storage: ["quint4x2", 1],
  QUInt2x4Storage: ["quint2x4", 1],
  UntypedStorage: ["uint8", 1],
};

class Halt extends Error {
  constructor(
    readonly kind: HaltKind,
    message: string,
  ) {
    super(message);
  }
}

interface SavedFrame {
  stack: PValue[];
  meta: PValue[][];
  memo: Map<number, PValue>;
  after: PValue;
}

/** Bytes per element of a pickled numpy dtype (`numpy.dtype('f8', ...)` + its BUILD state), or null. */
function numpyItemSize(dtype: PValue | undefined): number | "object" | null {
  if (!(dtype instanceof PyObj) || !(dtype.args instanceof PyTuple)) return null;
  const code = dtype.args.items[0];
  if (typeof code !== "string") return null;
  const m = /^[<>|=]?([a-zA-Z?])(\d*)(\[[a-zA-Z0-9]+\])?$/.exec(code);
  if (!m) return null;
  const kind = m[1]!;
  const digits = m[2] ? Number(m[2]) : NaN;
  if (kind === "O") return "object";
  if (dtype.state instanceof PyTuple) {
    const elsize = dtype.state.items[5];
    if (typeof elsize === "number" && elsize > 0) return elsize;
  }
  if (kind === "U") return Number.isFinite(digits) ? digits * 4 : null;
  if (kind === "?") return 1;
  if (Number.isFinite(digits)) return digits;
  return null;
}

export class PickleWalker {
  readonly globals = new Map<string, GlobalVerdict>();
  readonly versions: Record<string, string> = {};
  readonly tensors: PyTensor[] = [];
  pickles = 0;
  protocol: number | null = null;
  halt: PickleHalt | null = null;
  unresolvedGlobals = 0;
  globalsOverflow = 0;
  overflowVerdict: GlobalVerdict = "safe";
  topLevel: PValue | undefined = undefined;
  featureNames: string[] | null = null;
  nFeatures: number | null = null;
  joblibArrays = 0;
  legacyTorch = false;
  persistentIds = 0;
  tensorCount = 0;
  parameterCount = 0;
  /** Total bytes walked. */
  offset = 0;
  /** Bytes the stream is known to hold from offset 0 (lets absurd declared lengths fail early). */
  limit = Infinity;

  private state = S_OP;
  private stack: PValue[] = [];
  private meta: PValue[][] = [];
  private memo = new Map<number, PValue>();
  private memoOverflow = false;
  private retained = 0;
  private chars = 0;
  private frameOverrun = false;
  private readonly argBuf = new Uint8Array(8);
  private argHave = 0;
  private argNeed = 0;
  private op = 0;
  private payloadLeft = 0;
  private payloadTotal = 0;
  private capture = new Uint8Array(256);
  private captureLen = 0;
  private captureLimit = 0;
  private line = new Uint8Array(256);
  private lineLen = 0;
  private lineTrunc = false;
  private linesLeft = 0;
  private firstLine = "";
  private skipLeft = 0;
  private afterSkip = S_OP;
  private pendingArray = 0;
  private readonly nested: SavedFrame[] = [];
  private storages = new Map<string, string>();
  private legacyKeys: string[] = [];
  private legacyIdx = 0;
  private readonly numelBuf = new Uint8Array(8);
  private legacyTrailing = 0;
  private numelHave = 0;

  constructor(private readonly hooks: PickleHooks = {}) {}

  write(chunk: Uint8Array): void {
    if (this.state === S_HALT) return;
    try {
      this.run(chunk);
    } catch (e) {
      if (e instanceof Halt) this.stop(e.kind, e.message);
      else this.stop("corrupt", `scanner error: ${(e as Error).message}`);
    }
  }

  end(): void {
    if (this.state === S_HALT) return;
    if (this.offset === 0) {
      this.stop("truncated", "no pickle data");
      return;
    }
    switch (this.state) {
      case S_AFTER_STOP:
        if (this.legacyTorch && this.pickles < 5) this.stop("truncated", "legacy PyTorch file ends before its storage keys");
        return;
      case S_SKIP:
        this.stop("truncated", `file ends inside raw data (${this.skipLeft} bytes missing)`);
        return;
      case S_LEGACY_NUMEL:
        if (this.legacyIdx >= this.legacyKeys.length && this.numelHave === 0) {
          if (this.legacyTrailing > 0) this.hooks.onFinding?.("info", "trailing-data", `${this.legacyTrailing} bytes follow the legacy PyTorch storages (torch.load ignores them)`);
          return;
        }
        this.stop("truncated", "legacy PyTorch file ends before all storages");
        return;
      default:
        this.stop("truncated", this.frameOverrun ? "pickle data was truncated (a FRAME runs past the end of the file)" : "pickle data was truncated (no STOP opcode)");
    }
  }

  summary(): PickleSummary {
    return {
      pickles: this.pickles,
      protocol: this.protocol,
      complete: this.halt === null,
      halt: this.halt,
      globals: this.globals,
      globalsOverflow: this.globalsOverflow,
      overflowVerdict: this.overflowVerdict,
      unresolvedGlobals: this.unresolvedGlobals,
      topLevelClass: className(this.topLevel),
      versions: this.versions,
      featureNames: this.featureNames,
      nFeatures: this.nFeatures,
      joblibArrays: this.joblibArrays,
      legacyTorch: this.legacyTorch,
      persistentIds: this.persistentIds,
      tensors: this.tensors,
      tensorCount: this.tensorCount,
      parameterCount: this.parameterCount,
      bytes: this.offset,
    };
  }

  private stop(kind: HaltKind, message: string): void {
    if (this.state === S_HALT) return;
    this.state = S_HALT;
    this.halt = { kind, message, offset: this.offset, pickleIndex: this.pickles };
  }

  private run(chunk: Uint8Array): void {
    const n = chunk.length;
    let p = 0;
    while (p < n) {
      switch (this.state) {
        case S_OP:
        case S_AFTER_STOP: {
          if (this.state === S_AFTER_STOP) this.beginPickle();
          const op = chunk[p]!;
          const kind = ARG_KIND[op]!;
          if (kind === K_NONE) {
            p++;
            this.offset++;
            this.exec0(op);
          } else if (kind === K_FIXED || kind === K_LEN) {
            const size = ARG_SIZE[op]!;
            this.op = op;
            if (p + 1 + size <= n) {
              p += 1 + size;
              this.offset += 1 + size;
              if (kind === K_FIXED) this.execFixed(op, chunk, p - size);
              else this.beginPayload(op, readLen(chunk, p - size, size, op));
            } else {
              p++;
              this.offset++;
              this.argNeed = size;
              this.argHave = 0;
              this.state = S_ARG;
            }
          } else if (kind === K_LINE || kind === K_LINE2) {
            p++;
            this.offset++;
            this.op = op;
            this.linesLeft = kind === K_LINE2 ? 2 : 1;
            this.lineLen = 0;
            this.lineTrunc = false;
            this.state = S_LINE;
          } else {
            throw new Halt("corrupt", `unknown opcode 0x${op.toString(16).padStart(2, "0")} at offset ${this.offset}`);
          }
          break;
        }
        case S_ARG: {
          const take = Math.min(this.argNeed - this.argHave, n - p);
          for (let i = 0; i < take; i++) this.argBuf[this.argHave + i] = chunk[p + i]!;
          this.argHave += take;
          p += take;
          this.offset += take;
          if (this.argHave === this.argNeed) {
            this.state = S_OP;
            if (ARG_KIND[this.op] === K_FIXED) this.execFixed(this.op, this.argBuf, 0);
            else this.beginPayload(this.op, readLen(this.argBuf, 0, this.argNeed, this.op));
          }
          break;
        }
        case S_PAYLOAD: {
          const take = Math.min(this.payloadLeft, n - p);
          if (this.captureLen < this.captureLimit) {
            const c = Math.min(take, this.captureLimit - this.captureLen);
            if (c > 0 && this.captureLen === 0 && c === this.payloadTotal) {
              // Whole small payload in this chunk: decode straight from it.
              p += take;
              this.offset += take;
              this.payloadLeft -= take;
              this.state = S_OP;
              this.finishPayload(chunk.subarray(p - take, p - take + c));
              break;
            }
            this.capture.set(chunk.subarray(p, p + c), this.captureLen);
            this.captureLen += c;
          }
          p += take;
          this.offset += take;
          this.payloadLeft -= take;
          if (this.payloadLeft === 0) {
            this.state = S_OP;
            this.finishPayload(this.capture.subarray(0, this.captureLen));
          }
          break;
        }
        case S_LINE: {
          const nl = chunk.indexOf(10, p);
          const end = nl < 0 ? n : nl;
          const len = end - p;
          if (!this.lineTrunc) {
            const room = LINE_CAP - this.lineLen;
            const c = Math.min(room, len);
            if (this.lineLen + c > this.line.length) {
              const grown = new Uint8Array(Math.min(LINE_CAP, Math.max(this.line.length * 2, this.lineLen + c)));
              grown.set(this.line.subarray(0, this.lineLen));
              this.line = grown;
            }
            this.line.set(chunk.subarray(p, p + c), this.lineLen);
            this.lineLen += c;
            if (c < len) this.lineTrunc = true;
          }
          this.offset += len;
          p = end;
          if (nl >= 0) {
            p++;
            this.offset++;
            this.finishLine();
          }
          break;
        }
        case S_SKIP: {
          const take = Math.min(this.skipLeft, n - p);
          p += take;
          this.offset += take;
          this.skipLeft -= take;
          if (this.skipLeft === 0) this.finishSkip();
          break;
        }
        case S_JOBLIB_PAD: {
          const pad = chunk[p]!;
          p++;
          this.offset++;
          this.startSkip(pad, "joblib alignment padding", -1);
          break;
        }
        case S_LEGACY_NUMEL: {
          if (this.legacyIdx >= this.legacyKeys.length) {
            this.legacyTrailing += n - p;
            this.offset += n - p;
            p = n;
            break;
          }
          const take = Math.min(8 - this.numelHave, n - p);
          for (let i = 0; i < take; i++) this.numelBuf[this.numelHave + i] = chunk[p + i]!;
          this.numelHave += take;
          p += take;
          this.offset += take;
          if (this.numelHave === 8) {
            this.numelHave = 0;
            const numel = readU64(this.numelBuf, 0);
            const key = this.legacyKeys[this.legacyIdx++]!;
            const type = this.storages.get(key);
            // torch.load would fail with a KeyError: the file is inconsistent, not merely unusual
            if (type === undefined) throw new Halt("corrupt", `storage key ${key.slice(0, 40)} is not defined by the pickle`);
            const elem = STORAGE_ELEMENT[type.slice(type.lastIndexOf(".") + 1)];
            if (!elem) throw new Halt("unsupported", `unknown storage type ${type.slice(0, 80)}; stopped after the pickles`);
            this.startSkip(numel * elem[1], "legacy storage", S_LEGACY_NUMEL);
          }
          break;
        }
        case S_HALT:
          return;
      }
    }
  }

  private startSkip(bytes: number, what: string, next: number): void {
    if (bytes > this.limit - this.offset) {
      throw new Halt("truncated", `${what} of ${bytes} bytes runs past the end of the file`);
    }
    this.afterSkip = next;
    this.skipLeft = bytes;
    this.state = S_SKIP;
    if (bytes === 0) this.finishSkip();
  }

  private finishSkip(): void {
    if (this.afterSkip === -1) {
      // padding done: now the array bytes themselves
      this.startSkip(this.pendingArray, "joblib array data", S_OP);
      return;
    }
    this.state = this.afterSkip;
  }

  private beginPickle(): void {
    this.state = S_OP;
    this.stack = [];
    this.meta = [];
    this.memo = new Map();
    this.memoOverflow = false;
  }

  private beginPayload(op: number, len: number): void {
    if (len < 0) throw new Halt("corrupt", "negative length");
    if (len > this.limit - this.offset) {
      throw new Halt("truncated", `opcode 0x${op.toString(16)} declares ${len} bytes, beyond the end of the file`);
    }
    this.payloadLeft = len;
    this.payloadTotal = len;
    this.captureLen = 0;
    const isText = op === 0x58 || op === 0x8c || op === 0x8d || op === 0x54 || op === 0x55;
    const isLong = op === 0x8a || op === 0x8b;
    this.captureLimit = isText ? (len <= STR_CAP ? len : STR_HEAD) : isLong ? Math.min(len, 16) : 0;
    if (this.capture.length < this.captureLimit) this.capture = new Uint8Array(Math.max(this.captureLimit, this.capture.length * 2));
    if (len === 0) this.finishPayload(this.capture.subarray(0, 0));
    else this.state = S_PAYLOAD;
  }

  private finishPayload(data: Uint8Array): void {
    const op = this.op;
    const total = this.payloadTotal;
    switch (op) {
      case 0x58:
      case 0x8c:
      case 0x8d: {
        this.push(this.text(utf8.decode(data), total));
        break;
      }
      case 0x54:
      case 0x55: {
        this.push(this.text(latin1.decode(data), total));
        break;
      }
      case 0x8a:
      case 0x8b:
        this.push(total <= 16 ? decodeLong(data) : new PyBytes(total));
        break;
      default:
        this.push(new PyBytes(total));
    }
  }

  private finishLine(): void {
    const text = utf8.decode(this.line.subarray(0, this.lineLen));
    const trunc = this.lineTrunc;
    this.lineLen = 0;
    this.lineTrunc = false;
    this.linesLeft--;
    if (this.linesLeft > 0) {
      this.firstLine = trunc ? `${text}…` : text;
      return;
    }
    this.state = S_OP;
    const op = this.op;
    switch (op) {
      case 0x63: // GLOBAL
        this.push(this.makeGlobal(this.firstLine, trunc ? `${text}…` : text));
        break;
      case 0x69: {
        // INST
        const cls = this.makeGlobal(this.firstLine, text);
        const args = this.popMark();
        this.push(new PyObj(cls, this.tuple(args)));
        break;
      }
      case 0x49: // INT
        if (text === "01") this.push(true);
        else if (text === "00") this.push(false);
        else this.push(parseIntText(text));
        break;
      case 0x4c: // LONG
        this.push(parseIntText(text.endsWith("L") ? text.slice(0, -1) : text));
        break;
      case 0x46: {
        const f = Number(text);
        if (Number.isNaN(f) && !/nan/i.test(text)) throw new Halt("corrupt", "bad FLOAT");
        this.push(f);
        break;
      }
      case 0x53: {
        // STRING: a quoted Python repr
        const q = text[0];
        if (text.length < 2 || (q !== "'" && q !== '"') || text[text.length - 1] !== q) {
          throw new Halt("corrupt", "the STRING opcode argument must be quoted");
        }
        this.push(trunc ? new PyLongStr(text, text.length) : unescapePython(text.slice(1, -1)));
        break;
      }
      case 0x56:
        this.push(trunc ? new PyLongStr(text, text.length) : unescapeRawUnicode(text));
        break;
      case 0x50:
        this.persistent(text);
        break;
      case 0x67: {
        const idx = Number(text);
        if (!Number.isInteger(idx)) throw new Halt("corrupt", "bad GET index");
        this.get(idx);
        break;
      }
      case 0x70: {
        const idx = Number(text);
        if (!Number.isInteger(idx) || idx < 0) throw new Halt("corrupt", "bad PUT index");
        this.put(idx);
        break;
      }
    }
  }

  private makeGlobal(module: string, name: string): PyGlobal {
    const full = `${module}.${name}`;
    let verdict = this.globals.get(full);
    if (verdict === undefined) {
      verdict = classifyGlobal(module, name);
      if (this.globals.size < GLOBALS_CAP) {
        this.globals.set(full, verdict);
      } else {
        // past the cap only the worst verdict is remembered, so nothing dangerous is lost
        this.globalsOverflow++;
        if (verdict === "dangerous" || (verdict === "suspicious" && this.overflowVerdict === "safe")) this.overflowVerdict = verdict;
      }
    }
    return new PyGlobal(full, verdict);
  }

  private push(v: PValue): void {
    if (this.stack.length >= STACK_CAP) throw new Halt("limit", "pickle stack exceeds 1M items");
    this.stack.push(v);
  }

  private pop(): PValue {
    if (this.stack.length === 0) throw new Halt("corrupt", `stack underflow at offset ${this.offset}`);
    return this.stack.pop()!;
  }

  private top(): PValue {
    if (this.stack.length === 0) throw new Halt("corrupt", `stack underflow at offset ${this.offset}`);
    return this.stack[this.stack.length - 1]!;
  }

  private popMark(): PValue[] {
    const items = this.stack;
    const prev = this.meta.pop();
    if (prev === undefined) throw new Halt("corrupt", `MARK not found at offset ${this.offset}`);
    this.stack = prev;
    return items;
  }

  private get(idx: number): void {
    const v = this.memo.get(idx);
    if (v === undefined) {
      if (!this.memoOverflow) throw new Halt("corrupt", `memo key ${idx} missing`);
      this.push(UNKNOWN);
    } else {
      this.push(v);
    }
  }

  private text(s: string, total: number): PValue {
    this.chars += s.length;
    if (total > STR_CAP) return new PyLongStr(s, total);
    if (this.chars > CHAR_BUDGET && s.length > 64) return new PyLongStr(s.slice(0, 64), total);
    return s;
  }

  private put(idx: number): void {
    const v = this.top();
    if (this.memo.size >= MEMO_CAP && !this.memo.has(idx)) {
      this.memoOverflow = true;
      // Past the cap keep only identifier-like strings: they are what STACK_GLOBAL needs to resolve.
      const nameLike = typeof v === "string" && v.length <= 128 && /^[A-Za-z_][\w.]*$/.test(v);
      if (!nameLike || this.memo.size >= MEMO_NAME_CAP) return;
    }
    this.memo.set(idx, v);
  }

  private keep(): boolean {
    if (this.retained >= RETAIN_BUDGET) return false;
    this.retained++;
    return true;
  }

  private listAdd(list: PyList, v: PValue): void {
    list.total++;
    if (list.items.length < CONTAINER_CAP && this.keep()) list.items.push(v);
  }

  private dictSet(dict: PyDict, k: PValue, v: PValue): void {
    dict.total++;
    if (dict.keys.length < CONTAINER_CAP && this.keep()) {
      dict.keys.push(k);
      dict.vals.push(v);
    }
    if (typeof k !== "string") return;
    if (typeof v === "string") {
      const m = /^_([a-z][a-z0-9_]*)_version$/.exec(k);
      if (m && v.length <= 64 && Object.keys(this.versions).length < 32) this.versions[m[1]!] = v;
      this.hooks.onKeyedString?.(k, v);
    } else if (v instanceof PyTensor) {
      if (v.name === null) v.name = k;
    } else if (k === "n_features_in_" && typeof v === "number" && this.nFeatures === null) {
      this.nFeatures = v;
    } else if (k === "feature_names_in_" && v instanceof PyObj && v.state instanceof PyTuple) {
      const raw = v.state.items[4];
      if (raw instanceof PyList) {
        const names = raw.items.filter((x): x is string => typeof x === "string");
        if (names.length && this.featureNames === null) this.featureNames = names.slice(0, 1000);
      }
    }
  }

  private tuple(items: PValue[]): PyTuple {
    if (this.retained + items.length > RETAIN_BUDGET || items.length > CONTAINER_CAP) return new PyTuple([], items.length);
    this.retained += items.length;
    return new PyTuple(items);
  }

  private setItems(target: PValue, items: PValue[]): void {
    if (items.length % 2 !== 0) throw new Halt("corrupt", "odd number of items for SETITEMS");
    const dict = target instanceof PyDict ? target : target instanceof PyObj ? (target.dict ??= new PyDict()) : null;
    if (!dict) return;
    for (let i = 0; i < items.length; i += 2) this.dictSet(dict, items[i]!, items[i + 1]!);
  }

  private appendItems(target: PValue, items: PValue[]): void {
    const list = target instanceof PyList ? target : target instanceof PyObj ? (target.list ??= new PyList()) : null;
    if (!list) return;
    for (const it of items) this.listAdd(list, it);
  }

  private persistent(pid: PValue): void {
    this.persistentIds++;
    if (pid instanceof PyTuple && pid.items[0] === "storage" && pid.items[1] instanceof PyGlobal) {
      const key = pid.items[2];
      if (typeof key === "string" && this.storages.size < 1_000_000) this.storages.set(key, pid.items[1].name);
    }
    this.push(new PyPersistent(pid));
  }

  private reduce(func: PValue, args: PValue): PValue {
    if (func instanceof PyGlobal && args instanceof PyTuple) {
      switch (func.name) {
        case "torch._utils._rebuild_tensor":
        case "torch._utils._rebuild_tensor_v2":
        case "torch._utils._rebuild_tensor_v3":
          return this.rebuildTensor(args);
        case "torch._utils._rebuild_parameter":
        case "torch._utils._rebuild_parameter_with_state": {
          const data = args.items[0];
          return data instanceof PyTensor ? data : new PyObj(func, args);
        }
        case "copyreg._reconstructor":
        case "copy_reg._reconstructor":
          return new PyObj(args.items[0] ?? UNKNOWN, args);
        case "_codecs.encode":
        case "codecs.encode": {
          const s = args.items[0];
          return new PyBytes(typeof s === "string" ? s.length : s instanceof PyLongStr ? s.len : 0);
        }
      }
    }
    return new PyObj(func, args);
  }

  private rebuildTensor(args: PyTuple): PValue {
    const storage = args.items[0];
    let dtype = "unknown";
    if (storage instanceof PyPersistent && storage.pid instanceof PyTuple) {
      const type = storage.pid.items[1];
      if (type instanceof PyGlobal) {
        const short = type.name.slice(type.name.lastIndexOf(".") + 1);
        dtype = STORAGE_ELEMENT[short]?.[0] ?? short;
      }
    }
    const shape = intItems(args.items[2]);
    const numel = shape ? shape.reduce((a, b) => a * b, 1) : 0;
    const t = new PyTensor(dtype, shape, numel);
    this.tensorCount++;
    this.parameterCount += numel;
    if (this.tensors.length < TENSOR_CAP) this.tensors.push(t);
    return t;
  }

  private exec0(op: number): void {
    switch (op) {
      case 0x28: // MARK
        if (this.meta.length >= META_CAP) throw new Halt("limit", "too many nested MARKs");
        this.meta.push(this.stack);
        this.stack = [];
        return;
      case 0x2e: // STOP
        this.onStop(this.pop());
        return;
      case 0x30: // POP
        if (this.stack.length > 0) this.stack.pop();
        else this.popMark();
        return;
      case 0x31: // POP_MARK
        this.popMark();
        return;
      case 0x32: // DUP
        this.push(this.top());
        return;
      case 0x4e: // NONE
        this.push(null);
        return;
      case 0x88:
        this.push(true);
        return;
      case 0x89:
        this.push(false);
        return;
      case 0x51: // BINPERSID
        this.persistent(this.pop());
        return;
      case 0x52: {
        // REDUCE
        const args = this.pop();
        const func = this.pop();
        this.push(this.reduce(func, args));
        return;
      }
      case 0x81: {
        // NEWOBJ
        const args = this.pop();
        const cls = this.pop();
        this.push(new PyObj(cls, args));
        return;
      }
      case 0x92: {
        // NEWOBJ_EX
        this.pop();
        const args = this.pop();
        const cls = this.pop();
        this.push(new PyObj(cls, args));
        return;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = this.pop();
        const mod = this.pop();
        if (typeof mod === "string" && typeof name === "string") {
          this.push(this.makeGlobal(mod, name));
        } else if (!isMaybeString(mod) || !isMaybeString(name)) {
          throw new Halt("corrupt", "STACK_GLOBAL requires str");
        } else {
          this.unresolvedGlobals++;
          const m = typeof mod === "string" ? mod : mod instanceof PyLongStr ? `${mod.head}…` : "?";
          const nm = typeof name === "string" ? name : name instanceof PyLongStr ? `${name.head}…` : "?";
          this.hooks.onFinding?.("warning", "unresolved-global", `STACK_GLOBAL operands are not plain strings (${m.slice(0, 80)} / ${nm.slice(0, 80)})`);
          this.push(new PyGlobal(`${m}.${nm}`, "suspicious"));
        }
        return;
      }
      case 0x94: {
        // MEMOIZE
        this.put(this.memo.size);
        return;
      }
      case 0x62: {
        // BUILD
        const state = this.pop();
        const inst = this.top();
        if (inst instanceof PyObj) {
          inst.state = state;
          if (state instanceof PyDict) {
            if (inst.cls instanceof PyGlobal && inst.cls.name === "joblib.numpy_pickle.NumpyArrayWrapper") {
              this.joblibArray(state);
            }
          }
        }
        return;
      }
      case 0x5d:
        this.push(new PyList());
        return;
      case 0x7d:
        this.push(new PyDict());
        return;
      case 0x29:
        this.push(new PyTuple([]));
        return;
      case 0x8f:
        this.push(new PyList("set"));
        return;
      case 0x61: {
        // APPEND
        const v = this.pop();
        this.appendItems(this.top(), [v]);
        return;
      }
      case 0x65: {
        // APPENDS
        const items = this.popMark();
        this.appendItems(this.top(), items);
        return;
      }
      case 0x90: {
        // ADDITEMS
        const items = this.popMark();
        this.appendItems(this.top(), items);
        return;
      }
      case 0x73: {
        // SETITEM
        const v = this.pop();
        const k = this.pop();
        this.setItems(this.top(), [k, v]);
        return;
      }
      case 0x75: {
        // SETITEMS
        const items = this.popMark();
        this.setItems(this.top(), items);
        return;
      }
      case 0x64: {
        // DICT
        const items = this.popMark();
        const d = new PyDict();
        this.setItems(d, items);
        this.push(d);
        return;
      }
      case 0x6c: {
        // LIST
        const items = this.popMark();
        const l = new PyList();
        for (const it of items) this.listAdd(l, it);
        this.push(l);
        return;
      }
      case 0x91: {
        // FROZENSET
        const items = this.popMark();
        const l = new PyList("frozenset");
        for (const it of items) this.listAdd(l, it);
        this.push(l);
        return;
      }
      case 0x74:
        this.push(this.tuple(this.popMark()));
        return;
      case 0x85:
        this.push(new PyTuple([this.pop()]));
        return;
      case 0x86: {
        const b = this.pop();
        const a = this.pop();
        this.push(new PyTuple([a, b]));
        return;
      }
      case 0x87: {
        const c = this.pop();
        const b = this.pop();
        const a = this.pop();
        this.push(new PyTuple([a, b, c]));
        return;
      }
      case 0x6f: {
        // OBJ
        const items = this.popMark();
        if (items.length === 0) throw new Halt("corrupt", "OBJ without a class");
        this.push(new PyObj(items[0]!, this.tuple(items.slice(1))));
        return;
      }
      case 0x97: // NEXT_BUFFER
        this.hooks.onFinding?.("warning", "out-of-band-buffer", "pickle expects out-of-band buffers (NEXT_BUFFER); it cannot be loaded from this file alone");
        this.push(new PyBytes(0));
        return;
      case 0x98: // READONLY_BUFFER
        this.top();
        return;
    }
  }

  private execFixed(op: number, b: Uint8Array, o: number): void {
    switch (op) {
      case 0x4a: // BININT (signed)
        this.push(b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24));
        return;
      case 0x4b:
        this.push(b[o]!);
        return;
      case 0x4d:
        this.push(b[o]! | (b[o + 1]! << 8));
        return;
      case 0x47: // BINFLOAT, big-endian
        for (let i = 0; i < 8; i++) F64_BYTES[7 - i] = b[o + i]!;
        this.push(F64[0]!);
        return;
      case 0x68:
        this.get(b[o]!);
        return;
      case 0x6a:
        this.get(readU32(b, o));
        return;
      case 0x71:
        this.put(b[o]!);
        return;
      case 0x72:
        this.put(readU32(b, o));
        return;
      case 0x80: {
        const proto = b[o]!;
        if (proto > 5) throw new Halt("corrupt", `unsupported pickle protocol ${proto}`);
        if (this.protocol === null) this.protocol = proto;
        return;
      }
      case 0x82:
      case 0x83:
      case 0x84: {
        const code = op === 0x82 ? b[o]! : op === 0x83 ? b[o]! | (b[o + 1]! << 8) : readU32(b, o);
        const name = `copyreg._extension_registry[${code}]`;
        if (!this.globals.has(name)) {
          if (this.globals.size < GLOBALS_CAP) this.globals.set(name, "suspicious");
          else if (this.overflowVerdict === "safe") this.overflowVerdict = "suspicious";
        }
        this.push(new PyGlobal(name, "suspicious"));
        return;
      }
      case 0x95: {
        // Python would refuse an overrunning frame up front; we keep walking so the globals before the
        // cut are still reported, and the truncation shows up when the bytes run out.
        const frame = readU64(b, o);
        if (frame > this.limit - this.offset) this.frameOverrun = true;
        return;
      }
    }
  }

  private onStop(value: PValue): void {
    const saved = this.nested.pop();
    if (saved) {
      // end of a nested pickle (joblib object array): resume the outer one
      this.stack = saved.stack;
      this.meta = saved.meta;
      this.memo = saved.memo;
      if (this.stack.length) this.stack[this.stack.length - 1] = saved.after;
      this.state = S_OP;
      return;
    }
    const index = this.pickles++;
    this.state = S_AFTER_STOP;
    if (index === 0) {
      this.topLevel = value;
      if (typeof value === "bigint" && value === LEGACY_MAGIC) this.legacyTorch = true;
    }
    if (!this.legacyTorch) {
      if (index > 0) this.hooks.onFinding?.("info", "concatenated-pickle", "the file holds more than one pickle; all were scanned");
      return;
    }
    if (index === 3) this.topLevel = value;
    if (index === 4) {
      const keys = value instanceof PyList && value.items.length === value.total ? value.items : null;
      if (!keys || !keys.every((k): k is string => typeof k === "string")) {
        throw new Halt("unsupported", "legacy PyTorch storage key list not understood; stopped after the pickles");
      }
      this.legacyKeys = keys;
      this.legacyIdx = 0;
      this.state = S_LEGACY_NUMEL;
    }
  }

  private joblibArray(state: PyDict): void {
    const shape = intItems(state.get("shape"));
    const item = numpyItemSize(state.get("dtype"));
    const arr = new PyObj(new PyGlobal("numpy.ndarray", "safe"), new PyTuple([]));
    if (item === "object") {
      this.joblibArrays++;
      if (this.nested.length >= 16) throw new Halt("limit", "joblib object arrays nested too deeply");
      this.nested.push({ stack: this.stack, meta: this.meta, memo: this.memo, after: arr });
      this.stack = [];
      this.meta = [];
      this.memo = new Map();
      return;
    }
    if (!shape || item === null) throw new Halt("unsupported", "cannot size a joblib array (unknown shape or dtype); stopped");
    const nbytes = shape.reduce((a, b2) => a * b2, 1) * item;
    if (!Number.isSafeInteger(nbytes) || nbytes < 0) throw new Halt("corrupt", "joblib array size is absurd");
    this.joblibArrays++;
    this.stack[this.stack.length - 1] = arr;
    this.pendingArray = nbytes;
    if (typeof state.get("numpy_array_alignment_bytes") === "number") {
      this.state = S_JOBLIB_PAD;
    } else {
      this.startSkip(nbytes, "joblib array data", S_OP);
    }
  }
}

function isMaybeString(v: PValue): boolean {
  return typeof v === "string" || v instanceof PyLongStr || v === UNKNOWN;
}

function readU32(b: Uint8Array, o: number): number {
  return (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16)) + b[o + 3]! * 0x1000000;
}

function readU64(b: Uint8Array, o: number): number {
  return readU32(b, o + 4) * 0x100000000 + readU32(b, o);
}

function readLen(b: Uint8Array, o: number, size: number, op: number): number {
  if (size === 1) return b[o]!;
  if (size === 4) {
    const v = readU32(b, o);
    // BINSTRING and LONG4 lengths are signed
    if ((op === 0x54 || op === 0x8b) && v >= 0x80000000) return -1;
    return v;
  }
  return readU64(b, o);
}

function decodeLong(data: Uint8Array): bigint | number {
  if (data.length === 0) return 0;
  let v = 0n;
  for (let i = data.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(data[i]!);
  if (data[data.length - 1]! & 0x80) v -= 1n << BigInt(8 * data.length);
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

function parseIntText(text: string): number | bigint {
  const t = text.trim();
  if (!/^[+-]?\d+$/.test(t)) throw new Halt("corrupt", "bad integer literal");
  const n = Number(t);
  return Number.isSafeInteger(n) ? n : BigInt(t);
}

/** Python bytes-literal escapes, as STRING's codecs.escape_decode applies them. */
function unescapePython(s: string): string {
  if (!s.includes("\\")) return s;
  return s.replace(/\\(x[0-9a-fA-F]{2}|[0-7]{1,3}|[\\'"abfnrtv\n])/g, (_, e: string) => {
    if (e[0] === "x") return String.fromCharCode(parseInt(e.slice(1), 16));
    if (/^[0-7]/.test(e)) return String.fromCharCode(parseInt(e, 8) & 0xff);
    const map: Record<string, string> = { "\\": "\\", "'": "'", '"': '"', a: "\x07", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t", v: "\v", "\n": "" };
    return map[e] ?? e;
  });
}

function unescapeRawUnicode(s: string): string {
  if (!s.includes("\\")) return s;
  return s.replace(/\\u([0-9a-fA-F]{4})|\\U([0-9a-fA-F]{8})/g, (_, a?: string, b?: string) => {
    const cp = parseInt((a ?? b)!, 16);
    return cp <= 0x10ffff ? String.fromCodePoint(cp) : "\ufffd";
  });
}

/** Walks a complete in-memory pickle (used by tests and small members). */
export function walkPickle(bytes: Uint8Array, hooks: PickleHooks = {}): PickleSummary {
  const w = new PickleWalker(hooks);
  w.limit = bytes.length;
  w.write(bytes);
  w.end();
  return w.summary();
}
