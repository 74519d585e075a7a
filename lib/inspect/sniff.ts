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
  | "tflite"
  | "coreml"
  | "tf-savedmodel"
  | "tf-graphdef"
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
  /** "other" content that is certainly not a model: what it is ("a PNG image"). */
  notModel?: string;
  /** "other" content recognised as a model format we do not read (legacy GGML): never refused for its name. */
  model?: boolean;
}

/** Bytes the inspector collects before choosing a parser (it decides earlier at end of input). */
export const SNIFF_BYTES = 4096;

const HDF5_SIG = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];

/** A signature: bytes (or Latin-1 text) at an offset. */
type Sig = [number[] | string, number];

/**
 * Content that is certainly not a model, with what it is. Signatures only where a model file cannot
 * start that way (a pickle, zip, HDF5, protobuf … never does); both the browser and the server use it.
 */
const NOT_MODELS: Array<{ sigs: Sig[]; what: string; contentType: string }> = [
  { sigs: [[[0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 0]], what: "a PNG image", contentType: "image/png" },
  { sigs: [[[0xff, 0xd8, 0xff], 0]], what: "a JPEG image", contentType: "image/jpeg" },
  { sigs: [["GIF87a", 0]], what: "a GIF image", contentType: "image/gif" },
  { sigs: [["GIF89a", 0]], what: "a GIF image", contentType: "image/gif" },
  {
    sigs: [
      ["RIFF", 0],
      ["WEBP", 8],
    ],
    what: "a WebP image",
    contentType: "image/webp",
  },
  {
    sigs: [
      ["RIFF", 0],
      ["WAVE", 8],
    ],
    what: "a WAV audio file",
    contentType: "audio/wav",
  },
  {
    sigs: [
      ["RIFF", 0],
      ["AVI ", 8],
    ],
    what: "an AVI video",
    contentType: "video/x-msvideo",
  },
  { sigs: [[[0x49, 0x49, 0x2a, 0x00], 0]], what: "a TIFF image", contentType: "image/tiff" },
  { sigs: [[[0x4d, 0x4d, 0x00, 0x2a], 0]], what: "a TIFF image", contentType: "image/tiff" },
  { sigs: [["ftypheic", 4]], what: "a HEIC image", contentType: "image/heic" },
  { sigs: [["ftypavif", 4]], what: "an AVIF image", contentType: "image/avif" },
  { sigs: [["ftypqt  ", 4]], what: "a QuickTime video", contentType: "video/quicktime" },
  { sigs: [["ftypM4A ", 4]], what: "an M4A audio file", contentType: "audio/mp4" },
  { sigs: [["ftyp", 4]], what: "an MP4 video", contentType: "video/mp4" },
  { sigs: [[[0x1a, 0x45, 0xdf, 0xa3], 0]], what: "a Matroska or WebM video", contentType: "video/webm" },
  { sigs: [["OggS", 0]], what: "an Ogg audio or video file", contentType: "audio/ogg" },
  { sigs: [["fLaC", 0]], what: "a FLAC audio file", contentType: "audio/flac" },
  { sigs: [["ID3", 0]], what: "an MP3 audio file", contentType: "audio/mpeg" },
  {
    sigs: [
      ["FORM", 0],
      ["AIFF", 8],
    ],
    what: "an AIFF audio file",
    contentType: "audio/aiff",
  },
  { sigs: [["MThd", 0]], what: "a MIDI file", contentType: "audio/midi" },
  { sigs: [["FLV\u0001", 0]], what: "a Flash video", contentType: "video/x-flv" },
  { sigs: [[[0x00, 0x00, 0x01, 0xba], 0]], what: "an MPEG video", contentType: "video/mpeg" },
  { sigs: [["%PDF-", 0]], what: "a PDF document", contentType: "application/pdf" },
  { sigs: [["{\\rtf", 0]], what: "an RTF document", contentType: "application/rtf" },
  {
    sigs: [[[0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1], 0]],
    what: "a Microsoft Office 97–2003 document",
    contentType: "application/x-ole-storage",
  },
  { sigs: [[[0x7f, 0x45, 0x4c, 0x46], 0]], what: "a Linux executable (ELF)", contentType: "application/x-executable" },
  { sigs: [[[0xfe, 0xed, 0xfa, 0xce], 0]], what: "a macOS executable (Mach-O)", contentType: "application/x-mach-binary" },
  { sigs: [[[0xfe, 0xed, 0xfa, 0xcf], 0]], what: "a macOS executable (Mach-O)", contentType: "application/x-mach-binary" },
  { sigs: [[[0xce, 0xfa, 0xed, 0xfe], 0]], what: "a macOS executable (Mach-O)", contentType: "application/x-mach-binary" },
  { sigs: [[[0xcf, 0xfa, 0xed, 0xfe], 0]], what: "a macOS executable (Mach-O)", contentType: "application/x-mach-binary" },
  { sigs: [[[0xca, 0xfe, 0xba, 0xbe], 0]], what: "a Mach-O universal binary or Java class file", contentType: "application/octet-stream" },
  { sigs: [["PK\u0005\u0006", 0]], what: "an empty zip archive", contentType: "application/zip" },
];

/** Recognised content that is not a format we read: unknown to the inspector, but never refused for what it is. */
const OTHER: Array<[number[] | string, number, string, string]> = [
  ["#!", 0, "script", "text/x-shellscript"],
  ["GGML", 0, "legacy GGML model", "application/octet-stream"],
  ["GGJT", 0, "legacy GGJT model", "application/octet-stream"],
  ["lmgg", 0, "legacy GGML model", "application/octet-stream"],
  ["<?xml", 0, "XML document", "application/xml"],
];

/** Zip-based documents, told apart by the first member (Office writes [Content_Types].xml first, ODF and EPUB a stored mimetype). */
export function zipDocument(firstName: string, mimetype: string | null): string | null {
  if (firstName === "[Content_Types].xml") return "a Microsoft Office document (Word, Excel or PowerPoint)";
  if (firstName !== "mimetype" || mimetype === null) return null;
  if (mimetype.startsWith("application/vnd.oasis.opendocument")) return "an OpenDocument file (LibreOffice)";
  if (mimetype === "application/epub+zip") return "an EPUB e-book";
  return null;
}

/** The first member of a zip's first local header, and the start of its data when it is stored uncompressed. */
function firstZipMember(b: Uint8Array): { name: string; stored: string | null } | null {
  if (b.length < 30) return null;
  const nameLen = b[26]! | (b[27]! << 8);
  const extraLen = b[28]! | (b[29]! << 8);
  if (b.length < 30 + nameLen) return null;
  const name = ascii(b, 30, 30 + nameLen);
  const method = b[8]! | (b[9]! << 8);
  const size = u32le(b, 18);
  const at = 30 + nameLen + extraLen;
  const stored = method === 0 && size <= 128 && b.length >= at + size ? ascii(b, at, at + size) : null;
  return { name, stored };
}

/** An HTML page (or SVG image): markup that only a browser renders. */
function markup(b: Uint8Array): string | null {
  const head = ascii(b, firstNonSpace(b), Math.min(b.length, 512)).toLowerCase();
  if (/^<!doctype html|^<html[\s>]|^<head[\s>]|^<body[\s>]/.test(head)) return "an HTML page";
  if (/^<svg[\s>]/.test(head) || (head.startsWith("<?xml") && /<svg[\s>]/.test(head))) return "an SVG image";
  return null;
}

/** A Windows executable: "MZ", then the PE header the DOS header points to. */
function portableExecutable(b: Uint8Array): boolean {
  if (!startsWith(b, "MZ") || b.length < 64) return false;
  const pe = u32le(b, 0x3c);
  return pe >= 64 && pe + 4 <= b.length && startsWith(b, "PE\u0000\u0000", pe);
}

/** What the content is when it is certainly not a model (see NOT_MODELS), or null. */
export function notAModel(b: Uint8Array): { what: string; contentType: string } | null {
  for (const n of NOT_MODELS) if (n.sigs.every(([sig, at]) => startsWith(b, sig, at))) return { what: n.what, contentType: n.contentType };
  if (portableExecutable(b)) return { what: "a Windows executable", contentType: "application/vnd.microsoft.portable-executable" };
  const page = markup(b);
  if (page) return { what: page, contentType: page.includes("SVG") ? "image/svg+xml" : "text/html" };
  return null;
}

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
    // producer_name, producer_version, domain are text; a nested message (Core ML, SavedModel) starts with a tag byte
    if (field >= 2 && field <= 4 && tag[1] < b.length) {
      const len = readVarintAt(b, tag[1]);
      if (len && len[0] > 0 && len[1] < b.length && b[len[1]]! < 0x20) return false;
    }
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

/** Top-level protobuf fields of `b` (as far as the head holds them): [field, wire, payload start, payload length or varint value]. */
function protoFields(b: Uint8Array, max: number): Array<[number, number, number, number]> | null {
  const out: Array<[number, number, number, number]> = [];
  let p = 0;
  while (p < b.length && out.length < max) {
    const tag = readVarintAt(b, p);
    if (!tag || tag[0] < 8) return tag ? null : out;
    const field = Math.floor(tag[0] / 8);
    const wire = tag[0] & 7;
    const v = wire === 0 || wire === 2 ? readVarintAt(b, tag[1]) : null;
    if (wire === 0) {
      if (!v) return out;
      out.push([field, wire, tag[1], v[0]]);
      p = v[1];
    } else if (wire === 2) {
      if (!v) return out;
      out.push([field, wire, v[1], v[0]]);
      p = v[1] + v[0];
    } else if (wire === 1 || wire === 5) {
      out.push([field, wire, tag[1], 0]);
      p = tag[1] + (wire === 1 ? 8 : 4);
    } else return null;
  }
  return out;
}

/** Core ML Model types (Model.proto's oneof Type) and what they are called. */
export const COREML_TYPES: Record<number, string> = {
  200: "pipelineClassifier",
  201: "pipelineRegressor",
  202: "pipeline",
  300: "glmRegressor",
  301: "supportVectorRegressor",
  302: "treeEnsembleRegressor",
  303: "neuralNetworkRegressor",
  304: "bayesianProbitRegressor",
  400: "glmClassifier",
  401: "supportVectorClassifier",
  402: "treeEnsembleClassifier",
  403: "neuralNetworkClassifier",
  404: "kNearestNeighborsClassifier",
  500: "neuralNetwork",
  501: "itemSimilarityRecommender",
  502: "mlProgram",
  555: "customModel",
  556: "linkedModel",
  560: "classConfidenceThresholding",
  600: "oneHotEncoder",
  601: "imputer",
  602: "featureVectorizer",
  603: "dictVectorizer",
  604: "scaler",
  606: "categoricalMapping",
  607: "normalizer",
  609: "arrayFeatureExtractor",
  610: "nonMaximumSuppression",
  900: "identity",
  2000: "textClassifier",
  2001: "wordTagger",
  2002: "visionFeaturePrint",
  2003: "soundAnalysisPreprocessing",
  2004: "gazetteer",
  2005: "wordEmbedding",
  2006: "audioFeaturePrint",
  3000: "serializedModel",
};

/** Core ML: specificationVersion (field 1), a description (2), then one of the model types (fields 200 and up). */
function looksLikeCoreml(b: Uint8Array): boolean {
  if (b[0] !== 0x08) return false;
  const fields = protoFields(b, 6);
  if (!fields || fields.length < 2) return false;
  const [first] = fields;
  if (first![0] !== 1 || first![3] < 1 || first![3] > 64) return false;
  for (const [field, wire] of fields.slice(1)) {
    if (COREML_TYPES[field] !== undefined) return wire === 2;
    if (!((field === 2 && wire === 2) || (field === 10 && wire === 0))) return false;
  }
  return false;
}

/** TensorFlow SavedModel: saved_model_schema_version 1, then a MetaGraphDef that opens with meta_info_def or graph_def. */
function looksLikeSavedModel(b: Uint8Array): boolean {
  if (b[0] !== 0x08 || b[1] !== 0x01 || b[2] !== 0x12) return false;
  const len = readVarintAt(b, 3);
  if (!len || len[0] < 2 || len[1] + 2 > b.length) return false;
  const inner = b[len[1]]!;
  return inner === 0x0a || inner === 0x12;
}

/** A frozen TensorFlow GraphDef: it opens with a NodeDef whose name and op are names (op like "Placeholder", "Const"). */
function looksLikeGraphDef(b: Uint8Array): boolean {
  if (b[0] !== 0x0a) return false;
  const node = readVarintAt(b, 1);
  if (!node || node[0] < 4) return false;
  const fields = protoFields(b.subarray(node[1], Math.min(b.length, node[1] + node[0])), 2);
  if (!fields || fields.length < 2) return false;
  const [[f1, w1, s1, l1], [f2, w2, s2, l2]] = fields as [[number, number, number, number], [number, number, number, number]];
  if (f1 !== 1 || w1 !== 2 || f2 !== 2 || w2 !== 2 || l1 < 1 || l1 > 1024 || l2 < 1 || l2 > 128) return false;
  const base = node[1];
  const name = ascii(b, base + s1, base + s1 + l1);
  const op = ascii(b, base + s2, base + s2 + l2);
  return /^[A-Za-z0-9_.\/>-]+$/.test(name) && /^[A-Z][A-Za-z0-9_]*$/.test(op);
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
  if (startsWith(b, "TFL3", 4)) return { kind: "tflite" };
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
  const not = notAModel(b);
  if (not) return { kind: "other", label: not.what.replace(/^an? /, ""), contentType: not.contentType, notModel: not.what };
  for (const [sig, at, label, contentType] of OTHER) {
    if (startsWith(b, sig, at)) return { kind: "other", label, contentType, ...(label.includes("model") ? { model: true } : {}) };
  }
  if (looksLikeSavedModel(b)) return { kind: "tf-savedmodel" };
  if (looksLikeCoreml(b)) return { kind: "coreml" };
  if (looksLikeGraphDef(b)) return { kind: "tf-graphdef" };
  if (looksLikeOnnx(b)) return { kind: "onnx" };
  if (looksLikeTextPickle(b, complete)) return { kind: "pickle" };
  if (u32le(b, 0) === 0 && b.length >= 4) return { kind: "other", label: "binary data" };
  const text = b.subarray(0, 512).every((c) => c === 9 || c === 10 || c === 13 || (c >= 0x20 && c !== 0x7f));
  return text ? { kind: "other", label: "text", contentType: "text/plain" } : { kind: "other", label: "binary data" };
}

/** Extensions that promise one family of formats: unidentified content under such a name is refused, not stored as unknown. */
const PICKLE_FAMILY: SniffKind[] = ["pickle", "zip", "tar", "7z", "compressed"];
const DECLARED: Record<string, { means: string; kinds: SniffKind[] }> = {
  pt: { means: "a PyTorch checkpoint (a zip or a pickle)", kinds: PICKLE_FAMILY },
  pth: { means: "a PyTorch checkpoint (a zip or a pickle)", kinds: PICKLE_FAMILY },
  ckpt: { means: "a PyTorch checkpoint (a zip or a pickle)", kinds: PICKLE_FAMILY },
  pkl: { means: "a pickle", kinds: PICKLE_FAMILY },
  pickle: { means: "a pickle", kinds: PICKLE_FAMILY },
  joblib: { means: "a joblib dump", kinds: PICKLE_FAMILY },
  jbl: { means: "a joblib dump", kinds: PICKLE_FAMILY },
  sav: { means: "a pickle", kinds: PICKLE_FAMILY },
  dill: { means: "a pickle", kinds: PICKLE_FAMILY },
  safetensors: { means: "a safetensors file", kinds: ["safetensors"] },
  gguf: { means: "a GGUF model", kinds: ["gguf"] },
  onnx: { means: "an ONNX model", kinds: ["onnx"] },
  h5: { means: "an HDF5 (Keras) file", kinds: ["hdf5"] },
  hdf5: { means: "an HDF5 file", kinds: ["hdf5"] },
  keras: { means: "a Keras model", kinds: ["hdf5", "zip"] },
  npy: { means: "a NumPy array", kinds: ["npy"] },
  npz: { means: "a NumPy .npz archive", kinds: ["zip"] },
  tflite: { means: "a TensorFlow Lite model", kinds: ["tflite"] },
  xgb: { means: "an XGBoost model", kinds: ["xgboost-binary", "json", "ubjson"] },
  ubj: { means: "an XGBoost UBJSON model", kinds: ["ubjson"] },
  lgb: { means: "a LightGBM text model", kinds: ["lightgbm"] },
  json: { means: "a JSON document", kinds: ["json"] },
  zip: { means: "a zip archive", kinds: ["zip"] },
  mar: { means: "a TorchServe archive (zip)", kinds: ["zip"] },
  tar: { means: "a tar archive", kinds: ["tar"] },
  "7z": { means: "a 7z archive", kinds: ["7z"] },
  gz: { means: "a gzip file", kinds: ["compressed"] },
  tgz: { means: "a gzip file", kinds: ["compressed"] },
  bz2: { means: "a bzip2 file", kinds: ["compressed"] },
  xz: { means: "an xz file", kinds: ["compressed"] },
  lzma: { means: "an lzma file", kinds: ["compressed"] },
  lz4: { means: "an lz4 file", kinds: ["compressed"] },
};

/** Extensions that promise a format: unidentified content under them is refused (see refusalFor). */
export const DECLARED_EXTENSIONS: readonly string[] = Object.keys(DECLARED);

/** The lower-case extension of a file name ("" when it has none). */
export function extensionOf(fileName: string): string {
  const base = fileName.slice(Math.max(fileName.lastIndexOf("/"), fileName.lastIndexOf("\\")) + 1);
  const dot = base.lastIndexOf(".");
  return dot > 0 ? base.slice(dot + 1).toLowerCase() : "";
}

/** A reason to refuse the file from what its first bytes are. */
export interface Refusal {
  /** What the content is, e.g. "a PNG image". */
  what: string;
  /** One sentence for the person who chose the file. */
  message: string;
}

/**
 * The refusal the sniffed content makes certain, whatever follows it: a file that is clearly not a
 * model (an image, a document, an executable, media, an empty file, a zstd stream no loader opens),
 * or unidentified content under a name that promises a specific format (random bytes named .pt).
 * Content under generic names (.bin, .pb, .mlmodel, .model, none) is never refused here: it is
 * stored as "unknown format" with the scanner's judgement. Used by sniffFile and by the server.
 */
export function refusalFor(fileName: string, s: Sniff): Refusal | null {
  if (s.kind === "empty") return { what: "an empty file", message: "The file is empty." };
  if (s.kind === "compressed" && s.compression === "zstd")
    return { what: "a zstd-compressed file", message: "This is a zstd-compressed file: no model loader opens it. Decompress it first." };
  if (s.kind !== "other" || s.model) return null;
  if (s.notModel) return { what: s.notModel, message: `This is ${s.notModel}, not a model file.` };
  const ext = extensionOf(fileName);
  const declared = DECLARED[ext];
  if (!declared) return null;
  const seen =
    s.label === "text" || s.label === "script" || s.label === "XML document" ? `plain text (${s.label})` : "unrecognised binary data";
  return {
    what: `${seen}`,
    message: `The name says .${ext}, ${declared.means}, but the content is not: it is ${seen}. Check that the export finished and that this is the right file.`,
  };
}

/** What the first bytes say a model file is, in words. */
function describeModel(s: Sniff, head: Uint8Array): string {
  switch (s.kind) {
    case "pickle":
      return "a pickle (scikit-learn, joblib or a legacy PyTorch file)";
    case "zip": {
      const first = firstZipMember(head)?.name ?? "";
      if (/(^|\/)data\.pkl$/.test(first)) return "a PyTorch checkpoint (zip)";
      if (first.endsWith(".npy")) return "a NumPy .npz archive";
      if (first.startsWith("MAR-INF/")) return "a TorchServe archive";
      return "a zip archive (PyTorch, Keras, NumPy, TorchServe or plain)";
    }
    case "tar":
      return "a tar archive";
    case "7z":
      return "a 7z archive";
    case "npy":
      return "a NumPy array";
    case "hdf5":
      return "an HDF5 file (Keras)";
    case "gguf":
      return "a GGUF model";
    case "xgboost-binary":
      return "an XGBoost binary model";
    case "safetensors":
      return "a safetensors file";
    case "ubjson":
      return "a UBJSON document (XGBoost)";
    case "json":
      return "a JSON document (model or configuration)";
    case "lightgbm":
      return "a LightGBM text model";
    case "onnx":
      return "an ONNX model";
    case "tflite":
      return "a TensorFlow Lite model";
    case "coreml":
      return "a Core ML model";
    case "tf-savedmodel":
      return "a TensorFlow SavedModel";
    case "tf-graphdef":
      return "a TensorFlow GraphDef";
    case "compressed":
      return `a ${s.label ?? "compressed stream"} (opened and inspected on upload)`;
    default:
      return s.label ?? "unknown content";
  }
}

/** The formats a first-bytes sniff can name. */
export type SniffFormat = Exclude<SniffKind, "empty" | "other">;

/** The answer of sniffFile: a model format, certainly not a model (with what it is), or not known from the first bytes. */
export type SniffVerdict =
  | { kind: "model"; format: SniffFormat; label: string }
  | { kind: "not_a_model"; what: string; message: string }
  | { kind: "unknown"; label?: string };

/** How many first bytes a caller should pass to sniffFile (more are ignored). */
export const SNIFF_HEAD_BYTES = 64 * 1024;

/**
 * Browser-safe (Uint8Array only): judges a file from its name and first bytes before any byte is
 * sent. `head` is the start of the file (up to SNIFF_HEAD_BYTES; the decision reads the first
 * SNIFF_BYTES, exactly what the server's early verdict reads); `size` is the whole file's size when
 * known. "not_a_model" is certain: the server refuses the same file (and its streaming inspector
 * says so after the first chunk). "model" and "unknown" are not promises: the server reads the rest.
 */
export function sniffFile(fileName: string, head: Uint8Array, size?: number): SniffVerdict {
  const b = head.subarray(0, SNIFF_BYTES);
  const complete = size !== undefined && size <= SNIFF_BYTES && head.length >= size;
  if (size === 0) return { kind: "not_a_model", what: "an empty file", message: "The file is empty." };
  if (b.length === 0) return { kind: "unknown" };
  const s = sniff(b, complete);
  if (s.kind === "zip") {
    const first = firstZipMember(b);
    const doc = first ? zipDocument(first.name, first.stored) : null;
    if (doc) return { kind: "not_a_model", what: doc, message: `This is ${doc}, not a model file.` };
  }
  const refusal = refusalFor(fileName, s);
  if (refusal) return { kind: "not_a_model", ...refusal };
  if (s.kind === "other" || s.kind === "empty") return { kind: "unknown", ...(s.label ? { label: s.label } : {}) };
  return { kind: "model", format: s.kind, label: describeModel(s, b) };
}
