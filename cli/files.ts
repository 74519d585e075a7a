import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { usageError } from "./errors";

// Local files of an upload: a file is one entry (its name), a folder every regular file under it
// (paths relative to it, with '/'). Hashing streams: a file is never held in memory.

export interface LocalFile {
  /** The path in the version, e.g. tokenizer/vocab.json */
  path: string;
  abs: string;
  size: number;
  sha256: string;
}

export function listLocalFiles(inputs: string[]): Omit<LocalFile, "sha256">[] {
  const out = new Map<string, Omit<LocalFile, "sha256">>();
  const add = (rel: string, abs: string, size: number) => {
    const key = rel.normalize("NFC");
    if (out.has(key)) throw usageError(`Two files would be ${key} in the version.`);
    out.set(key, { path: key, abs, size });
  };
  const walk = (dir: string, prefix: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const abs = path.join(dir, e.name);
      const rel = prefix ? `${prefix}/${e.name}` : e.name;
      // Symlinks are followed to regular files only; a link to a folder could loop.
      const st = fs.statSync(abs);
      if (st.isDirectory() && !e.isSymbolicLink()) walk(abs, rel);
      else if (st.isFile()) add(rel, abs, st.size);
    }
  };
  for (const input of inputs) {
    let st: fs.Stats;
    try {
      st = fs.statSync(input);
    } catch {
      throw usageError(`No such file or folder: ${input}`);
    }
    if (st.isDirectory()) walk(path.resolve(input), "");
    else if (st.isFile()) add(path.basename(input), path.resolve(input), st.size);
    else throw usageError(`Not a file or folder: ${input}`);
  }
  if (out.size === 0) throw usageError("Nothing to upload: the folder is empty.");
  return [...out.values()];
}

/** SHA-256 of a file (or of its first `length` bytes), streamed; `onBytes` sees every chunk's size. */
export async function hashFile(abs: string, onBytes?: (n: number) => void, length?: number): Promise<string> {
  const h = crypto.createHash("sha256");
  if (length === 0) return h.digest("hex");
  const stream = fs.createReadStream(abs, length === undefined ? {} : { end: length - 1 });
  for await (const chunk of stream) {
    h.update(chunk as Buffer);
    onBytes?.((chunk as Buffer).length);
  }
  return h.digest("hex");
}

/** `dir` joined with a server-given path, refusing anything that would land outside `dir`. */
export function safeJoin(dir: string, rel: string): string {
  const target = path.resolve(dir, ...rel.split("/"));
  const root = path.resolve(dir);
  if (rel.includes("\\") || rel.split("/").some((s) => s === ".." || s === "") || !target.startsWith(root + path.sep))
    throw usageError(`Refusing a file path outside the download folder: ${JSON.stringify(rel)}`);
  return target;
}
