import type { GlobalClass } from "./globals";

/** Emulated Python values: only what the scanner needs to resolve names and read metadata. */
export type PValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | PyList
  | PyTuple
  | PyDict
  | PyGlobal
  | PyObj
  | PyBytes
  | PyLongStr
  | PyPersistent
  | PyTensor
  | PyPartial
  | PyUnknown;

export class PyUnknown {
  readonly t = "unknown";
}
export const UNKNOWN = new PyUnknown();

const NO_ITEMS: PValue[] = [];

/** Containers keep their items only while the walker's retention budget lasts (arrays are made on first use). */
export class PyList {
  items: PValue[] = NO_ITEMS;
  total = 0;
  /** A stand-in the walker memoizes once too many containers were retained; it ignores additions. */
  opaque = false;
  constructor(readonly kind: "list" | "set" | "frozenset" = "list") {}
  add(v: PValue): void {
    if (this.items === NO_ITEMS) this.items = [];
    this.items.push(v);
  }
}

export class PyTuple {
  constructor(
    readonly items: PValue[],
    readonly total: number = items.length,
  ) {}
}

export class PyDict {
  keys: PValue[] = NO_ITEMS;
  vals: PValue[] = NO_ITEMS;
  total = 0;
  opaque = false;
  set(k: PValue, v: PValue): void {
    if (this.keys === NO_ITEMS) {
      this.keys = [];
      this.vals = [];
    }
    this.keys.push(k);
    this.vals.push(v);
  }
  get(key: string): PValue | undefined {
    for (let i = this.keys.length - 1; i >= 0; i--) if (this.keys[i] === key) return this.vals[i];
    return undefined;
  }
}

/** A global the unpickler would import: `name` is "module.qualname" exactly as the pickle names it. */
export class PyGlobal {
  readonly name: string;
  constructor(
    readonly module: string,
    readonly qualname: string,
    readonly info: GlobalClass,
  ) {
    this.name = `${module}.${qualname}`;
  }
}

/** functools.partial(wrapped, ...): judged by what it wraps when it is called. */
export class PyPartial {
  constructor(public wrapped: PValue) {}
}

/** Result of REDUCE / NEWOBJ / INST / OBJ: a call we never perform. */
export class PyObj {
  state: PValue | undefined = undefined;
  dict: PyDict | null = null;
  list: PyList | null = null;
  constructor(
    readonly cls: PValue,
    readonly args: PValue,
  ) {}
}

export class PyBytes {
  /** Set when the payload itself was inspected as a file (torch.storage._load_from_bytes). */
  nested: "safe" | "suspicious" | "dangerous" | "invalid" | null = null;
  constructor(readonly len: number) {}
}

/** A string longer than the capture cap: only its head is kept. */
export class PyLongStr {
  /** Set when the text was inspected as a file (protocol 2 bytes, `_codecs.encode(text, "latin1")`, handed to a loader). */
  nested = false;
  constructor(
    readonly head: string,
    readonly len: number,
  ) {}
}

export class PyPersistent {
  constructor(readonly pid: PValue) {}
}

export class PyTensor {
  name: string | null = null;
  constructor(
    readonly dtype: string,
    readonly shape: number[] | null,
    readonly numel: number,
  ) {}
}

export function className(v: PValue | undefined): string | null {
  if (v instanceof PyObj) return v.cls instanceof PyGlobal ? v.cls.name : null;
  if (v instanceof PyDict) return "builtins.dict";
  if (v instanceof PyList) return `builtins.${v.kind}`;
  if (v instanceof PyTuple) return "builtins.tuple";
  if (v instanceof PyTensor) return "torch.Tensor";
  if (typeof v === "string" || v instanceof PyLongStr) return "builtins.str";
  if (typeof v === "number") return Number.isInteger(v) ? "builtins.int" : "builtins.float";
  if (typeof v === "bigint") return "builtins.int";
  if (v instanceof PyGlobal) return v.name;
  return null;
}

/** Tuple/list items as plain numbers, or null when any item is not an integer. */
export function intItems(v: PValue | undefined): number[] | null {
  const items = v instanceof PyTuple || v instanceof PyList ? v.items : null;
  if (!items) return null;
  if (v instanceof PyTuple && v.total !== items.length) return null;
  const out: number[] = [];
  for (const it of items) {
    if (typeof it === "number" && Number.isInteger(it)) out.push(it);
    else if (typeof it === "bigint") out.push(Number(it));
    else return null;
  }
  return out;
}
