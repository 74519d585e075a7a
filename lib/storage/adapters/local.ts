import { randomUUID } from "node:crypto";
import { constants as fsConstants, createReadStream, createWriteStream, type Dirent, type WriteStream } from "node:fs";
import fs from "node:fs/promises";
import path from "node:path";
import { Readable, Writable } from "node:stream";
import { AppError } from "@/lib/errors";
import type { BlobBody, BlobStat, BlobStore, ByteRange, GetResult, PutOptions, PutResult } from "../blob-store";
import { checkPutOptions, discardBody, pipeWithHash, toAbortAppError } from "../hash-stream";
import { contentTypeFor } from "../limits";
import { isValidKey, mustBeValidKey, mustBeValidPrefix } from "../object-key";
import { mustBeValidRange, resolveRange } from "./range";

// Layout: <rootDir>/<bucket>/<key>, with in-flight uploads in <rootDir>/<bucket>/.tmp/ (same file
// system, so the final link is atomic). mustBeValidKey() rejects any segment starting with ".", so
// no key can ever name the .tmp directory.

export interface LocalBlobStoreOptions {
  rootDir: string;
  bucket: string;
}

export interface LocalBlobStore extends BlobStore {
  readonly kind: "local";
  /** Absolute path of the bucket directory. */
  readonly dir: string;
  /** Removes temporary files older than `olderThanMs` (left by a crash); returns how many. */
  sweepTemp(olderThanMs: number): Promise<number>;
}

const TMP_DIR = ".tmp";
const WRITE_CHUNK = 1024 * 1024;
const READ_CHUNK = 1024 * 1024;
const BUCKET_NAME = /^[a-z0-9][a-z0-9._-]{1,62}$/;

function bucketDirOf({ rootDir, bucket }: LocalBlobStoreOptions): string {
  if (!BUCKET_NAME.test(bucket) || bucket.includes("..")) throw new AppError("internal", `Invalid bucket name: ${JSON.stringify(bucket)}.`);
  return path.join(path.resolve(rootDir), bucket);
}

const errnoOf = (e: unknown): string | undefined => (e as NodeJS.ErrnoException | null)?.code;

async function exists(file: string): Promise<boolean> {
  try {
    await fs.lstat(file);
    return true;
  } catch (e) {
    if (errnoOf(e) === "ENOENT" || errnoOf(e) === "ENOTDIR") return false;
    throw e;
  }
}

