/**
 * The pickle opcode table, named once (CPython's Lib/pickletools.py is the reference): every other
 * file refers to opcodes by name through `OP`, and the walker and the fuzz test both frame opcodes
 * from `ARG_KIND` / `ARG_SIZE`.
 */

export const OP = {
  MARK: 0x28,
  STOP: 0x2e,
  POP: 0x30,
  POP_MARK: 0x31,
  DUP: 0x32,
  FLOAT: 0x46,
  INT: 0x49,
  BININT: 0x4a,
  BININT1: 0x4b,
  LONG: 0x4c,
  BININT2: 0x4d,
  NONE: 0x4e,
  PERSID: 0x50,
  BINPERSID: 0x51,
  REDUCE: 0x52,
  STRING: 0x53,
  BINSTRING: 0x54,
  SHORT_BINSTRING: 0x55,
  UNICODE: 0x56,
  BINUNICODE: 0x58,
  APPEND: 0x61,
  BUILD: 0x62,
  GLOBAL: 0x63,
  DICT: 0x64,
  EMPTY_DICT: 0x7d,
  APPENDS: 0x65,
  GET: 0x67,
  BINGET: 0x68,
  INST: 0x69,
  LONG_BINGET: 0x6a,
  LIST: 0x6c,
  EMPTY_LIST: 0x5d,
  OBJ: 0x6f,
  PUT: 0x70,
  BINPUT: 0x71,
  LONG_BINPUT: 0x72,
  SETITEM: 0x73,
  TUPLE: 0x74,
  EMPTY_TUPLE: 0x29,
  SETITEMS: 0x75,
  BINFLOAT: 0x47,
  PROTO: 0x80,
  NEWOBJ: 0x81,
  EXT1: 0x82,
  EXT2: 0x83,
  EXT4: 0x84,
  TUPLE1: 0x85,
  TUPLE2: 0x86,
  TUPLE3: 0x87,
  NEWTRUE: 0x88,
  NEWFALSE: 0x89,
  LONG1: 0x8a,
  LONG4: 0x8b,
  BINBYTES: 0x42,
  SHORT_BINBYTES: 0x43,
  SHORT_BINUNICODE: 0x8c,
  BINUNICODE8: 0x8d,
  BINBYTES8: 0x8e,
  EMPTY_SET: 0x8f,
  ADDITEMS: 0x90,
  FROZENSET: 0x91,
  NEWOBJ_EX: 0x92,
  STACK_GLOBAL: 0x93,
  MEMOIZE: 0x94,
  FRAME: 0x95,
  BYTEARRAY8: 0x96,
  NEXT_BUFFER: 0x97,
  READONLY_BUFFER: 0x98,
} as const;

export type OpName = keyof typeof OP;

/** How an opcode's argument is framed in the byte stream. */
export const ArgKind = {
  /** no argument */
  NONE: 0,
  /** a fixed number of bytes (ARG_SIZE) */
  FIXED: 1,
  /** a little-endian length of ARG_SIZE bytes, then that many bytes */
  LEN: 2,
  /** one newline-terminated line */
  LINE: 3,
  /** two newline-terminated lines (module, then name) */
  LINE2: 4,
  /** not an opcode */
  BAD: 5,
} as const;

