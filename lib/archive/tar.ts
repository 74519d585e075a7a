// A tiny streaming tar (POSIX ustar + pax) writer and a positional reader: enough for our backup
// archives and readable by GNU/BSD tar. Entries are streamed with backpressure, never buffered whole.
import { createHash } from "node:crypto";
import type { FileHandle } from "node:fs/promises";
import type { Readable, Writable } from "node:stream";

export const BLOCK = 512;
const USTAR_MAX_SIZE = 0o77777777777; // 11 octal digits: 8 GiB - 1
const ZERO_BLOCK = Buffer.alloc(BLOCK);

export interface TarEntryHeader {
  name: string;
  size: number;
  /** Seconds since the epoch. */
  mtime?: number;
  mode?: number;
}

export interface TarEntry extends Required<TarEntryHeader> {
  /** "0" regular file, "5" directory, … (pax headers are consumed by the reader). */
  type: string;
  /** Offset of the entry's data in the archive. */
  offset: number;
}

function octal(value: number, width: number): string {
  return value.toString(8).padStart(width - 1, "0") + "\0";
}

function ustarHeader(name: string, size: number, mtime: number, mode: number, type: string): Buffer {
  const h = Buffer.alloc(BLOCK);
  h.write(name, 0, 100, "utf8");
  h.write(octal(mode & 0o7777, 8), 100, "ascii");
  h.write(octal(0, 8), 108, "ascii"); // uid
  h.write(octal(0, 8), 116, "ascii"); // gid
  h.write(octal(size, 12), 124, "ascii");
  h.write(octal(Math.max(0, Math.floor(mtime)), 12), 136, "ascii");
  h.write("        ", 148, "ascii"); // checksum placeholder: eight spaces
  h.write(type, 156, "ascii");
  h.write("ustar\0", 257, "ascii");
  h.write("00", 263, "ascii");
  let sum = 0;
  for (const b of h) sum += b;
  h.write(octal(sum, 7) + " ", 148, "ascii");
  return h;
}

/** One pax record: "<len> <key>=<value>\n", where <len> counts the whole record including itself. */
function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  let len = Buffer.byteLength(body) + 1;
  while (String(len).length + Buffer.byteLength(body) !== len) len = String(len).length + Buffer.byteLength(body);
  return `${len}${body}`;
}

const padding = (size: number) => (BLOCK - (size % BLOCK)) % BLOCK;

/** The header block(s) for an entry: a pax header first when the name or size does not fit ustar. */
export function encodeHeader(entry: TarEntryHeader, type = "0"): Buffer {
  const mtime = entry.mtime ?? Math.floor(Date.now() / 1000);
  const mode = entry.mode ?? 0o644;
  const nameFits = Buffer.byteLength(entry.name) <= 100 && /^[\x20-\x7e]*$/.test(entry.name);
  const sizeFits = entry.size <= USTAR_MAX_SIZE;
  if (nameFits && sizeFits) return ustarHeader(entry.name, entry.size, mtime, mode, type);
  let records = "";
  if (!nameFits) records += paxRecord("path", entry.name);
  if (!sizeFits) records += paxRecord("size", String(entry.size));
  const pax = Buffer.from(records, "utf8");
  const shortName = `PaxHeaders/${Buffer.from(entry.name)
    .subarray(-80)
    .toString("latin1")
    .replace(/[^\x20-\x7e]/g, "_")}`;
  return Buffer.concat([
    ustarHeader(shortName, pax.length, mtime, 0o644, "x"),
    pax,
    Buffer.alloc(padding(pax.length)),
    ustarHeader(nameFits ? entry.name : shortName, sizeFits ? entry.size : 0, mtime, mode, type),
  ]);
}

export interface AddResult {
  size: number;
  sha256: string;
}

/**
 * Writes entries to `out` one after the other. Each entry's size must be known up front (tar
 * headers come first); a source that yields a different number of bytes fails the whole archive.
 */
export class TarWriter {
  private bytes = 0;
  private failed: Error | undefined;

  constructor(
    private readonly out: Writable,
    private readonly opts: { onBytes?: (n: number) => void | Promise<void> } = {},
  ) {
    out.on("error", (e) => (this.failed ??= e));
  }

  /** Bytes written so far. */
  get position(): number {
    return this.bytes;
  }

  private async write(buf: Buffer): Promise<void> {
    if (this.failed) throw this.failed;
    this.bytes += buf.length;
    if (this.out.write(buf)) return;
    await new Promise<void>((resolve, reject) => {
      const onDrain = () => {
        this.out.off("error", onError);
        resolve();
      };
      const onError = (e: Error) => {
        this.out.off("drain", onDrain);
        reject(e);
      };
      this.out.once("drain", onDrain);
      this.out.once("error", onError);
    });
  }

