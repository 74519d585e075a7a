import { AppError } from "@/lib/errors";
import type { ByteRange } from "../blob-store";

/** Checks a requested range before any I/O: whole, non-negative offsets, end not before start. */
export function mustBeValidRange(range: ByteRange): void {
  const { start, end } = range;
  if (!Number.isSafeInteger(start) || start < 0 || (end !== undefined && (!Number.isSafeInteger(end) || end < start))) {
    throw new AppError("bad_request", "A byte range needs whole, non-negative offsets with end >= start.");
  }
}

/**
 * Resolves an inclusive range against an object's size like HTTP does: the end is clamped to the
 * last byte, a start at or past the end is AppError("range_not_satisfiable").
 */
export function resolveRange(range: ByteRange | undefined, size: number): { start: number; end: number } {
  if (!range) return { start: 0, end: size - 1 };
  mustBeValidRange(range);
  if (range.start >= size) {
    throw new AppError("range_not_satisfiable", `The range starts beyond the end of the object (${size} bytes).`, { size });
  }
  return { start: range.start, end: Math.min(range.end ?? size - 1, size - 1) };
}

/** `bytes=<start>-[<end>]` for a Range header. */
export function rangeHeader(range: ByteRange): string {
  mustBeValidRange(range);
  return `bytes=${range.start}-${range.end ?? ""}`;
}

/** Parses `Content-Range: bytes <start>-<end>/<size>`; null when absent or unparseable. */
export function parseContentRange(header: string | null | undefined): { start: number; end: number; size: number } | null {
  const m = header ? /^bytes (\d+)-(\d+)\/(\d+)$/.exec(header.trim()) : null;
  if (!m) return null;
  const [start, end, size] = [Number(m[1]), Number(m[2]), Number(m[3])];
  return end >= start && end < size ? { start, end, size } : null;
}
