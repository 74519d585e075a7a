// Small model folders built in memory for tests: real formats (safetensors written byte for byte as
// the format defines it), small enough to upload in milliseconds.
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { Readable } from "node:stream";
import yauzl from "yauzl";
import { readTarEntries, readTarEntryData } from "@/lib/archive/tar";

export interface FolderFile {
  path: string;
  data: Buffer;
}

export const sha256 = (b: Buffer) => crypto.createHash("sha256").update(b).digest("hex");

/** A safetensors file: 8-byte little-endian header length, the JSON header, then the raw tensors. */
export function safetensors(tensors: Record<string, { shape: number[]; fill?: number }>): Buffer {
  const header: Record<string, unknown> = { __metadata__: { format: "pt" } };
  const parts: Buffer[] = [];
  let offset = 0;
  for (const [name, t] of Object.entries(tensors)) {
    const bytes = t.shape.reduce((a, b) => a * b, 1) * 4;
    const data = Buffer.alloc(bytes);
    for (let i = 0; i < bytes / 4; i++) data.writeFloatLE(((t.fill ?? 1) * (i + 1)) / 1000, i * 4);
    header[name] = { dtype: "F32", shape: t.shape, data_offsets: [offset, offset + bytes] };
    parts.push(data);
    offset += bytes;
  }
  let json = Buffer.from(JSON.stringify(header));
  // The header is padded with spaces to a multiple of 8 (what the reference writer does).
  json = Buffer.concat([json, Buffer.alloc((8 - (json.length % 8)) % 8, 0x20)]);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  return Buffer.concat([len, json, ...parts]);
}

/** A Hugging Face transformers folder: config, tokenizer, two safetensors shards with their index, a card. */
export function hfFolder(opts: { configNote?: string } = {}): FolderFile[] {
  const shard1 = safetensors({ "embed.weight": { shape: [64, 16] }, "layer.0.weight": { shape: [16, 16] } });
  const shard2 = safetensors({ "layer.1.weight": { shape: [16, 16], fill: 2 }, "head.weight": { shape: [16, 8], fill: 3 } });
  const index = {
    metadata: { total_size: shard1.length + shard2.length },
    weight_map: {
      "embed.weight": "model-00001-of-00002.safetensors",
      "layer.0.weight": "model-00001-of-00002.safetensors",
      "layer.1.weight": "model-00002-of-00002.safetensors",
      "head.weight": "model-00002-of-00002.safetensors",
    },
  };
  const config = {
    architectures: ["TinyForCausalLM"],
    model_type: "tiny",
    hidden_size: 16,
    num_hidden_layers: 2,
    vocab_size: 64,
    torch_dtype: "float32",
    ...(opts.configNote ? { note: opts.configNote } : {}),
  };
  const tokenizer = {
    version: "1.0",
    model: { type: "WordLevel", vocab: Object.fromEntries(Array.from({ length: 64 }, (_, i) => [`t${i}`, i])) },
  };
  const text = (s: string) => Buffer.from(s, "utf8");
  return [
    { path: "config.json", data: text(JSON.stringify(config, null, 2)) },
    { path: "tokenizer.json", data: text(JSON.stringify(tokenizer)) },
    { path: "tokenizer_config.json", data: text(JSON.stringify({ model_max_length: 128 })) },
    { path: "model-00001-of-00002.safetensors", data: shard1 },
    { path: "model-00002-of-00002.safetensors", data: shard2 },
    { path: "model.safetensors.index.json", data: text(JSON.stringify(index, null, 2)) },
    { path: "README.md", data: text("---\nlicense: apache-2.0\n---\n# Tiny model\n\nA **tiny** test model.\n") },
  ];
}

/** A folder of test/fixtures/folders, read into memory. */
export function fixtureFolder(name: string): FolderFile[] {
  const root = path.resolve("test/fixtures/folders", name);
  return (fs.readdirSync(root, { recursive: true }) as string[])
    .filter((f) => fs.statSync(path.join(root, f)).isFile())
    .sort()
    .map((f) => ({ path: f.split(path.sep).join("/"), data: fs.readFileSync(path.join(root, f)) }));
}

/** The commit request's file list for a folder. */
export const announce = (files: FolderFile[]) => files.map((f) => ({ path: f.path, size: f.data.length, sha256: sha256(f.data) }));

export const body = (b: Buffer) => Readable.from([b]);

/** path -> bytes of every file in a zip (yauzl, a reader independent of the writer). */
export async function unzip(file: string): Promise<Map<string, Buffer>> {
  const zip = await yauzl.openPromise(file, { lazyEntries: true });
  const out = new Map<string, Buffer>();
  await new Promise<void>((resolve, reject) => {
    zip.on("error", reject);
    zip.on("end", () => resolve());
    zip.on("entry", (entry: yauzl.Entry) => {
      zip.openReadStreamPromise(entry).then(async (s) => {
        const chunks: Buffer[] = [];
        for await (const c of s) chunks.push(c as Buffer);
        out.set(entry.fileName, Buffer.concat(chunks));
        zip.readEntry();
      }, reject);
    });
    zip.readEntry();
  });
  zip.close();
  return out;
}

/** path -> bytes of every file in a tar. */
export async function untar(file: string): Promise<Map<string, Buffer>> {
  const fh = await fs.promises.open(file, "r");
  const out = new Map<string, Buffer>();
  try {
    for await (const e of readTarEntries(fh)) {
      const chunks: Buffer[] = [];
      for await (const c of readTarEntryData(fh, e)) chunks.push(c);
      out.set(e.name, Buffer.concat(chunks));
    }
  } finally {
    await fh.close();
  }
  return out;
}

export async function streamToFile(s: Readable, dir: string, name: string): Promise<string> {
  const file = path.join(dir, name);
  await fs.promises.writeFile(file, s);
  return file;
}