async function fsyncDir(dir: string): Promise<void> {
  const fh = await fs.open(dir, "r");
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

async function unlinkQuietly(file: string): Promise<void> {
  await fs.unlink(file).catch((e: unknown) => {
    if (errnoOf(e) !== "ENOENT") console.error("[local-store] could not remove", file, (e as Error).message);
  });
}

/** Removes files in <bucket>/.tmp whose last write is older than `olderThanMs`; returns how many. */
export async function sweepTemp(opts: LocalBlobStoreOptions, olderThanMs: number): Promise<number> {
  const tmpDir = path.join(bucketDirOf(opts), TMP_DIR);
  let names: string[];
  try {
    names = await fs.readdir(tmpDir);
  } catch (e) {
    if (errnoOf(e) === "ENOENT") return 0;
    throw e;
  }
  const cutoff = Date.now() - olderThanMs;
  let removed = 0;
  for (const name of names) {
    const file = path.join(tmpDir, name);
    const st = await fs.lstat(file).catch(() => null);
    if (st && st.mtimeMs <= cutoff) {
      await fs.rm(file, { force: true, recursive: true });
      removed++;
    }
  }
  return removed;
}

/** A BlobStore on the local disk: atomic, never-overwriting puts (tmp file + fsync + link). */
export function createLocalBlobStore(opts: LocalBlobStoreOptions): LocalBlobStore {
  const dir = bucketDirOf(opts);
  const tmpDir = path.join(dir, TMP_DIR);

  // Defence in depth after mustBeValidKey(): the resolved path must stay inside the bucket.
  function pathOf(key: string): string {
    mustBeValidKey(key);
    const p = path.resolve(dir, ...key.split("/"));
    if (!p.startsWith(dir + path.sep)) throw new AppError("bad_request", "Invalid object key: escapes the bucket.");
    return p;
  }

  async function put(key: string, body: BlobBody, putOpts: PutOptions = {}): Promise<PutResult> {
    let finalPath: string;
    try {
      finalPath = pathOf(key);
      checkPutOptions(putOpts);
      if (putOpts.signal?.aborted) throw toAbortAppError(putOpts.signal.reason, putOpts.signal);
      // Cheap early answer before reading the body; the link below is what guarantees "never overwrite".
      if (await exists(finalPath)) throw conflict(key);
    } catch (e) {
      discardBody(body);
      throw e;
    }

    const tmp = path.join(tmpDir, `${Date.now()}-${randomUUID()}`);
    let linked = false;
    let sink: WriteStream | undefined;
    try {
      await fs.mkdir(tmpDir, { recursive: true });
      await fs.mkdir(path.dirname(finalPath), { recursive: true }).catch((e: unknown) => {
        if (errnoOf(e) === "EEXIST" || errnoOf(e) === "ENOTDIR") throw conflict(key);
        throw e;
      });
      // flush: the data is fsynced before the file is closed, and pipeline() waits for the close.
      sink = createWriteStream(tmp, { flags: "wx", mode: 0o640, flush: true, highWaterMark: WRITE_CHUNK });
      const outcome = await pipeWithHash(body, sink, putOpts);
      try {
        await fs.link(tmp, finalPath);
      } catch (e) {
        if (errnoOf(e) === "EEXIST") throw conflict(key);
        throw e;
      }
      linked = true;
      await unlinkQuietly(tmp);
      await fsyncDir(path.dirname(finalPath));
      return { key, size: outcome.size, sha256: outcome.sha256 };
    } catch (e) {
      discardBody(body);
      // The stream may still be opening the file: unlink only once it is closed, or it could reappear.
      if (sink && !sink.closed) {
        const closing = new Promise<void>((resolve) => sink!.once("close", () => resolve()));
        sink.destroy();
        await closing;
      }
      await unlinkQuietly(tmp);
      // Linked but not durable: the caller is told it failed, so nothing may stay at the key.
      if (linked) await unlinkQuietly(finalPath);
      throw e;
    }
  }

  async function putFile(key: string, source: string, putOpts: PutOptions = {}): Promise<PutResult> {
    const finalPath = pathOf(key);
    checkPutOptions(putOpts);
    if (await exists(finalPath)) throw conflict(key);
    const sink = new Writable({ write: (_chunk, _enc, cb) => cb() });
    const outcome = await pipeWithHash(createReadStream(source, { highWaterMark: WRITE_CHUNK }), sink, putOpts);
    const fh = await fs.open(source, "r+");
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
    await fs.mkdir(path.dirname(finalPath), { recursive: true });
    try {
      await fs.link(source, finalPath);
    } catch (e) {
      if (errnoOf(e) === "EEXIST") throw conflict(key);
      if (errnoOf(e) === "EXDEV") return put(key, createReadStream(source), putOpts);
      throw e;
    }
    await fsyncDir(path.dirname(finalPath));
    return { key, size: outcome.size, sha256: outcome.sha256 };
  }

  async function get(key: string, getOpts: { range?: ByteRange } = {}): Promise<GetResult> {
    const file = pathOf(key);
    if (getOpts.range) mustBeValidRange(getOpts.range);
    let fh: fs.FileHandle;
    try {
      fh = await fs.open(file, fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW);
    } catch (e) {
      if (["ENOENT", "ENOTDIR", "EISDIR", "ELOOP"].includes(errnoOf(e) ?? "")) throw notFound();
      throw e;
    }
    try {
      // Size from the open handle: a concurrent delete cannot change what this read returns.
      const st = await fh.stat();
      if (!st.isFile()) throw notFound();
      const contentType = contentTypeFor(key);
      if (st.size === 0 && !getOpts.range) {
        await fh.close();
        return { stream: Readable.from([]), size: 0, start: 0, end: -1, contentType };
      }
      const { start, end } = resolveRange(getOpts.range, st.size);
      const stream = fh.createReadStream({ start, end, highWaterMark: READ_CHUNK });
      return { stream, size: st.size, start, end, contentType };
    } catch (e) {
      await fh.close().catch(() => {});
      throw e;
    }
  }

  async function stat(key: string): Promise<BlobStat | null> {
    const file = pathOf(key);
    try {
      const st = await fs.lstat(file); // like get(): a planted symlink is not an object
      if (!st.isFile()) return null;
      return { key, size: st.size, contentType: contentTypeFor(key), updatedAt: st.mtime };
    } catch (e) {
      if (errnoOf(e) === "ENOENT" || errnoOf(e) === "ENOTDIR") return null;
      throw e;
    }
  }

  async function del(key: string): Promise<boolean> {
    const file = pathOf(key);
    try {
      await fs.unlink(file);
      return true;
    } catch (e) {
      if (errnoOf(e) === "ENOENT" || errnoOf(e) === "ENOTDIR") return false;
      if (errnoOf(e) === "EISDIR") return false; // a "folder", not an object
      throw e;
    }
  }

  async function* list(prefix: string): AsyncIterable<BlobStat> {
    mustBeValidPrefix(prefix);
    // Walk only the deepest directory the prefix names; the rest of the prefix filters names.
    const slash = prefix.lastIndexOf("/");
    const startRel = slash === -1 ? "" : prefix.slice(0, slash);
    yield* walk(startRel, prefix);
  }

  async function* walk(rel: string, prefix: string): AsyncGenerator<BlobStat> {
    let entries: Dirent[];
    try {
      entries = await fs.readdir(rel ? path.join(dir, ...rel.split("/")) : dir, { withFileTypes: true });
    } catch (e) {
      if (errnoOf(e) === "ENOENT" || errnoOf(e) === "ENOTDIR") return;
      throw e;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      const key = rel ? `${rel}/${entry.name}` : entry.name;
      // Skips .tmp and anything that is not a valid key (it could not be read through this API).
      if (!isValidKey(key)) continue;
      if (entry.isDirectory()) {
        if (prefix.startsWith(`${key}/`) || `${key}/`.startsWith(prefix)) yield* walk(key, prefix);
      } else if (entry.isFile() && key.startsWith(prefix)) {
        const st = await fs.lstat(path.join(dir, ...key.split("/"))).catch(() => null);
        if (st) yield { key, size: st.size, contentType: contentTypeFor(key), updatedAt: st.mtime };
      }
    }
  }

  async function ping(): Promise<{ ok: boolean; detail?: string }> {
    try {
      await fs.mkdir(tmpDir, { recursive: true });
      await fs.access(tmpDir, fsConstants.W_OK);
      return { ok: true, detail: dir };
    } catch (e) {
      return { ok: false, detail: `${dir}: ${(e as Error).message}` };
    }
  }

  return {
    kind: "local",
    bucket: opts.bucket,
    dir,
    put,
    get,
    stat,
    delete: del,
    list,
    ping,
    sweepTemp: (olderThanMs) => sweepTemp(opts, olderThanMs),
    putFile,
  };
}

const conflict = (key: string) =>
  new AppError("conflict", "An object already exists at this key; stored objects are never overwritten.", { key });
const notFound = () => new AppError("not_found", "No such object.");
