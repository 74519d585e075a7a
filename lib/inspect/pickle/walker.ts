import { DANGEROUS_AS_VALUE, describeGlobal, type GlobalVerdict } from "./globals";
import { judgeCall, type CallSite } from "./judge";
import { ARG_KIND, ARG_SIZE, ArgKind, OP, OP_NAME, SIGNED_LEN_OPS, TEXT_OPS } from "./opcodes";
import {
  className,
  intItems,
  PyBytes,
  PyDict,
  PyGlobal,
  PyList,
  PyLongStr,
  PyObj,
  PyPartial,
  PyPersistent,
  PyTensor,
  PyTuple,
  UNKNOWN,
  type PValue,
} from "./values";

/**
 * Streaming pickle opcode walker with stack + memo emulation. It never calls anything: REDUCE and
 * friends produce placeholder objects, every global the pickle would import is classified, and how
 * each global is used (called, instantiated, modified, stored) raises its verdict. Handles
 * concatenated pickles, joblib's raw array bytes between pickle frames and the legacy (pre-1.6)
 * PyTorch layout of five pickles followed by raw storages.
 */

export type HaltKind = "truncated" | "corrupt" | "unsupported" | "limit";

export interface PickleHalt {
  kind: HaltKind;
  message: string;
  offset: number;
  pickleIndex: number;
}

/** Receives the bytes of a payload that a loader would open as a file of its own. */
export interface NestedSink {
  write(b: Uint8Array): void;
  end(): void;
}

export interface PickleHooks {
  /** A string stored under a string key (dict item, attribute, or a (key, value) pair): for the secret scanner. */
  onKeyedString?(key: string, value: string): void;
  /** Any other string of 12 or more characters (list and tuple items, arguments). */
  onString?(value: string): void;
  onFinding?(severity: "info" | "warning" | "danger", code: string, message: string): void;
  /** A bytes payload that torch.storage._load_from_bytes will torch.load: inspect it as a file. */
  openNested?(what: string): NestedSink | null;
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

// IMPORTANT: under tsx and vitest every imported binding is read through a getter; the opcode loop
// reads these module-local copies instead (measured: ~15% of a dense-pickle scan).
const KIND = ARG_KIND;
const SIZE = ARG_SIZE;
const K_NONE = ArgKind.NONE;
const K_FIXED = ArgKind.FIXED;
const K_LEN = ArgKind.LEN;
const K_LINE = ArgKind.LINE;
const K_LINE2 = ArgKind.LINE2;

const DictClass = PyDict;
const ListClass = PyList;
const TupleClass = PyTuple;
const GlobalClass = PyGlobal;
const ObjClass = PyObj;
const TensorClass = PyTensor;
const PartialClass = PyPartial;
const BytesClass = PyBytes;
const LongStrClass = PyLongStr;
const PersistentClass = PyPersistent;
/**
 * Memoized containers beyond this many are replaced by an opaque stand-in: the memo would otherwise
 * keep every container of the file alive (GC was most of a dense pickle's scan time). Tuples that hold
 * a global stay real: they are the arguments calls are judged by.
 */
const MEMO_CONTAINER_CAP = 10_000;
const OPAQUE_DICT = Object.assign(new PyDict(), { opaque: true });
const OPAQUE_LIST = Object.assign(new PyList(), { opaque: true });
const OPAQUE_TUPLE = new PyTuple([], 0);

const S_OP = 0;
const S_ARG = 1;
const S_PAYLOAD = 2;
const S_LINE = 3;
const S_SKIP = 4;
const S_AFTER_STOP = 5;
const S_HALT = 6;
const S_JOBLIB_PAD = 7;
const S_LEGACY_NUMEL = 8;
const S_DONE = 9;

const STR_CAP = 16 * 1024;
const STR_HEAD = 256;
const LINE_CAP = 64 * 1024;
const MEMO_CAP = 1 << 21;
const MEMO_NAME_CAP = 1 << 20;
const CHAR_BUDGET = 32 * 1024 * 1024;
const STACK_CAP = 1 << 20;
const META_CAP = 1 << 16;
const CONTAINER_CAP = 50_000;
const RETAIN_BUDGET = 50_000;
/** Tuples this small always keep their items: they are the arguments the judges read. */
const SMALL_TUPLE = 8;
const TENSOR_CAP = 100_000;
const GLOBALS_CAP = 10_000;
const SECRET_MIN = 12;
/** Small bytes payloads are also read as text for the secret scanner. */
const BYTES_TEXT_CAP = 4096;
/** Globals whose bytes argument is itself a file a loader opens: the payload is inspected as one. */
const LOADS_BYTES = new Set(["torch.storage._load_from_bytes", "pickle.loads", "_pickle.loads", "pickle._loads"]);
const LEGACY_MAGIC = 0x1950a86a20f9469cfc6cn;
const RANK: Record<GlobalVerdict, number> = { safe: 0, suspicious: 1, dangerous: 2 };

const utf8 = new TextDecoder("utf-8");
const latin1 = new TextDecoder("latin1");
// BINFLOAT is big-endian; the byte reversal below assumes a little-endian host (x86, arm64).
const F64 = new Float64Array(1);
const F64_BYTES = new Uint8Array(F64.buffer);

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

/** Bytes per element of a torch storage class name (torch.FloatStorage -> 4), or undefined. */
export function storageElementSize(name: string): number | undefined {
  return STORAGE_ELEMENT[name.slice(name.lastIndexOf(".") + 1)]?.[1];
}

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
  marks: number[];
  memo: Memo;
  after: PValue;
}

/** Pickle memo: indexes are almost always dense (MEMOIZE), so an array with a sparse fallback. */
class Memo {
  private dense: PValue[] = [];
  private sparse: Map<number, PValue> | null = null;
  size = 0;
  overflow = false;

  get(idx: number): PValue | undefined {
    return idx < this.dense.length ? this.dense[idx] : this.sparse?.get(idx);
  }

