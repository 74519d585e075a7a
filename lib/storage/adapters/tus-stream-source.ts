import type { Readable } from "node:stream";

/**
 * A tus-js-client file source over a Node stream that holds exactly one chunk (for retries) in one
 * preallocated buffer. tus's own StreamSource calls stream.read(chunkSize), which raises the
 * stream's buffer to the next power of two and copies the chunk again: about three chunks (~20 MiB
 * at Supabase's 6 MiB) per upload instead of one.
 */
export class TusStreamSource {
  private buf: Buffer | null = null;
  private bufStart = 0;
  private pos = 0;

  constructor(
    private readonly stream: Readable,
    readonly size: number,
  ) {
    stream.pause();
  }

  async slice(start: number, end: number): Promise<{ value: Buffer & { size?: number }; done: boolean }> {
    end = Math.min(end, this.size);
    // A retry asks for the chunk we still hold.
    if (this.buf && start >= this.bufStart && end <= this.bufStart + this.buf.length) {
      return this.result(this.buf.subarray(start - this.bufStart, end - this.bufStart), end);
    }
    if (start !== this.pos) throw new Error(`tus asked for bytes ${start}-${end} but the stream is at ${this.pos}`);
    // tus never goes back once it asks for new bytes: let the previous chunk go before filling the next.
    this.buf = null;
    const out = Buffer.allocUnsafe(end - start);
    let filled = 0;
    while (filled < out.length) {
      const chunk = await readUpTo(this.stream, out.length - filled);
      if (!chunk) break;
      chunk.copy(out, filled);
      filled += chunk.length;
    }
    this.pos += filled;
    this.bufStart = start;
    this.buf = out.subarray(0, filled);
    return this.result(this.buf, start + filled);
  }

  private result(value: Buffer & { size?: number }, reachedEnd: number) {
    // tus's Node HTTP stack sets Content-Length from `size`.
    value.size = value.length;
    return { value, done: reachedEnd >= this.size };
  }

  close(): void {
    this.buf = null;
    this.stream.destroy();
  }
}

/** Resolves with at most `max` bytes already buffered in `stream`, null at its end; rejects on error. */
function readUpTo(stream: Readable, max: number): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const attempt = (): boolean => {
      if (stream.errored) {
        cleanup();
        reject(stream.errored);
        return true;
      }
      const available = stream.readableLength;
      if (available > 0) {
        // read(n) with n <= the buffered length returns exactly n bytes and never grows the buffer.
        let chunk = stream.read(Math.min(max, available)) as Buffer | null;
        if (chunk) {
          // Object-mode streams hand out whole chunks: keep the part beyond `max` for the next slice.
          if (chunk.length > max) {
            stream.unshift(chunk.subarray(max));
            chunk = chunk.subarray(0, max);
          }
          cleanup();
          resolve(chunk);
          return true;
        }
      }
      if (stream.readableEnded || stream.destroyed) {
        cleanup();
        if (stream.destroyed && !stream.readableEnded) reject(stream.errored ?? new Error("The upload stream was closed early."));
        else resolve(null);
        return true;
      }
      return false;
    };
    // At the end 'readable' fires with nothing buffered; read(0) then makes the stream emit 'end'.
    const onReadable = () => {
      if (!attempt()) stream.read(0);
    };
    const onError = (e: Error) => {
      cleanup();
      reject(e);
    };
    const onEnd = () => void attempt();
    const onClose = () => void attempt();
    const cleanup = () => {
      stream.off("readable", onReadable);
      stream.off("error", onError);
      stream.off("end", onEnd);
      stream.off("close", onClose);
    };
    stream.on("readable", onReadable);
    stream.on("error", onError);
    stream.on("end", onEnd);
    stream.on("close", onClose);
    // Trigger a read so 'readable'/'end' fire even when nothing is buffered yet.
    if (!attempt() && stream.readableLength === 0) stream.read(0);
  });
}