  /** Adds one regular file; returns the SHA-256 and size of what was written. */
  async add(entry: TarEntryHeader, source: Readable | AsyncIterable<Uint8Array> | Buffer): Promise<AddResult> {
    await this.write(encodeHeader(entry));
    const hash = createHash("sha256");
    let size = 0;
    const chunks: AsyncIterable<Uint8Array> | Uint8Array[] = Buffer.isBuffer(source) ? [source] : source;
    for await (const chunk of chunks) {
      const c = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      size += c.length;
      if (size > entry.size)
        throw new Error(`${entry.name}: the source has more than the ${entry.size} bytes announced (did it change while being read?)`);
      hash.update(c);
      await this.write(c);
      await this.opts.onBytes?.(c.length);
    }
    if (size !== entry.size)
      throw new Error(`${entry.name}: the source ended after ${size} of ${entry.size} bytes (did it change while being read?)`);
    const pad = padding(size);
    if (pad) await this.write(ZERO_BLOCK.subarray(0, pad));
    return { size, sha256: hash.digest("hex") };
  }

  /** The end-of-archive marker (two zero blocks); the caller then ends and syncs the stream. */
  async finish(): Promise<void> {
    await this.write(Buffer.alloc(BLOCK * 2));
  }
}

// ---------------------------------------------------------------------------------------------
// Reading: positional reads on a file handle, so an entry can be streamed or skipped.

function parseOctal(buf: Buffer, start: number, len: number): number {
  const field = buf.subarray(start, start + len);
  // GNU base-256 for big numbers: high bit of the first byte set.
  if (field[0]! & 0x80) {
    let n = 0;
    for (let i = 1; i < field.length; i++) n = n * 256 + field[i]!;
    return n;
  }
  const s = field.toString("ascii").replace(/\0.*$/s, "").trim();
  return s ? parseInt(s, 8) : 0;
}

function cString(buf: Buffer, start: number, len: number): string {
  const field = buf.subarray(start, start + len);
  const end = field.indexOf(0);
  return field.subarray(0, end === -1 ? len : end).toString("utf8");
}

function parsePax(data: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let i = 0;
  while (i < data.length) {
    const space = data.indexOf(0x20, i);
    if (space === -1) break;
    const len = parseInt(data.subarray(i, space).toString("ascii"), 10);
    if (!Number.isFinite(len) || len <= 0) throw new TarFormatError(`malformed pax record at ${i}`);
    const record = data.subarray(space + 1, i + len - 1).toString("utf8");
    const eq = record.indexOf("=");
    if (eq > 0) out[record.slice(0, eq)] = record.slice(eq + 1);
    i += len;
  }
  return out;
}

export class TarFormatError extends Error {
  constructor(message: string) {
    super(`Not a valid archive: ${message}`);
    this.name = "TarFormatError";
  }
}

async function readAt(fh: FileHandle, position: number, length: number): Promise<Buffer> {
  const buf = Buffer.alloc(length);
  let got = 0;
  while (got < length) {
    const { bytesRead } = await fh.read(buf, got, length - got, position + got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return buf.subarray(0, got);
}

/** Lists the entries of the archive open on `fh`, in order (pax headers applied, not yielded). */
export async function* readTarEntries(fh: FileHandle): AsyncGenerator<TarEntry> {
  const fileSize = (await fh.stat()).size;
  let pos = 0;
  let pax: Record<string, string> = {};
  for (;;) {
    const h = await readAt(fh, pos, BLOCK);
    if (h.length === 0) return; // EOF without the end marker: tolerated (GNU tar does too)
    if (h.length < BLOCK) throw new TarFormatError(`truncated header at offset ${pos}`);
    if (h.equals(ZERO_BLOCK)) return;
    let sum = 0;
    for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i]!;
    if (parseOctal(h, 148, 8) !== sum) throw new TarFormatError(`corrupted header at offset ${pos} (checksum)`);
    const type = String.fromCharCode(h[156] || 0x30);
    let size = parseOctal(h, 124, 12);
    const dataStart = pos + BLOCK;
    if (type === "x" || type === "g") {
      const data = await readAt(fh, dataStart, size);
      if (data.length < size) throw new TarFormatError(`truncated pax header at offset ${pos}`);
      if (type === "x") pax = parsePax(data);
      pos = dataStart + size + padding(size);
      continue;
    }
    const prefix = h.subarray(257, 263).toString("ascii").startsWith("ustar") ? cString(h, 345, 155) : "";
    let name = cString(h, 0, 100);
    if (prefix) name = `${prefix}/${name}`;
    if (pax.path !== undefined) name = pax.path;
    if (pax.size !== undefined) size = Number(pax.size);
    pax = {};
    if (dataStart + size > fileSize)
      throw new TarFormatError(`${name} is truncated (the archive ends ${dataStart + size - fileSize} bytes early)`);
    yield { name, size, type, mtime: parseOctal(h, 136, 12), mode: parseOctal(h, 100, 8), offset: dataStart };
    pos = dataStart + size + padding(size);
  }
}

/** The bytes of one entry, in chunks of up to `chunkSize` (fresh buffers: safe to keep). */
export async function* readTarEntryData(fh: FileHandle, entry: TarEntry, chunkSize = 1024 * 1024): AsyncGenerator<Buffer> {
  let done = 0;
  while (done < entry.size) {
    const n = Math.min(chunkSize, entry.size - done);
    const buf = await readAt(fh, entry.offset + done, n);
    if (buf.length < n) throw new TarFormatError(`${entry.name} is truncated`);
    done += n;
    yield buf;
  }
}