  put(idx: number, v: PValue): void {
    const dense = this.dense;
    if (idx === dense.length && this.size < MEMO_CAP) {
      dense.push(v);
      this.size++;
      return;
    }
    if (idx < dense.length) {
      if (dense[idx] === undefined) this.size++;
      dense[idx] = v;
      return;
    }
    const sparse = (this.sparse ??= new Map());
    if (!sparse.has(idx)) {
      if (this.size >= MEMO_CAP) {
        this.overflow = true;
        // Past the cap keep only what names a global: that is what STACK_GLOBAL and calls need.
        const nameLike =
          (typeof v === "string" && v.length <= 128 && /^[A-Za-z_][\w.]*$/.test(v)) ||
          v instanceof GlobalClass ||
          v instanceof PartialClass;
        if (!nameLike || this.size >= MEMO_CAP + MEMO_NAME_CAP) return;
      }
      this.size++;
    }
    sparse.set(idx, v);
  }
}

/** Bytes per element of a pickled numpy dtype (`numpy.dtype('f8', ...)` + its BUILD state), or null. */
function numpyItemSize(dtype: PValue | undefined): number | "object" | null {
  if (!(dtype instanceof ObjClass) || !(dtype.args instanceof TupleClass)) return null;
  const code = dtype.args.items[0];
  if (typeof code !== "string") return null;
  const m = /^[<>|=]?([a-zA-Z?])(\d*)(\[[a-zA-Z0-9]+\])?$/.exec(code);
  if (!m) return null;
  const kind = m[1]!;
  const digits = m[2] ? Number(m[2]) : NaN;
  if (kind === "O") return "object";
  if (dtype.state instanceof TupleClass) {
    const elsize = dtype.state.items[5];
    if (typeof elsize === "number" && elsize > 0) return elsize;
  }
  if (kind === "U") return Number.isFinite(digits) ? digits * 4 : null;
  if (kind === "?") return 1;
  if (Number.isFinite(digits)) return digits;
  return null;
}

type Exec0 = (w: PickleWalker) => void;
type ExecFixed = (w: PickleWalker, b: Uint8Array, o: number) => void;

export class PickleWalker implements CallSite {
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
  /** Stop after the first pickle (write() then reports how many bytes it used). */
  single = false;

  private state = S_OP;
  /** The value stack; `marks` are the MARK positions in it and `fence` the innermost (CPython's C unpickler works this way). */
  private stack: PValue[] = [];
  private marks: number[] = [];
  private fence = 0;
  private memo = new Memo();
  private memoContainers = 0;
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
  private nestedSink: NestedSink | null = null;
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
  /** copyreg extension registry entries the pickle itself registered (code -> [module, name]). */
  private readonly extensions = new Map<number, [string, string]>();
  /** Judged globals (by name) that were called at least once. */
  private readonly judgedCalls = new Set<string>();
  private readonly judgedSeen = new Map<string, PyGlobal>();
  private readonly globalCache = new Map<string, PyGlobal>();

  private static readonly EXEC0: Array<Exec0 | undefined> = new Array(256);
  private static readonly EXEC_FIXED: Array<ExecFixed | undefined> = new Array(256);

  constructor(private readonly hooks: PickleHooks = {}) {}

  /** Feeds bytes; returns how many were used (fewer only once a single-pickle walk reached its STOP). */
  write(chunk: Uint8Array): number {
    if (this.state === S_HALT || this.state === S_DONE) return this.state === S_DONE ? 0 : chunk.length;
    try {
      return this.run(chunk);
    } catch (e) {
      if (e instanceof Halt) this.stop(e.kind, e.message);
      else this.stop("corrupt", `scanner error: ${(e as Error).message}`);
      return chunk.length;
    }
  }

  /** True once a single-pickle walk has read its STOP. */
  get done(): boolean {
    return this.state === S_DONE;
  }

