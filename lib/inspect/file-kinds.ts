import type { ModelFormat } from "./types";

// Binary model formats are served as octet-stream on purpose: a browser must never render them.
const CONTENT_TYPES: Record<ModelFormat, string> = {
  pickle: "application/x-python-pickle",
  joblib: "application/x-python-pickle",
  "pytorch-zip": "application/zip",
  "pytorch-legacy": "application/octet-stream",
  "hdf5-keras": "application/x-hdf5",
  hdf5: "application/x-hdf5",
  "xgboost-binary": "application/octet-stream",
  "xgboost-json": "application/json",
  "xgboost-ubj": "application/ubjson",
  "lightgbm-text": "text/plain; charset=utf-8",
  safetensors: "application/octet-stream",
  onnx: "application/onnx",
  gguf: "application/octet-stream",
  "llm-config-json": "application/json",
  "timeseries-config-json": "application/json",
  numpy: "application/octet-stream",
  tflite: "application/octet-stream",
  coreml: "application/octet-stream",
  "tf-savedmodel": "application/octet-stream",
  "tf-graphdef": "application/octet-stream",
  archive: "application/octet-stream",
  unknown: "application/octet-stream",
};

const PICKLE_LIKE: ModelFormat[] = ["pickle", "joblib", "pytorch-zip", "pytorch-legacy"];
const JSON_LIKE: ModelFormat[] = ["xgboost-json", "llm-config-json", "timeseries-config-json"];

/** Formats an extension may legitimately hold; extensions not listed here never count as a mismatch. */
const EXTENSIONS: Record<string, ModelFormat[]> = {
  pkl: PICKLE_LIKE,
  pickle: PICKLE_LIKE,
  p: PICKLE_LIKE,
  pck: PICKLE_LIKE,
  pcl: PICKLE_LIKE,
  sav: PICKLE_LIKE,
  joblib: PICKLE_LIKE,
  jbl: PICKLE_LIKE,
  dill: PICKLE_LIKE,
  pt: PICKLE_LIKE,
  pth: PICKLE_LIKE,
  ckpt: PICKLE_LIKE,
  bin: [...PICKLE_LIKE, "xgboost-binary", "gguf", "safetensors", "numpy", "onnx"],
  h5: ["hdf5-keras", "hdf5"],
  hdf5: ["hdf5-keras", "hdf5"],
  hdf: ["hdf5-keras", "hdf5"],
  he5: ["hdf5-keras", "hdf5"],
  keras: ["hdf5-keras"],
  xgb: ["xgboost-binary", "xgboost-json", "xgboost-ubj"],
  bst: ["xgboost-binary"],
  deprecated: ["xgboost-binary"],
  model: ["xgboost-binary", "xgboost-json", "xgboost-ubj", "lightgbm-text"],
  ubj: ["xgboost-ubj"],
  json: JSON_LIKE,
  lgb: ["lightgbm-text"],
  lgbm: ["lightgbm-text"],
  txt: ["lightgbm-text"],
  safetensors: ["safetensors"],
  onnx: ["onnx"],
  gguf: ["gguf"],
  npy: ["numpy", "pickle"],
  npz: ["numpy", "pickle"],
  tflite: ["tflite"],
  mlmodel: ["coreml"],
  pb: ["tf-savedmodel", "tf-graphdef"],
  mar: ["pytorch-zip"],
};

export function contentTypeOf(format: ModelFormat): string {
  return CONTENT_TYPES[format];
}

function extensionOf(fileName: string): string {
  const base = fileName.slice(Math.max(fileName.lastIndexOf("/"), fileName.lastIndexOf("\\")) + 1);
  const dot = base.lastIndexOf(".");
  return dot > 0 ? base.slice(dot + 1).toLowerCase() : "";
}

/** True when the name promises a different kind of file than the content is; unknown extensions never mismatch. */
export function isExtensionMismatch(fileName: string, format: ModelFormat, recognisedOther: boolean): boolean {
  const allowed = EXTENSIONS[extensionOf(fileName)];
  if (!allowed) return false;
  if (format === "unknown") return recognisedOther;
  return !allowed.includes(format);
}
