import { u32le, u64le } from "./feeder";
import { OP } from "./pickle/opcodes";
import { PickleWalker } from "./pickle/walker";
import { ascii } from "./handler";

export type SniffKind =
  | "empty"
  | "pickle"
  | "zip"
  | "tar"
  | "7z"
  | "npy"
  | "hdf5"
  | "gguf"
  | "xgboost-binary"
  | "safetensors"
  | "ubjson"
  | "json"
  | "lightgbm"
  | "onnx"
  | "compressed"
  | "other";

export interface Sniff {
  kind: SniffKind;
  /** Human description for "other"/"compressed" (e.g. "PNG image"). */
  label?: string;
  contentType?: string;
  /** Offset of the HDF5 superblock (user block before it). */
  offset?: number;
  compression?: "zlib" | "gzip" | "bzip2" | "xz" | "lzma" | "lz4" | "zstd";
}

/** Bytes the inspector collects before choosing a parser (it decides earlier at end of input). */
export const SNIFF_BYTES = 4096;

const HDF5_SIG = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];

const OTHER: Array<[number[] | string, number, string, string]> = [
  [[0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 0, "PNG image", "image/png"],
  [[0xff, 0xd8, 0xff], 0, "JPEG image", "image/jpeg"],
  ["GIF8", 0, "GIF image", "image/gif"],
  ["%PDF", 0, "PDF document", "application/pdf"],
  [[0x7f, 0x45, 0x4c, 0x46], 0, "ELF executable", "application/x-executable"],
  ["MZ", 0, "Windows executable", "application/vnd.microsoft.portable-executable"],
  ["#!", 0, "script", "text/x-shellscript"],
  ["PK\u0005\u0006", 0, "empty zip archive", "application/zip"],
  ["GGML", 0, "legacy GGML model", "application/octet-stream"],
  ["GGJT", 0, "legacy GGJT model", "application/octet-stream"],
  ["TFL3", 4, "TensorFlow Lite flatbuffer", "application/octet-stream"],
  ["RIFF", 0, "RIFF media", "application/octet-stream"],
  ["<?xml", 0, "XML document", "application/xml"],
  ["<!DOCTYPE", 0, "HTML document", "text/html"],
  ["<html", 0, "HTML document", "text/html"],
];

function startsWith(b: Uint8Array, sig: number[] | string, at = 0): boolean {
  const bytes = typeof sig === "string" ? Array.from(sig, (c) => c.charCodeAt(0)) : sig;
  if (b.length < at + bytes.length) return false;
  return bytes.every((v, i) => b[at + i] === v);
}

function firstNonSpace(b: Uint8Array): number {
  let i = b.length >= 3 && b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf ? 3 : 0;
  while (i < b.length && (b[i] === 0x20 || b[i] === 0x0a || b[i] === 0x0d || b[i] === 0x09)) i++;
  return i;
}

/** XGBoost < 1.0 binary models have no "binf" magic: recognise the objective name after the param block. */
function looksLikeXgboostLegacy(b: Uint8Array, paramAt: number): boolean {
  const at = paramAt + 136;
  if (b.length < at + 12) return false;
  const len = u64le(b, at);
  if (len < 5 || len > 64 || b.length < at + 8 + len) return false;
  return /^(binary|reg|multi|rank|count|survival):[a-z_]+$/.test(ascii(b, at + 8, at + 8 + len));
}

const ONNX_FIELDS: Record<number, number> = { 1: 0, 2: 2, 3: 2, 4: 2, 5: 0, 6: 2, 7: 2, 8: 2, 14: 2, 20: 2, 25: 2 };

function readVarintAt(b: Uint8Array, p: number): [number, number] | null {
  let v = 0;
  let mul = 1;
  for (let i = 0; i < 10 && p + i < b.length; i++) {
    const x = b[p + i]!;
    v += (x & 0x7f) * mul;
    mul *= 128;
    if ((x & 0x80) === 0) return [v, p + i + 1];
  }
  return null;
}

/** A protobuf ModelProto starts with ir_version (field 1) and continues with known ModelProto fields. */
function looksLikeOnnx(b: Uint8Array): boolean {
  if (b[0] !== 0x08) return false;
  const ir = readVarintAt(b, 1);
  if (!ir || ir[0] < 1 || ir[0] > 64) return false;
  let p = ir[1];
  let fields = 0;
  while (p < b.length && fields < 4) {
    const tag = readVarintAt(b, p);
    if (!tag) return fields > 0;
    const field = Math.floor(tag[0] / 8);
    const wire = tag[0] & 7;
    if (ONNX_FIELDS[field] !== wire) return false;
    p = tag[1];
    if (wire === 0) {
      const v = readVarintAt(b, p);
      if (!v) return true;
      p = v[1];
    } else {
      const len = readVarintAt(b, p);
      if (!len) return true;
      p = len[1] + len[0];
    }
    fields++;
  }
  return fields > 0 || p >= b.length;
}

function looksLikeTextPickle(b: Uint8Array, complete: boolean): boolean {
  // Protocol 0/1 pickles have no magic: accept the head if a walk neither fails nor needs MARKs it never saw.
  const first = b[0]!;
  if (!"(]})cNISVLFKJMXUTGPildt".includes(String.fromCharCode(first))) return false;
  const w = new PickleWalker();
  w.write(b);
  if (complete) w.end();
  const h = w.halt;
  if (h === null) return w.pickles > 0 || w.globals.size > 0 || b.length >= 64;
  return h.kind === "truncated" && (w.globals.size > 0 || w.offset > 16);
}

/** A tar header: what Python's tarfile accepts (the checksum decides, with or without the ustar magic). */
export function looksLikeTar(b: Uint8Array): boolean {
  if (b.length < 512 || b[0] === 0) return false;
  const field = ascii(b, 148, 156).replace(/\0.*$/, "").trim();
  if (!/^[0-7]{1,8}$/.test(field)) return false;
  const stored = parseInt(field, 8);
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < 512; i++) {
    const v = i >= 148 && i < 156 ? 0x20 : b[i]!;
    unsigned += v;
    signed += v > 127 ? v - 256 : v;
  }
  return stored === unsigned || stored === signed;
}

