import { u64le } from "../feeder";
import { DTYPE_BYTES } from "../formats/safetensors";
import { asString, isObject, MAX_HEADER_BYTES, MAX_INDEX_BYTES, MAX_TOTAL_HEADER_BYTES, resolveRelative, type VersionFiles } from "./files";

/**
 * Safetensors headers and shard indexes, read through ranged reads only: 8 bytes of header length
 * (little-endian), then the JSON header; tensor data is never read. An index
 * (`*.safetensors.index.json`, or `pytorch_model.bin.index.json`) must name only shards that are
 * present, and every tensor it places in a shard must be in that shard's header.
 */

const LISTED = 64;

export interface SafetensorsHeader {
  tensors: Map<string, { dtype: string; shape: number[] }>;
  parameterCount: number;
  dataBytes: number;
  dtypes: Record<string, number>;
  metadata: Record<string, string>;
}

/** Reads and checks one file's header; null (with a problem) when it cannot be trusted. */
export async function readSafetensorsHeader(v: VersionFiles, path: string): Promise<SafetensorsHeader | null> {
  const f = v.get(path);
  if (!f) return null;
  if (f.size < 8) {
    v.problem("invalid", "too short for a safetensors file", path);
    return null;
  }
  const head = await v.read(path, 0, 8);
  if (!head || head.length < 8) return null;
  const len = u64le(head, 0);
  if (len < 2 || len > MAX_HEADER_BYTES || 8 + len > f.size) {
    v.problem("invalid", `header length ${len} is absurd for a file of ${f.size} bytes (limit ${MAX_HEADER_BYTES})`, path);
    return null;
  }
  if (v.headerBytesRead + len > MAX_TOTAL_HEADER_BYTES) {
    v.problem("warning", `not read: the version's safetensors headers exceed ${MAX_TOTAL_HEADER_BYTES} bytes in all`, path);
    return null;
  }
  v.headerBytesRead += len;
  const raw = await v.read(path, 8, 8 + len);
  if (!raw || raw.length < len) return null;
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(raw));
  } catch (e) {
    v.problem("invalid", `header is not JSON: ${(e as Error).message.slice(0, 120)}`, path);
    return null;
  }
  if (!isObject(header)) {
    v.problem("invalid", "header is not a JSON object", path);
    return null;
  }
  const out: SafetensorsHeader = { tensors: new Map(), parameterCount: 0, dataBytes: f.size - 8 - len, dtypes: {}, metadata: {} };
  for (const [name, entry] of Object.entries(header)) {
    if (name === "__metadata__") {
      if (isObject(entry))
        for (const [k, val] of Object.entries(entry).slice(0, 64)) out.metadata[k.slice(0, 128)] = String(val).slice(0, 256);
      continue;
    }
    const problem = tensorProblem(entry, out.dataBytes);
    if (problem) {
      v.problem("invalid", `tensor ${name.slice(0, 120)}: ${problem}`, path);
      return null;
    }
    const e = entry as { dtype: string; shape: number[] };
    const numel = e.shape.reduce((a, n) => a * n, 1);
    out.tensors.set(name, { dtype: e.dtype, shape: e.shape });
    out.parameterCount += numel;
    out.dtypes[e.dtype] = (out.dtypes[e.dtype] ?? 0) + numel;
  }
  return out;
}

function tensorProblem(entry: unknown, dataBytes: number): string | null {
  if (!isObject(entry)) return "entry is not an object";
  const { dtype, shape, data_offsets: offsets } = entry;
  if (typeof dtype !== "string" || DTYPE_BYTES[dtype] === undefined) return `unknown dtype ${String(dtype).slice(0, 20)}`;
  if (!Array.isArray(shape) || shape.length > 16 || !shape.every((n) => Number.isSafeInteger(n) && n >= 0))
    return "shape is not a list of sizes";
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((n) => Number.isSafeInteger(n) && n >= 0))
    return "data_offsets is not [begin, end]";
  const [begin, end] = offsets as [number, number];
  const numel = (shape as number[]).reduce((a, n) => a * n, 1);
  if (end < begin || end > dataBytes) return `data_offsets [${begin}, ${end}] fall outside the ${dataBytes} data bytes`;
  if (Math.ceil(numel * DTYPE_BYTES[dtype]!) !== end - begin)
    return `shape ${JSON.stringify(shape)} of ${dtype} needs ${Math.ceil(numel * DTYPE_BYTES[dtype]!)} bytes, not ${end - begin}`;
  return null;
}