const ARGS: Record<OpName, [number, number]> = {
  MARK: [ArgKind.NONE, 0],
  STOP: [ArgKind.NONE, 0],
  POP: [ArgKind.NONE, 0],
  POP_MARK: [ArgKind.NONE, 0],
  DUP: [ArgKind.NONE, 0],
  FLOAT: [ArgKind.LINE, 0],
  INT: [ArgKind.LINE, 0],
  BININT: [ArgKind.FIXED, 4],
  BININT1: [ArgKind.FIXED, 1],
  LONG: [ArgKind.LINE, 0],
  BININT2: [ArgKind.FIXED, 2],
  NONE: [ArgKind.NONE, 0],
  PERSID: [ArgKind.LINE, 0],
  BINPERSID: [ArgKind.NONE, 0],
  REDUCE: [ArgKind.NONE, 0],
  STRING: [ArgKind.LINE, 0],
  BINSTRING: [ArgKind.LEN, 4],
  SHORT_BINSTRING: [ArgKind.LEN, 1],
  UNICODE: [ArgKind.LINE, 0],
  BINUNICODE: [ArgKind.LEN, 4],
  APPEND: [ArgKind.NONE, 0],
  BUILD: [ArgKind.NONE, 0],
  GLOBAL: [ArgKind.LINE2, 0],
  DICT: [ArgKind.NONE, 0],
  EMPTY_DICT: [ArgKind.NONE, 0],
  APPENDS: [ArgKind.NONE, 0],
  GET: [ArgKind.LINE, 0],
  BINGET: [ArgKind.FIXED, 1],
  INST: [ArgKind.LINE2, 0],
  LONG_BINGET: [ArgKind.FIXED, 4],
  LIST: [ArgKind.NONE, 0],
  EMPTY_LIST: [ArgKind.NONE, 0],
  OBJ: [ArgKind.NONE, 0],
  PUT: [ArgKind.LINE, 0],
  BINPUT: [ArgKind.FIXED, 1],
  LONG_BINPUT: [ArgKind.FIXED, 4],
  SETITEM: [ArgKind.NONE, 0],
  TUPLE: [ArgKind.NONE, 0],
  EMPTY_TUPLE: [ArgKind.NONE, 0],
  SETITEMS: [ArgKind.NONE, 0],
  BINFLOAT: [ArgKind.FIXED, 8],
  PROTO: [ArgKind.FIXED, 1],
  NEWOBJ: [ArgKind.NONE, 0],
  EXT1: [ArgKind.FIXED, 1],
  EXT2: [ArgKind.FIXED, 2],
  EXT4: [ArgKind.FIXED, 4],
  TUPLE1: [ArgKind.NONE, 0],
  TUPLE2: [ArgKind.NONE, 0],
  TUPLE3: [ArgKind.NONE, 0],
  NEWTRUE: [ArgKind.NONE, 0],
  NEWFALSE: [ArgKind.NONE, 0],
  LONG1: [ArgKind.LEN, 1],
  LONG4: [ArgKind.LEN, 4],
  BINBYTES: [ArgKind.LEN, 4],
  SHORT_BINBYTES: [ArgKind.LEN, 1],
  SHORT_BINUNICODE: [ArgKind.LEN, 1],
  BINUNICODE8: [ArgKind.LEN, 8],
  BINBYTES8: [ArgKind.LEN, 8],
  EMPTY_SET: [ArgKind.NONE, 0],
  ADDITEMS: [ArgKind.NONE, 0],
  FROZENSET: [ArgKind.NONE, 0],
  NEWOBJ_EX: [ArgKind.NONE, 0],
  STACK_GLOBAL: [ArgKind.NONE, 0],
  MEMOIZE: [ArgKind.NONE, 0],
  FRAME: [ArgKind.FIXED, 8],
  BYTEARRAY8: [ArgKind.LEN, 8],
  NEXT_BUFFER: [ArgKind.NONE, 0],
  READONLY_BUFFER: [ArgKind.NONE, 0],
};

/** Argument framing by opcode byte (ArgKind.BAD for bytes that are not opcodes). */
export const ARG_KIND = new Uint8Array(256).fill(ArgKind.BAD);
/** Argument size in bytes for FIXED, or the size of the length prefix for LEN. */
export const ARG_SIZE = new Uint8Array(256);
/** Opcode names by byte, for messages. */
export const OP_NAME: Array<string | undefined> = new Array(256);

for (const [name, code] of Object.entries(OP) as Array<[OpName, number]>) {
  const [kind, size] = ARGS[name];
  ARG_KIND[code] = kind;
  ARG_SIZE[code] = size;
  OP_NAME[code] = name;
}

/** Opcodes whose argument is text (decoded and kept as a Python str). */
export const TEXT_OPS: ReadonlySet<number> = new Set([
  OP.BINUNICODE,
  OP.SHORT_BINUNICODE,
  OP.BINUNICODE8,
  OP.BINSTRING,
  OP.SHORT_BINSTRING,
]);
/** Opcodes whose length prefix is signed (a negative length is corrupt). */
export const SIGNED_LEN_OPS: ReadonlySet<number> = new Set([OP.BINSTRING, OP.LONG4]);
