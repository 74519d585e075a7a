export type ModelFormat =
  | "pickle"
  | "joblib"
  | "pytorch-zip"
  | "pytorch-legacy"
  | "hdf5-keras"
  | "hdf5"
  | "xgboost-binary"
  | "xgboost-json"
  | "xgboost-ubj"
  | "lightgbm-text"
  | "safetensors"
  | "onnx"
  | "gguf"
  | "llm-config-json"
  | "timeseries-config-json"
  | "numpy"
  | "tflite"
  | "coreml"
  | "tf-savedmodel"
  | "tf-graphdef"
  | "archive"
  | "unknown";

export type Framework =
  | "scikit-learn"
  | "xgboost"
  | "lightgbm"
  | "pytorch"
  | "tensorflow-keras"
  | "tensorflow"
  | "tensorflow-lite"
  | "coreml"
  | "numpy"
  | "onnx"
  | "statsmodels"
  | "prophet"
  | "llm"
  | "none";

/** `invalid` = the manifest's "n/a": empty, truncated, corrupt, or not a model at all. */
export type ScanVerdict = "safe" | "suspicious" | "dangerous" | "invalid";

export interface GlobalRef {
  /** "module.qualname" exactly as the pickle names it. */
  name: string;
  verdict: "safe" | "suspicious" | "dangerous";
}

export interface Finding {
  severity: "info" | "warning" | "danger" | "error";
  code: string;
  message: string;
  location?: string;
}

export interface InspectionResult {
  format: ModelFormat;
  framework: Framework;
  verdict: ScanVerdict;
  globals: GlobalRef[];
  findings: Finding[];
  /** JSON-serialisable and bounded in size (arrays and strings are capped). */
  metadata: Record<string, unknown>;
  extensionMismatch: boolean;
  contentType: string;
}

/** Random access to a stored file: bytes [start, end) — `end` is exclusive; a short read means EOF. */
export type ReadRange = (start: number, end: number) => Promise<Uint8Array>;

/**
 * A refusal the first bytes make certain: the content is clearly not a model (an image, a document,
 * an executable, media, an empty file), or it is unidentified and the file's name promises a format
 * it is not (random bytes named .pt). The same answer sniffFile gives in the browser.
 */
export interface EarlyVerdict {
  verdict: "invalid";
  code: "not-a-model";
  /** What the content is, e.g. "a PNG image". */
  what: string;
  /** One sentence for the uploader, e.g. "This is a PNG image, not a model file." */
  message: string;
}

export interface InspectorOptions {
  fileName: string;
  size?: number;
  readRange?: ReadRange;
  /** Called once, from inside write(), as soon as the first bytes make a refusal certain (see Inspector.early). */
  onEarlyVerdict?: (verdict: EarlyVerdict) => void;
}

export interface Inspector {
  write(chunk: Uint8Array): void;
  end(): Promise<InspectionResult>;
  /**
   * Poll after each write(): null while the upload may go on; an EarlyVerdict once the first bytes
   * (SNIFF_BYTES = 4 KiB, or the whole file when it is smaller and `size` was given) make a refusal
   * certain — then abort the upload with a 422 instead of reading the rest. The refusal is final:
   * end() on the same bytes answers "invalid" too, except for a file that hides a zip archive at its
   * end behind a non-model start (a PNG/zip polyglot), which end() calls dangerous; refusing it early
   * keeps it out all the same.
   */
  early(): EarlyVerdict | null;
}
