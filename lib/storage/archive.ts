import { PassThrough, type Readable } from "node:stream";
import { ZipFile } from "yazl";
import { BLOCK, encodeHeader, TarWriter } from "@/lib/archive/tar";

// A whole version as one streamed archive: files are opened one at a time, in path order, and piped
// through with backpressure — no temporary file, memory flat whatever the size. Files are stored, not
// compressed (weights do not compress; it would cost CPU and make the length unknowable), so the
// archive's exact length is known before the first byte: clients get Content-Length and progress.

export const ARCHIVE_FORMATS = ["zip", "tar"] as const;
export type ArchiveFormat = (typeof ARCHIVE_FORMATS)[number];

export interface ArchiveEntry {
  path: string;
  size: number;
}

export interface Archive {
  stream: Readable;
  /** Exact length in bytes. */
  size: number;
  contentType: string;
}

const padding = (size: number) => (BLOCK - (size % BLOCK)) % BLOCK;

/** The exact length of the tar TarWriter writes for these entries (headers, data, padding, end marker). */
export function tarSize(entries: ArchiveEntry[], mtime: number): number {
  let n = BLOCK * 2;
  for (const e of entries) n += encodeHeader({ name: e.path, size: e.size, mtime }).length + e.size + padding(e.size);
  return n;
}

/**
 * Streams `entries` as a zip or tar under `root/`. `open` is called for one entry at a time, when its
 * turn comes; a source that yields more or fewer bytes than announced fails the archive (the client
 * then sees a broken transfer, never a wrong file).
 */
export async function createArchive(
  format: ArchiveFormat,
  root: string,
  entries: ArchiveEntry[],
  open: (e: ArchiveEntry) => Promise<Readable>,
  mtime = new Date(),
): Promise<Archive> {
  const named = entries.map((e) => ({ ...e, name: `${root}/${e.path}` }));
  if (format === "tar") {
    const seconds = Math.floor(mtime.getTime() / 1000);
    const out = new PassThrough({ highWaterMark: 1024 * 1024 });
    const tar = new TarWriter(out);
    let current: Readable | undefined;
    out.once("close", () => current?.destroy());
    void (async () => {
      for (const e of named) {
        current = await open(e);
        await tar.add({ name: e.name, size: e.size, mtime: seconds }, current);
      }
      await tar.finish();
      out.end();
    })().catch((e: Error) => out.destroy(e));
    return {
      stream: out,
      size: tarSize(
        named.map((e) => ({ path: e.name, size: e.size })),
        seconds,
      ),
      contentType: "application/x-tar",
    };
  }
  const zip = new ZipFile();
  const out = zip.outputStream as Readable;
  // yazl pipes each source without forwarding its errors, and keeps reading after the client left.
  let current: Readable | undefined;
  const fail = (err: Error) => out.destroy(err);
  zip.on("error", fail);
  out.once("close", () => current?.destroy());
  for (const e of named) {
    zip.addReadStreamLazy(e.name, { size: e.size, compress: false, mtime }, (cb) => {
      open(e).then(
        (s) => {
          current = s;
          s.once("error", fail);
          cb(null, s);
        },
        (err: Error) => fail(err),
      );
    });
  }
  // (@types/yazl 3.3.1 declares this callback without the total size yazl passes it.)
  const end = zip.end.bind(zip) as unknown as (opts: object, cb: (finalSize: number) => void) => void;
  const size = await new Promise<number>((resolve) => end({}, resolve));
  if (size < 0) throw new Error("the zip's length could not be computed (an entry without a size)");
  return { stream: out, size, contentType: "application/zip" };
}
