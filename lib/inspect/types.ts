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

export interface InspectorOptions {
  fileName: string;
  size?: number;
  readRange?: ReadRange;
}

export interface Inspector {
  write(chunk: Uint8Array): void;
  end(): Promise<InspectionResult>;
}