/** Detects the file type from its first bytes (never from the name). */
export function sniff(b: Uint8Array, complete: boolean): Sniff {
  if (b.length === 0) return { kind: "empty" };
  if (startsWith(b, [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59])) return { kind: "npy" };
  if (startsWith(b, [0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c])) return { kind: "7z" };
  for (const at of [0, 512, 1024, 2048]) {
    if (startsWith(b, HDF5_SIG, at)) return { kind: "hdf5", offset: at };
  }
  if (startsWith(b, "PK\u0003\u0004")) return { kind: "zip" };
  if (startsWith(b, "GGUF")) return { kind: "gguf" };
  if (startsWith(b, "binf") || looksLikeXgboostLegacy(b, 0)) return { kind: "xgboost-binary" };
  // u64 header length then '{': any length below 2^56 has a NUL byte, which JSON text never has.
  // Checked before pickle: a header length such as 0x380 also starts with 0x80 0x03.
  if (
    b.length >= 10 &&
    b[8] === 0x7b &&
    (b[9] === 0x22 || b[9] === 0x7d || b[9] === 0x20) &&
    b.subarray(0, 8).includes(0) &&
    u64le(b, 0) >= 2
  ) {
    return { kind: "safetensors" };
  }
  if (b[0] === OP.PROTO && b.length > 1 && b[1]! <= 5) return { kind: "pickle" };
  if (b[0] === 0x7b && b.length > 1 && "iUIlL$#".includes(String.fromCharCode(b[1]!))) return { kind: "ubjson" };
  const i = firstNonSpace(b);
  if (i < b.length && (b[i] === 0x7b || b[i] === 0x5b)) return { kind: "json" };
  if (startsWith(b, "tree\n") || startsWith(b, "tree\r\n")) return { kind: "lightgbm" };
  if (startsWith(b, [0x1f, 0x8b])) return { kind: "compressed", compression: "gzip", label: "gzip stream" };
  if (b.length >= 2 && b[0] === 0x78 && (b[0]! * 256 + b[1]!) % 31 === 0 && (b[1]! & 0x20) === 0) {
    return { kind: "compressed", compression: "zlib", label: "zlib stream" };
  }
  if (startsWith(b, "BZh")) return { kind: "compressed", compression: "bzip2", label: "bzip2 stream" };
  if (startsWith(b, [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00])) return { kind: "compressed", compression: "xz", label: "xz stream" };
  if (startsWith(b, [0x04, 0x22, 0x4d, 0x18])) return { kind: "compressed", compression: "lz4", label: "lz4 frame" };
  if (startsWith(b, [0x28, 0xb5, 0x2f, 0xfd])) return { kind: "compressed", compression: "zstd", label: "zstd frame" };
  // joblib's own test for an .lzma (alone) stream: properties 0x5d, then a dictionary size whose low byte is 0
  if (startsWith(b, [0x5d, 0x00, 0x00])) return { kind: "compressed", compression: "lzma", label: "lzma stream" };
  if (looksLikeTar(b)) return { kind: "tar", label: "tar archive", contentType: "application/x-tar" };
  for (const [sig, at, label, contentType] of OTHER) {
    if (startsWith(b, sig, at)) return { kind: "other", label, contentType };
  }
  if (looksLikeOnnx(b)) return { kind: "onnx" };
  if (looksLikeTextPickle(b, complete)) return { kind: "pickle" };
  if (u32le(b, 0) === 0 && b.length >= 4) return { kind: "other", label: "binary data" };
  const text = b.subarray(0, 512).every((c) => c === 9 || c === 10 || c === 13 || (c >= 0x20 && c !== 0x7f));
  return text ? { kind: "other", label: "text", contentType: "text/plain" } : { kind: "other", label: "binary data" };
}
