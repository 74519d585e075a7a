// Shared by the browser dropzone and the server: keep this file free of Node imports.

/**
 * File extensions a model upload may have (lower-case, no dot): what ML tools write. The content
 * decides what a file is (lib/inspect identifies it by its bytes, and refuses images, documents,
 * executables and media for what they are); names outside this list are refused at drop because an
 * object key needs a known extension. Clear non-models (.png, .pdf, .docx, .exe, .mp4 …) are never here.
 */
export const ALLOWED_EXTENSIONS = [
  "pkl",
  "pickle",
  "sav",
  "joblib",
  "h5",
  "hdf5",
  "keras",
  "pt",
  "pth",
  "ckpt",
  "bin",
  "npy",
  "npz",
  "xgb",
  "ubj",
  "bst",
  "model",
  "lgb",
  "lgbm",
  "txt",
  "json",
  "safetensors",
  "onnx",
  "gguf",
  "tflite",
  "pb",
  "mlmodel",
  "mar",
  "zip",
  "tar",
  "7z",
] as const;

export type AllowedExtension = (typeof ALLOWED_EXTENSIONS)[number];

const ALLOWED = new Set<string>(ALLOWED_EXTENSIONS);

export function isAllowedExtension(ext: string): ext is AllowedExtension {
  return ALLOWED.has(ext);
}

/** The content type we store each extension under. Model formats are opaque bytes to a browser. */
export const CONTENT_TYPE_BY_EXTENSION: Record<AllowedExtension, string> = Object.fromEntries(
  ALLOWED_EXTENSIONS.map((ext) => [ext, ext === "json" ? "application/json" : "application/octet-stream"]),
) as Record<AllowedExtension, string>;

/** The content type for an object key or file name, from its extension. */
export function contentTypeFor(name: string): string {
  const ext = name.slice(name.lastIndexOf(".") + 1).toLowerCase();
  return isAllowedExtension(ext) ? CONTENT_TYPE_BY_EXTENSION[ext] : "application/octet-stream";
}

/**
 * react-dropzone's `accept`: MIME type -> extensions. Browsers report "" or a guess for .pkl/.pt,
 * so the extension list is what actually matches; the server checks the extension again.
 */
export const ACCEPTED_FILE_TYPES: Record<string, string[]> = {
  "application/octet-stream": ALLOWED_EXTENSIONS.filter((e) => e !== "json").map((e) => `.${e}`),
  "application/json": [".json"],
};

/** Default upload cap (5 GiB); the server's MAX_UPLOAD_BYTES overrides it. */
export const DEFAULT_MAX_UPLOAD_BYTES = 5 * 1024 ** 3;

/** Chunk size for resumable (tus) uploads: Supabase Storage requires exactly 6 MiB. */
export const RESUMABLE_CHUNK_BYTES = 6 * 1024 * 1024;

/** Above this size uploads go through the resumable endpoint instead of one request. */
export const RESUMABLE_THRESHOLD_BYTES = RESUMABLE_CHUNK_BYTES;

/**
 * Chunk size of resumable uploads to our own tus endpoint (local modes). Each PATCH costs a request
 * through Next and @tus/server; measured with 1 GiB: 6 MiB chunks 157 MB/s, 32 MiB 321 MB/s. A
 * browser slices the File without copying, so a bigger chunk costs no memory — only up to 32 MiB of
 * re-sending after a dropped connection.
 */
export const LOCAL_RESUMABLE_CHUNK_BYTES = 32 * 1024 * 1024;

/**
 * Chunk size of resumable uploads to our own tus endpoint in supabase mode: six of Storage's 6 MiB
 * chunks. The endpoint forwards each PATCH as consecutive 6 MiB PATCHes to Storage
 * (lib/http/tus-supabase-store.ts), so our per-request work (caller, lease, look-up) is paid once per
 * 36 MiB instead of once per 6 MiB. A multiple of 6 MiB keeps Storage's chunks whole.
 */
export const SUPABASE_APP_RESUMABLE_CHUNK_BYTES = 6 * RESUMABLE_CHUNK_BYTES;