  end(): void {
    this.closeNested();
    this.judgeUncalled();
    if (this.state === S_HALT || this.state === S_DONE) return;
    if (this.offset === 0) return this.stop("truncated", "no pickle data");
    switch (this.state) {
      case S_AFTER_STOP:
        if (this.legacyTorch && this.pickles < 5) this.stop("truncated", "legacy PyTorch file ends before its storage keys");
        return;
      case S_SKIP:
        return this.stop("truncated", `file ends inside raw data (${this.skipLeft} bytes missing)`);
      case S_LEGACY_NUMEL:
        if (this.legacyIdx >= this.legacyKeys.length && this.numelHave === 0) {
          if (this.legacyTrailing > 0)
            this.finding(
              "info",
              "trailing-data",
              `${this.legacyTrailing} bytes follow the legacy PyTorch storages (torch.load ignores them)`,
            );
          return;
        }
        return this.stop("truncated", "legacy PyTorch file ends before all storages");
      default:
        this.stop(
          "truncated",
          this.frameOverrun
            ? "pickle data was truncated (a FRAME runs past the end of the file)"
            : "pickle data was truncated (no STOP opcode)",
        );
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
    this.closeNested();
    this.state = S_HALT;
    this.halt = { kind, message, offset: this.offset, pickleIndex: this.pickles };
  }

  private finding(severity: "info" | "warning" | "danger", code: string, message: string): void {
    this.hooks.onFinding?.(severity, code, message);
  }

  // ---- byte framing ---------------------------------------------------------------------------

  private run(chunk: Uint8Array): number {
    const n = chunk.length;
    let p = 0;
    while (p < n) {
      switch (this.state) {
        case S_AFTER_STOP:
          if (this.single) {
            this.state = S_DONE;
            return p;
          }
          this.beginPickle();
          p = this.stepOps(chunk, p, n);
          break;
        case S_OP:
          p = this.stepOps(chunk, p, n);
          break;
        case S_ARG:
          p = this.stepArg(chunk, p, n);
          break;
        case S_PAYLOAD:
          p = this.stepPayload(chunk, p, n);
          break;
        case S_LINE:
          p = this.stepLine(chunk, p, n);
          break;
        case S_SKIP: {
          const take = Math.min(this.skipLeft, n - p);
          p += take;
          this.offset += take;
          this.skipLeft -= take;
          if (this.skipLeft === 0) this.finishSkip();
          break;
        }
        case S_JOBLIB_PAD:
          this.offset++;
          this.startSkip(chunk[p++]!, "joblib alignment padding", -1);
          break;
        case S_LEGACY_NUMEL:
          p = this.stepLegacyNumel(chunk, p, n);
          break;
        default:
          return this.state === S_DONE ? p : n;
      }
    }
    if (this.state === S_AFTER_STOP && this.single) this.state = S_DONE;
    return p;
  }

  /** The hot loop: consecutive opcodes whose arguments are in this chunk. */
  private stepOps(chunk: Uint8Array, start: number, n: number): number {
    let p = start;
    const exec0 = PickleWalker.EXEC0;
    const execFixed = PickleWalker.EXEC_FIXED;
    while (p < n && this.state === S_OP) {
      const op = chunk[p]!;
      const kind = KIND[op]!;
      if (kind === K_NONE) {
        p++;
        this.offset++;
        exec0[op]!(this);
        continue;
      }
      if (kind === K_FIXED || kind === K_LEN) {
        const size = SIZE[op]!;
        this.op = op;
        if (p + 1 + size <= n) {
          p += 1 + size;
          this.offset += 1 + size;
          if (kind === K_FIXED) execFixed[op]!(this, chunk, p - size);
          else this.beginPayload(op, readLen(chunk, p - size, size, op));
        } else {
          p++;
          this.offset++;
          this.argNeed = size;
          this.argHave = 0;
          this.state = S_ARG;
        }
        continue;
      }
      if (kind === K_LINE || kind === K_LINE2) {
        p++;
        this.offset++;
        this.op = op;
        this.linesLeft = kind === K_LINE2 ? 2 : 1;
        this.lineLen = 0;
        this.lineTrunc = false;
        this.state = S_LINE;
        continue;
      }
      throw new Halt("corrupt", `unknown opcode 0x${op.toString(16).padStart(2, "0")} at offset ${this.offset}`);
    }
    return p;
  }

  private stepArg(chunk: Uint8Array, p: number, n: number): number {
    const take = Math.min(this.argNeed - this.argHave, n - p);
    for (let i = 0; i < take; i++) this.argBuf[this.argHave + i] = chunk[p + i]!;
    this.argHave += take;
    this.offset += take;
    if (this.argHave === this.argNeed) {
      this.state = S_OP;
      if (ARG_KIND[this.op] === ArgKind.FIXED) PickleWalker.EXEC_FIXED[this.op]!(this, this.argBuf, 0);
      else this.beginPayload(this.op, readLen(this.argBuf, 0, this.argNeed, this.op));
    }
    return p + take;
  }

  private stepPayload(chunk: Uint8Array, p: number, n: number): number {
    const take = Math.min(this.payloadLeft, n - p);
    if (this.nestedSink) this.nestedSink.write(chunk.subarray(p, p + take));
    if (this.captureLen < this.captureLimit) {
      const c = Math.min(take, this.captureLimit - this.captureLen);
      if (c > 0 && this.captureLen === 0 && c === this.payloadTotal) {
        // Whole small payload in this chunk: decode straight from it.
        this.offset += take;
        this.payloadLeft -= take;
        this.state = S_OP;
        this.finishPayload(chunk.subarray(p, p + c));
        return p + take;
      }
      this.capture.set(chunk.subarray(p, p + c), this.captureLen);
      this.captureLen += c;
    }
    this.offset += take;
    this.payloadLeft -= take;
    if (this.payloadLeft === 0) {
      this.state = S_OP;
      this.finishPayload(this.capture.subarray(0, this.captureLen));
    }
    return p + take;
  }

  private stepLine(chunk: Uint8Array, p: number, n: number): number {
    const nl = chunk.indexOf(10, p);
    const end = nl < 0 ? n : nl;
    const len = end - p;
    if (!this.lineTrunc) {
      const c = Math.min(LINE_CAP - this.lineLen, len);
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
    if (nl < 0) return end;
    this.offset++;
    this.finishLine();
    return end + 1;
  }

  private stepLegacyNumel(chunk: Uint8Array, p: number, n: number): number {
    if (this.legacyIdx >= this.legacyKeys.length) {
      this.legacyTrailing += n - p;
      this.offset += n - p;
      return n;
    }
    const take = Math.min(8 - this.numelHave, n - p);
    for (let i = 0; i < take; i++) this.numelBuf[this.numelHave + i] = chunk[p + i]!;
    this.numelHave += take;
    this.offset += take;
    if (this.numelHave === 8) {
      this.numelHave = 0;
      const numel = readU64(this.numelBuf, 0);
      const key = this.legacyKeys[this.legacyIdx++]!;
      const type = this.storages.get(key);
      // torch.load would fail with a KeyError: the file is inconsistent, not merely unusual
      if (type === undefined) throw new Halt("corrupt", `storage key ${key.slice(0, 40)} is not defined by the pickle`);
      const size = storageElementSize(type);
      if (size === undefined) throw new Halt("unsupported", `unknown storage type ${type.slice(0, 80)}; stopped after the pickles`);
      this.startSkip(numel * size, "legacy storage", S_LEGACY_NUMEL);
    }
    return p + take;
  }

  private startSkip(bytes: number, what: string, next: number): void {
    if (bytes > this.limit - this.offset) throw new Halt("truncated", `${what} of ${bytes} bytes runs past the end of the file`);
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
    this.marks = [];
    this.fence = 0;
    this.memo = new Memo();
    this.memoContainers = 0;
    this.retained = 0;
  }

  private beginPayload(op: number, len: number): void {
    if (len < 0) throw new Halt("corrupt", "negative length");
    if (len > this.limit - this.offset) throw new Halt("truncated", `${OP_NAME[op]} declares ${len} bytes, beyond the end of the file`);
    this.payloadLeft = len;
    this.payloadTotal = len;
    this.captureLen = 0;
    const isLong = op === OP.LONG1 || op === OP.LONG4;
    const isText = TEXT_OPS.has(op);
    this.captureLimit = isText
      ? len <= STR_CAP
        ? len
        : STR_HEAD
      : isLong
        ? Math.min(len, 16)
        : len >= SECRET_MIN && len <= BYTES_TEXT_CAP
          ? len
          : 0;
    if (this.capture.length < this.captureLimit) this.capture = new Uint8Array(Math.max(this.captureLimit, this.capture.length * 2));
    this.nestedSink = null;
    if (!isLong && len > 0) this.maybeOpenNested(isText);
    if (len === 0) this.finishPayload(this.capture.subarray(0, 0));
    else this.state = S_PAYLOAD;
  }

  /** Bytes right after a global that loads bytes as a file (torch.storage._load_from_bytes, pickle.loads) are inspected as that file. */
  private maybeOpenNested(isText: boolean): void {
    const st = this.stack;
    let top = st[st.length - 1];
    // protocol 2 writes bytes as _codecs.encode(text, "latin1"): the text under the loader is the file
    const viaCodec = isText && top instanceof GlobalClass && top.info.resolved === "_codecs.encode";
    if (isText && !viaCodec) return;
    if (viaCodec) top = st[st.length - 2];
    if (!(top instanceof GlobalClass) || !LOADS_BYTES.has(top.info.resolved) || !this.hooks.openNested) return;
    const sink = this.hooks.openNested(`${top.name}#${this.offset}`);
    this.nestedSink = sink && viaCodec && (this.op === OP.BINUNICODE || this.op === OP.BINUNICODE8) ? latin1FromUtf8(sink) : sink;
  }

  private closeNested(): void {
    const sink = this.nestedSink;
    this.nestedSink = null;
    sink?.end();
  }

  private finishPayload(data: Uint8Array): void {
    const op = this.op;
    const total = this.payloadTotal;
    if (TEXT_OPS.has(op) && this.nestedSink) {
      const s = new LongStrClass(utf8.decode(data.subarray(0, STR_HEAD)), total);
      s.nested = true;
      this.closeNested();
      this.push(s);
    } else if (op === OP.BINUNICODE || op === OP.SHORT_BINUNICODE || op === OP.BINUNICODE8) {
      this.push(this.text(utf8.decode(data), total));
    } else if (op === OP.BINSTRING || op === OP.SHORT_BINSTRING) {
      this.push(this.text(latin1.decode(data), total));
    } else if (op === OP.LONG1 || op === OP.LONG4) {
      this.push(total <= 16 ? decodeLong(data) : new BytesClass(total));
    } else {
      if (data.length >= SECRET_MIN) this.hooks.onString?.(latin1.decode(data));
      const b = new BytesClass(total);
      if (this.nestedSink) {
        b.nested = "safe";
        this.closeNested();
      }
      this.push(b);
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
    if (op === OP.GLOBAL) this.push(this.makeGlobal(this.firstLine, trunc ? `${text}…` : text));
    else if (op === OP.INST) this.inst(this.makeGlobal(this.firstLine, text));
    else this.lineValue(op, text, trunc);
  }

  private lineValue(op: number, text: string, trunc: boolean): void {
    switch (op) {
      case OP.INT:
        this.push(text === "01" ? true : text === "00" ? false : parseIntText(text));
        return;
      case OP.LONG:
        this.push(parseIntText(text.endsWith("L") ? text.slice(0, -1) : text));
        return;
      case OP.FLOAT: {
        const f = Number(text);
        if (Number.isNaN(f) && !/nan/i.test(text)) throw new Halt("corrupt", "bad FLOAT");
        this.push(f);
        return;
      }
      case OP.STRING: {
        const q = text[0];
        if (text.length < 2 || (q !== "'" && q !== '"') || text[text.length - 1] !== q)
          throw new Halt("corrupt", "the STRING opcode argument must be quoted");
        this.push(trunc ? new LongStrClass(text, text.length) : this.text(unescapePython(text.slice(1, -1)), text.length));
        return;
      }
      case OP.UNICODE:
        this.push(trunc ? new LongStrClass(text, text.length) : this.text(unescapeRawUnicode(text), text.length));
        return;
      case OP.PERSID:
        this.persistent(text);
        return;
      case OP.GET:
      case OP.PUT: {
        const idx = Number(text);
        if (!Number.isInteger(idx) || idx < 0) throw new Halt("corrupt", `bad ${OP_NAME[op]} index`);
        if (op === OP.GET) this.get(idx);
        else this.put(idx);
        return;
      }
    }
  }

  // ---- the value stack ------------------------------------------------------------------------

  private push(v: PValue): void {
    if (this.stack.length >= STACK_CAP) throw new Halt("limit", "pickle stack exceeds 1M items");
    this.stack.push(v);
  }

  private pop(): PValue {
    if (this.stack.length <= this.fence) throw new Halt("corrupt", `stack underflow at offset ${this.offset}`);
    return this.stack.pop()!;
  }

  private top(): PValue {
    if (this.stack.length <= this.fence) throw new Halt("corrupt", `stack underflow at offset ${this.offset}`);
    return this.stack[this.stack.length - 1]!;
  }

  private mark(): void {
    if (this.marks.length >= META_CAP) throw new Halt("limit", "too many nested MARKs");
    this.fence = this.stack.length;
    this.marks.push(this.fence);
  }

  /** Closes the innermost MARK: returns where its items start (they are still on the stack; callers truncate). */
  private popMark(): number {
    const start = this.marks.pop();
    if (start === undefined) throw new Halt("corrupt", `MARK not found at offset ${this.offset}`);
    this.fence = this.marks.length ? this.marks[this.marks.length - 1]! : 0;
    return start;
  }

  /** The items since the innermost MARK, removed from the stack. */
  private popMarkItems(): PValue[] {
    const start = this.popMark();
    const items = this.stack.slice(start);
    this.stack.length = start;
    return items;
  }

  private get(idx: number): void {
    const v = this.memo.get(idx);
    if (v !== undefined) return this.push(v);
    if (!this.memo.overflow) throw new Halt("corrupt", `memo key ${idx} missing`);
    this.push(UNKNOWN);
  }

  private put(idx: number): void {
    let v = this.top();
    if (v !== null && typeof v === "object" && ++this.memoContainers > MEMO_CONTAINER_CAP) {
      if (v instanceof DictClass) v = OPAQUE_DICT;
      else if (v instanceof ListClass) v = OPAQUE_LIST;
      else if (v instanceof TupleClass && !holdsCallable(v)) v = OPAQUE_TUPLE;
    }
    this.memo.put(idx, v);
  }

  private text(s: string, total: number): PValue {
    this.chars += s.length;
    if (s.length >= SECRET_MIN) this.hooks.onString?.(s);
    if (total > STR_CAP) return new LongStrClass(s, total);
    if (this.chars > CHAR_BUDGET && s.length > 64) return new LongStrClass(s.slice(0, 64), total);
    return s;
  }

  private keep(): boolean {
    if (this.retained >= RETAIN_BUDGET) return false;
    this.retained++;
    return true;
  }

  private listAdd(list: PyList, v: PValue): void {
    list.total++;
    if (list.items.length < CONTAINER_CAP && !list.opaque && this.keep()) list.add(v);
  }

  private tuple(items: PValue[]): PyTuple {
    if (items.length <= SMALL_TUPLE) {
      if (items.length === 2 && typeof items[0] === "string" && typeof items[1] === "string") this.keyed(items[0], items[1]);
      return new TupleClass(items);
    }
    if (this.retained + items.length > RETAIN_BUDGET || items.length > CONTAINER_CAP) return new TupleClass([], items.length);
    this.retained += items.length;
    return new TupleClass(items);
  }

  private keyed(key: string, value: string): void {
    if (value.length >= 8 && key.length <= 64) this.hooks.onKeyedString?.(key, value);
  }

  private dictSet(dict: PyDict, k: PValue, v: PValue): void {
    dict.total++;
    if (dict.keys.length < CONTAINER_CAP && !dict.opaque && this.keep()) dict.set(k, v);
    if (typeof k !== "string") return;
    if (typeof v === "string") {
      if (k.length > 9 && k.charCodeAt(0) === 95 && k.endsWith("_version")) {
        const m = /^_([a-z][a-z0-9_]*)_version$/.exec(k);
        if (m && v.length <= 64 && Object.keys(this.versions).length < 32) this.versions[m[1]!] = v;
      }
      this.hooks.onKeyedString?.(k, v);
    } else if (k === "n_features_in_" && typeof v === "number" && this.nFeatures === null) {
      this.nFeatures = v;
    } else if (k === "feature_names_in_" && v instanceof ObjClass && v.state instanceof TupleClass) {
      const raw = v.state.items[4];
      if (raw instanceof ListClass) {
        const names = raw.items.filter((x): x is string => typeof x === "string");
        if (names.length && this.featureNames === null) this.featureNames = names.slice(0, 1000);
      }
    } else if (v instanceof TensorClass) {
      if (v.name === null) v.name = k;
    }
  }

  /** SETITEM(S) / DICT: key-value pairs stack[from..to) go into `target`. */
  private setItems(target: PValue, from: number, to: number): void {
    if ((to - from) % 2 !== 0) throw new Halt("corrupt", "odd number of items for SETITEMS");
    if (target instanceof GlobalClass) return this.mutateGlobal(target, this.stack.slice(from, to));
    const dict = target instanceof DictClass ? target : target instanceof ObjClass ? (target.dict ??= new DictClass()) : null;
    if (!dict) return;
    const st = this.stack;
    for (let i = from; i < to; i += 2) this.dictSet(dict, st[i]!, st[i + 1]!);
  }

  private setOne(target: PValue, k: PValue, v: PValue): void {
    if (target instanceof GlobalClass) return this.mutateGlobal(target, [k, v]);
    const dict = target instanceof DictClass ? target : target instanceof ObjClass ? (target.dict ??= new DictClass()) : null;
    if (dict) this.dictSet(dict, k, v);
  }

  private appendOne(target: PValue, v: PValue): void {
    if (target instanceof GlobalClass) return this.mutateGlobal(target, [v]);
    const list = target instanceof ListClass ? target : target instanceof ObjClass ? (target.list ??= new ListClass()) : null;
    if (list) this.listAdd(list, v);
  }

  /** APPEND(S) / ADDITEMS: items stack[from..to) go into `target`. */
  private appendItems(target: PValue, from: number, to: number): void {
    if (target instanceof GlobalClass) return this.mutateGlobal(target, this.stack.slice(from, to));
    const list = target instanceof ListClass ? target : target instanceof ObjClass ? (target.list ??= new ListClass()) : null;
    if (!list) return;
    for (let i = from; i < to; i++) this.listAdd(list, this.stack[i]!);
  }

  /** Closes the innermost MARK whose items go into the object just below it; returns where the items start. */
  private markBelowTarget(): number {
    const start = this.popMark();
    if (start <= this.fence) throw new Halt("corrupt", `stack underflow at offset ${this.offset}`);
    return start;
  }

  // ---- globals and how they are used ------------------------------------------------------------

  private makeGlobal(module: string, name: string): PyGlobal {
    const key = `${module}\n${name}`;
    const cached = this.globalCache.get(key);
    if (cached) return cached;
    const g = new GlobalClass(module, name, describeGlobal(module, name));
    if (this.globalCache.size < GLOBALS_CAP) this.globalCache.set(key, g);
    const kind = g.info.kind;
    const verdict: GlobalVerdict = kind === "dangerous" ? "dangerous" : kind === "unlisted" ? "suspicious" : "safe";
    if (kind === "judged") this.judgedSeen.set(g.name, g);
    const isNew = !this.globals.has(g.name);
    this.record(g.name, verdict);
    if (kind === "dangerous" && isNew) this.finding("danger", "pickle-dangerous-global", `${g.name}: ${g.info.reason}`);
    return g;
  }

  /** Records a global's verdict; only the worst verdict seen for a name is kept. */
  private record(name: string, verdict: GlobalVerdict): void {
    const prev = this.globals.get(name);
    if (prev !== undefined) {
      if (RANK[verdict] > RANK[prev]) this.globals.set(name, verdict);
      return;
    }
    if (this.globals.size < GLOBALS_CAP) {
      this.globals.set(name, verdict);
      return;
    }
    // past the cap only the worst verdict is remembered, so nothing dangerous is lost
    this.globalsOverflow++;
    if (RANK[verdict] > RANK[this.overflowVerdict]) this.overflowVerdict = verdict;
  }

  escalate(g: PyGlobal, verdict: GlobalVerdict, reason: string): void {
    const before = this.globals.get(g.name);
    this.record(g.name, verdict);
    if (verdict === "dangerous" && before !== "dangerous") this.finding("danger", "pickle-dangerous-use", `${g.name}: ${reason}`);
  }

  global(module: string, name: string): PyGlobal {
    return this.makeGlobal(module, name);
  }

  /** REDUCE, OBJ, INST: the unpickler calls `func(*args)`. */
  call(func: PValue, args: PValue): PValue {
    if (func instanceof GlobalClass) {
      switch (func.info.kind) {
        case "judged":
          this.judgedCalls.add(func.name);
          return judgeCall(this, func, args);
        case "unlisted":
          this.escalate(func, "dangerous", "called by the pickle: runs code that is not on the allowlist");
          return new ObjClass(func, args);
        case "dangerous":
          this.recordExtension(func, args);
          return new ObjClass(func, args);
        default:
          return this.emulate(func, args);
      }
    }
    if (func instanceof PartialClass) return this.call(func.wrapped, args);
    if (func instanceof ObjClass && func.cls instanceof GlobalClass) {
      this.escalate(func.cls, "dangerous", "an instance of this class is called by the pickle");
    } else {
      this.finding(
        "danger",
        "pickle-computed-call",
        "the pickle calls an object it computed (not a named global); what runs cannot be judged",
      );
    }
    return new ObjClass(UNKNOWN, args);
  }

  /** NEWOBJ, NEWOBJ_EX, copyreg.__newobj__/_reconstructor: `cls.__new__(cls)` without calling `__init__`. */
  instantiate(cls: PValue, args: PValue): PValue {
    if (cls instanceof GlobalClass) {
      if (cls.info.resolved === "functools.partial") {
        this.judgedCalls.add(cls.name);
        return new PartialClass(args instanceof TupleClass ? (args.items[0] ?? UNKNOWN) : UNKNOWN);
      }
      if (cls.info.kind === "judged") this.escalate(cls, "dangerous", "instantiated as a class but it is a function");
      return new ObjClass(cls, args);
    }
    this.finding("danger", "pickle-computed-class", "the pickle instantiates a class it computed (not a named global)");
    return new ObjClass(cls, args);
  }

  /** A global used as the target of BUILD, SETITEM(S) or APPEND(S): the pickle changes it in place. */
  private mutateGlobal(g: PyGlobal, items: PValue[]): void {
    this.escalate(g, "dangerous", "the pickle modifies this global object in place");
    if (g.info.resolved !== "copyreg._inverted_registry") return;
    for (let i = 0; i + 1 < items.length; i += 2) {
      const code = items[i];
      const target = items[i + 1];
      if (
        typeof code === "number" &&
        target instanceof TupleClass &&
        typeof target.items[0] === "string" &&
        typeof target.items[1] === "string"
      ) {
        this.extensions.set(code, [target.items[0], target.items[1]]);
      }
    }
  }

  /** copyreg.add_extension(module, name, code) is dangerous; remember what EXT codes then resolve to. */
  private recordExtension(func: PyGlobal, args: PValue): void {
    if (func.info.resolved !== "copyreg.add_extension" || !(args instanceof TupleClass)) return;
    const [module, name, code] = args.items;
    if (typeof module === "string" && typeof name === "string" && typeof code === "number") this.extensions.set(code, [module, name]);
  }

  private ext(code: number): void {
    const registered = this.extensions.get(code);
    if (registered) {
      this.finding(
        "danger",
        "pickle-extension-code",
        `extension code ${code} was registered by the pickle for ${registered[0]}.${registered[1]}`,
      );
      this.push(this.makeGlobal(registered[0], registered[1]));
      return;
    }
    const g = new GlobalClass("copyreg", `_extension_registry[${code}]`, {
      kind: "dangerous",
      resolved: `copyreg._extension_registry[${code}]`,
      reason: "an extension code resolves to whatever the loading process registered (copyreg.add_extension)",
    });
    this.record(g.name, "dangerous");
    this.finding("danger", "pickle-extension-code", `EXT opcode with code ${code}: ${g.info.reason}`);
    this.push(g);
  }

  /** Safe globals whose result the scanner needs to model (tensors, array wrappers). */
  private emulate(func: PyGlobal, args: PValue): PValue {
    if (!(args instanceof TupleClass)) return new ObjClass(func, args);
    switch (func.info.resolved) {
      case "torch._utils._rebuild_tensor":
      case "torch._utils._rebuild_tensor_v2":
      case "torch._utils._rebuild_tensor_v3":
        return this.rebuildTensor(args);
      case "torch._utils._rebuild_parameter":
      case "torch._utils._rebuild_parameter_with_state": {
        const data = args.items[0];
        return data instanceof TensorClass ? data : new ObjClass(func, args);
      }
    }
    return new ObjClass(func, args);
  }

  /** Judged globals that a pickle stores without calling: harmless, except the ones any later call makes dangerous. */
  private judgeUncalled(): void {
    for (const [name, g] of this.judgedSeen) {
      if (!this.judgedCalls.has(name) && DANGEROUS_AS_VALUE.has(g.info.resolved)) {
        this.escalate(g, "dangerous", "stored by the pickle; whatever later calls it can reach any attribute or file");
      }
    }
  }

  private inst(cls: PyGlobal): void {
    this.push(this.call(cls, this.tuple(this.popMarkItems())));
  }

  private stackGlobal(): void {
    const name = this.pop();
    const mod = this.pop();
    if (typeof mod === "string" && typeof name === "string") return this.push(this.makeGlobal(mod, name));
    if (!isMaybeString(mod) || !isMaybeString(name)) throw new Halt("corrupt", "STACK_GLOBAL requires str");
    this.unresolvedGlobals++;
    const m = typeof mod === "string" ? mod : mod instanceof LongStrClass ? `${mod.head}…` : "?";
    const nm = typeof name === "string" ? name : name instanceof LongStrClass ? `${name.head}…` : "?";
    const g = new GlobalClass(m.slice(0, 200), nm.slice(0, 200), {
      kind: "dangerous",
      resolved: `${m}.${nm}`,
      reason: "the name cannot be read (too long or computed), so it cannot be judged",
    });
    this.record(g.name, "dangerous");
    this.finding(
      "danger",
      "unresolved-global",
      `STACK_GLOBAL operands are not plain strings (${m.slice(0, 80)} / ${nm.slice(0, 80)}); the import cannot be judged`,
    );
    this.push(g);
  }

  private build(): void {
    const state = this.pop();
    const inst = this.top();
    if (inst instanceof GlobalClass) return this.mutateGlobal(inst, []);
    if (inst instanceof PartialClass) {
      // partial.__setstate__((func, args, kwds, dict)) replaces the wrapped function
      if (state instanceof TupleClass) inst.wrapped = state.items[0] ?? UNKNOWN;
      return;
    }
    if (!(inst instanceof ObjClass)) return;
    inst.state = state;
    if (state instanceof DictClass && inst.cls instanceof GlobalClass && inst.cls.info.resolved === "joblib.numpy_pickle.NumpyArrayWrapper")
      this.joblibArray(state);
  }

  private persistent(pid: PValue): void {
    this.persistentIds++;
    if (pid instanceof TupleClass && pid.items[0] === "storage" && pid.items[1] instanceof GlobalClass) {
      const key = pid.items[2];
      if (typeof key === "string" && this.storages.size < 1_000_000) this.storages.set(key, pid.items[1].name);
    }
    this.push(new PersistentClass(pid));
  }

  private rebuildTensor(args: PyTuple): PValue {
    const storage = args.items[0];
    let dtype = "unknown";
    if (storage instanceof PersistentClass && storage.pid instanceof TupleClass) {
      const type = storage.pid.items[1];
      if (type instanceof GlobalClass) {
        const short = type.name.slice(type.name.lastIndexOf(".") + 1);
        dtype = STORAGE_ELEMENT[short]?.[0] ?? short;
      }
    }
    const shape = intItems(args.items[2]);
    const numel = shape ? shape.reduce((a, b) => a * b, 1) : 0;
    const t = new TensorClass(dtype, shape, numel);
    this.tensorCount++;
    this.parameterCount += numel;
    if (this.tensors.length < TENSOR_CAP) this.tensors.push(t);
    return t;
  }

  private onStop(value: PValue): void {
    const saved = this.nested.pop();
    if (saved) {
      // end of a nested pickle (joblib object array): resume the outer one
      this.stack = saved.stack;
      this.marks = saved.marks;
      this.fence = this.marks.length ? this.marks[this.marks.length - 1]! : 0;
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
      if (index > 0) this.finding("info", "concatenated-pickle", "the file holds more than one pickle; all were scanned");
      return;
    }
    if (index === 3) this.topLevel = value;
    if (index === 4) this.legacyStorageKeys(value);
  }

  private legacyStorageKeys(value: PValue): void {
    const keys = value instanceof ListClass && value.items.length === value.total ? value.items : null;
    if (!keys || !keys.every((k): k is string => typeof k === "string")) {
      throw new Halt("unsupported", "legacy PyTorch storage key list not understood; stopped after the pickles");
    }
    this.legacyKeys = keys;
    this.legacyIdx = 0;
    this.state = S_LEGACY_NUMEL;
  }

  private joblibArray(state: PyDict): void {
    const shape = intItems(state.get("shape"));
    const item = numpyItemSize(state.get("dtype"));
    const arr = new ObjClass(new GlobalClass("numpy", "ndarray", describeGlobal("numpy", "ndarray")), new TupleClass([]));
    if (item === "object") {
      this.joblibArrays++;
      if (this.nested.length >= 16) throw new Halt("limit", "joblib object arrays nested too deeply");
      this.nested.push({ stack: this.stack, marks: this.marks, memo: this.memo, after: arr });
      this.stack = [];
      this.marks = [];
      this.fence = 0;
      this.memo = new Memo();
      return;
    }
    if (!shape || item === null) throw new Halt("unsupported", "cannot size a joblib array (unknown shape or dtype); stopped");
    const nbytes = shape.reduce((a, b2) => a * b2, 1) * item;
    if (!Number.isSafeInteger(nbytes) || nbytes < 0) throw new Halt("corrupt", "joblib array size is absurd");
    this.joblibArrays++;
    this.stack[this.stack.length - 1] = arr;
    this.pendingArray = nbytes;
    if (typeof state.get("numpy_array_alignment_bytes") === "number") this.state = S_JOBLIB_PAD;
    else this.startSkip(nbytes, "joblib array data", S_OP);
  }

  // ---- the opcode tables ------------------------------------------------------------------------

  // stack, calls and instantiation
  static {
    const x = PickleWalker.EXEC0;
    const on = (op: number, fn: Exec0) => (x[op] = fn);
    on(OP.MARK, (w) => w.mark());
    on(OP.STOP, (w) => w.onStop(w.pop()));
    on(OP.POP, (w) => {
      if (w.stack.length > w.fence) w.stack.pop();
      else w.stack.length = w.popMark();
    });
    on(OP.POP_MARK, (w) => void (w.stack.length = w.popMark()));
    on(OP.DUP, (w) => w.push(w.top()));
    on(OP.NONE, (w) => w.push(null));
    on(OP.NEWTRUE, (w) => w.push(true));
    on(OP.NEWFALSE, (w) => w.push(false));
    on(OP.BINPERSID, (w) => w.persistent(w.pop()));
    on(OP.REDUCE, (w) => {
      const args = w.pop();
      w.push(w.call(w.pop(), args));
    });
    on(OP.NEWOBJ, (w) => {
      const args = w.pop();
      w.push(w.instantiate(w.pop(), args));
    });
    on(OP.NEWOBJ_EX, (w) => {
      w.pop();
      const args = w.pop();
      w.push(w.instantiate(w.pop(), args));
    });
    on(OP.OBJ, (w) => {
      const items = w.popMarkItems();
      if (items.length === 0) throw new Halt("corrupt", "OBJ without a class");
      w.push(w.call(items[0]!, w.tuple(items.slice(1))));
    });
  }

  // containers, memo and object construction
  static {
    const x = PickleWalker.EXEC0;
    const on = (op: number, fn: Exec0) => (x[op] = fn);
    on(OP.STACK_GLOBAL, (w) => w.stackGlobal());
    on(OP.MEMOIZE, (w) => w.put(w.memo.size));
    on(OP.BUILD, (w) => w.build());
    on(OP.EMPTY_LIST, (w) => w.push(new ListClass()));
    on(OP.EMPTY_DICT, (w) => w.push(new DictClass()));
    on(OP.EMPTY_TUPLE, (w) => w.push(new TupleClass([])));
    on(OP.EMPTY_SET, (w) => w.push(new ListClass("set")));
    on(OP.APPEND, (w) => {
      const v = w.pop();
      w.appendOne(w.top(), v);
    });
    const appends = (w: PickleWalker) => {
      const start = w.markBelowTarget();
      w.appendItems(w.stack[start - 1]!, start, w.stack.length);
      w.stack.length = start;
    };
    on(OP.APPENDS, appends);
    on(OP.ADDITEMS, appends);
    on(OP.SETITEM, (w) => {
      const v = w.pop();
      const k = w.pop();
      w.setOne(w.top(), k, v);
    });
    on(OP.SETITEMS, (w) => {
      const start = w.markBelowTarget();
      w.setItems(w.stack[start - 1]!, start, w.stack.length);
      w.stack.length = start;
    });
    on(OP.DICT, (w) => {
      const start = w.popMark();
      const d = new DictClass();
      w.setItems(d, start, w.stack.length);
      w.stack.length = start;
      w.push(d);
    });
    on(OP.LIST, (w) => {
      const l = new ListClass();
      for (const it of w.popMarkItems()) w.listAdd(l, it);
      w.push(l);
    });
    on(OP.FROZENSET, (w) => {
      const l = new ListClass("frozenset");
      for (const it of w.popMarkItems()) w.listAdd(l, it);
      w.push(l);
    });
    on(OP.TUPLE, (w) => w.push(w.tuple(w.popMarkItems())));
    on(OP.TUPLE1, (w) => w.push(new TupleClass([w.pop()])));
    on(OP.TUPLE2, (w) => {
      const b = w.pop();
      w.push(w.tuple([w.pop(), b]));
    });
    on(OP.TUPLE3, (w) => {
      const c = w.pop();
      const b = w.pop();
      w.push(new TupleClass([w.pop(), b, c]));
    });
  }

  // buffers and fixed-size arguments
  static {
    const on = (op: number, fn: Exec0) => (PickleWalker.EXEC0[op] = fn);
    on(OP.NEXT_BUFFER, (w) => {
      w.finding(
        "warning",
        "out-of-band-buffer",
        "pickle expects out-of-band buffers (NEXT_BUFFER); it cannot be loaded from this file alone",
      );
      w.push(new BytesClass(0));
    });
    on(OP.READONLY_BUFFER, (w) => void w.top());

    const f = PickleWalker.EXEC_FIXED;
    f[OP.BININT] = (w, b, o) => w.push(b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24));
    f[OP.BININT1] = (w, b, o) => w.push(b[o]!);
    f[OP.BININT2] = (w, b, o) => w.push(b[o]! | (b[o + 1]! << 8));
    f[OP.BINFLOAT] = (w, b, o) => {
      for (let i = 0; i < 8; i++) F64_BYTES[7 - i] = b[o + i]!;
      w.push(F64[0]!);
    };
    f[OP.BINGET] = (w, b, o) => w.get(b[o]!);
    f[OP.LONG_BINGET] = (w, b, o) => w.get(readU32(b, o));
    f[OP.BINPUT] = (w, b, o) => w.put(b[o]!);
    f[OP.LONG_BINPUT] = (w, b, o) => w.put(readU32(b, o));
    f[OP.PROTO] = (w, b, o) => {
      const proto = b[o]!;
      if (proto > 5) throw new Halt("corrupt", `unsupported pickle protocol ${proto}`);
      if (w.protocol === null) w.protocol = proto;
    };
    f[OP.EXT1] = (w, b, o) => w.ext(b[o]!);
    f[OP.EXT2] = (w, b, o) => w.ext(b[o]! | (b[o + 1]! << 8));
    f[OP.EXT4] = (w, b, o) => w.ext(readU32(b, o));
    f[OP.FRAME] = (w, b, o) => {
      // Python would refuse an overrunning frame up front; we keep walking so the globals before the
      // cut are still reported, and the truncation shows up when the bytes run out.
      if (readU64(b, o) > w.limit - w.offset) w.frameOverrun = true;
    };
  }
}

/** Turns the UTF-8 text of a latin-1 string back into its bytes (code points below 256), across chunk edges. */
function latin1FromUtf8(sink: NestedSink): NestedSink {
  let lead = -1;
  return {
    write(b: Uint8Array) {
      const out = new Uint8Array(b.length);
      let n = 0;
      for (let i = 0; i < b.length; i++) {
        const c = b[i]!;
        if (lead >= 0) {
          out[n++] = ((lead & 0x1f) << 6) | (c & 0x3f);
          lead = -1;
        } else if (c < 0x80) out[n++] = c;
        else lead = c;
      }
      sink.write(out.subarray(0, n));
    },
    end: () => sink.end(),
  };
}

function holdsCallable(t: PyTuple): boolean {
  const items = t.items;
  for (let i = 0; i < items.length; i++) if (items[i] instanceof GlobalClass || items[i] instanceof PartialClass) return true;
  return false;
}

function isMaybeString(v: PValue): boolean {
  return typeof v === "string" || v instanceof LongStrClass || v === UNKNOWN;
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
    return SIGNED_LEN_OPS.has(op) && v >= 0x80000000 ? -1 : v;
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
    const map: Record<string, string> = {
      "\\": "\\",
      "'": "'",
      '"': '"',
      a: "\x07",
      b: "\b",
      f: "\f",
      n: "\n",
      r: "\r",
      t: "\t",
      v: "\v",
      "\n": "",
    };
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