export interface ShardSet {
  index: string;
  shards: string[];
  tensorCount: number;
  parameterCount: number | null;
  totalSize: number | null;
  dtypes: Record<string, number>;
  missing: string[];
}

/** Checks an index against its shards (present, and holding the tensors it names). */
export async function checkShardIndex(v: VersionFiles, indexPath: string): Promise<ShardSet | null> {
  const index = await v.json(indexPath, "invalid", MAX_INDEX_BYTES);
  if (index === null) return null;
  if (!isObject(index) || !isObject(index.weight_map)) {
    v.problem("invalid", "the index has no weight_map", indexPath);
    return null;
  }
  const byShard = new Map<string, string[]>();
  for (const [tensor, shard] of Object.entries(index.weight_map)) {
    const name = asString(shard, 1024);
    const resolved = name === null ? null : resolveRelative(indexPath, name);
    if (resolved === null) {
      v.problem(
        "invalid",
        `weight_map places ${tensor.slice(0, 120)} in ${String(shard).slice(0, 120)}, which is not a file of this version`,
        indexPath,
      );
      continue;
    }
    const list = byShard.get(resolved) ?? [];
    list.push(tensor);
    byShard.set(resolved, list);
  }
  const meta = isObject(index.metadata) ? index.metadata : {};
  const set: ShardSet = {
    index: v.shown(indexPath),
    shards: [...byShard.keys()].map((s) => v.shown(s)),
    tensorCount: Object.keys(index.weight_map).length,
    parameterCount: null,
    totalSize: typeof meta.total_size === "number" ? meta.total_size : null,
    dtypes: {},
    missing: [],
  };
  const safetensors = indexPath.endsWith(".safetensors.index.json");
  let params = 0;
  let dataBytes = 0;
  let allRead = true;
  for (const [shard, tensors] of byShard) {
    if (!v.has(shard)) {
      set.missing.push(v.shown(shard));
      v.problem("invalid", `the index names shard ${v.shown(shard)} (${tensors.length} tensors), which is missing`, indexPath);
      allRead = false;
      continue;
    }
    if (!safetensors) continue;
    const header = await readSafetensorsHeader(v, shard);
    if (!header) {
      allRead = false;
      continue;
    }
    const absent = tensors.filter((t) => !header.tensors.has(t));
    if (absent.length)
      v.problem(
        "invalid",
        `the index places ${absent.length} tensor(s) in this shard that it does not contain: ${absent.slice(0, 5).join(", ").slice(0, 300)}`,
        shard,
      );
    const mapped = new Set(tensors);
    const extra = [...header.tensors.keys()].filter((t) => !mapped.has(t));
    if (extra.length)
      v.problem(
        "warning",
        `${extra.length} tensor(s) in this shard are not in the index (loaders ignore them): ${extra.slice(0, 5).join(", ").slice(0, 300)}`,
        shard,
      );
    params += header.parameterCount;
    dataBytes += header.dataBytes;
    for (const [k, n] of Object.entries(header.dtypes)) set.dtypes[k] = (set.dtypes[k] ?? 0) + n;
  }
  if (safetensors && allRead) {
    set.parameterCount = params;
    if (set.totalSize !== null && set.totalSize !== dataBytes)
      v.problem("warning", `metadata.total_size says ${set.totalSize} bytes, the shards hold ${dataBytes} bytes of tensors`, indexPath);
  }
  return set;
}

/** A short summary of one header for details. */
export function describeHeader(h: SafetensorsHeader): Record<string, unknown> {
  return {
    tensorCount: h.tensors.size,
    parameterCount: h.parameterCount,
    dtypes: h.dtypes,
    tensors: [...h.tensors].slice(0, LISTED).map(([name, t]) => ({ name, dtype: t.dtype, shape: t.shape })),
    ...(Object.keys(h.metadata).length ? { metadata: h.metadata } : {}),
  };
}
