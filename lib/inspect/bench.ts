import { createInspector } from "./inspect";

const MIB = 1024 * 1024;

/** Writes one dict entry: key -> (BINBYTES8 array payload, tuple of 64 BINFLOATs), like a pickled state dict. */
function encodeEntry(out: Uint8Array, at: number, index: number, arrayBytes: number): number {
  let p = at;
  const key = `layer_${index}.weight`;
  out[p++] = 0x8c; // SHORT_BINUNICODE
  out[p++] = key.length;
  for (let i = 0; i < key.length; i++) out[p++] = key.charCodeAt(i);
  out[p++] = 0x94; // MEMOIZE
  out[p++] = 0x28; // MARK
  out[p++] = 0x8e; // BINBYTES8
  const dv = new DataView(out.buffer, out.byteOffset);
  dv.setBigUint64(p, BigInt(arrayBytes), true);
  p += 8;
  return p;
}

function encodeStats(out: Uint8Array, at: number): number {
  let p = at;
  const dv = new DataView(out.buffer, out.byteOffset);
  for (let i = 0; i < 64; i++) {
    out[p++] = 0x47; // BINFLOAT
    dv.setFloat64(p, i * 0.5, false);
    p += 8;
  }
  out[p++] = 0x74; // TUPLE (closes the MARK before the array, so the value is (bytes, floats...))
  out[p++] = 0x73; // SETITEM
  return p;
}

/**
 * Throughput of the streaming inspector (createInspector, as during an upload) on a synthetic
 * protocol-4 pickle of `totalBytes`: a state-dict-like mapping of 64 KiB BINBYTES8 arrays, each
 * followed by ~600 bytes of small opcodes, delivered in 1 MiB chunks generated on the fly (nothing
 * large is held). Returns MB/s (10^6 bytes per second).
 */
export async function measureScanThroughput(totalBytes = 256 * MIB, arrayBytes = 64 * 1024): Promise<number> {
  const chunk = new Uint8Array(MIB + 4096);
  const payload = new Uint8Array(arrayBytes);
  for (let i = 0; i < payload.length; i++) payload[i] = (i * 131 + 7) & 0xff;
  const inspector = createInspector({ fileName: "bench.pkl" });
  let fill = 0;
  let bytes = 0;
  const flush = (force: boolean) => {
    if (fill >= MIB || (force && fill > 0)) {
      inspector.write(chunk.subarray(0, fill));
      bytes += fill;
      fill = 0;
    }
  };
  const start = performance.now();
  chunk.set([0x80, 0x04, 0x7d, 0x94], 0); // PROTO 4, EMPTY_DICT, MEMOIZE
  fill = 4;
  for (let i = 0; bytes + fill < totalBytes; i++) {
    fill = encodeEntry(chunk, fill, i, arrayBytes);
    for (let left = arrayBytes; left > 0;) {
      const take = Math.min(left, MIB - fill);
      if (take > 0) {
        chunk.set(payload.subarray(arrayBytes - left, arrayBytes - left + take), fill);
        fill += take;
        left -= take;
      }
      flush(false);
    }
    fill = encodeStats(chunk, fill);
    flush(false);
  }
  chunk[fill++] = 0x2e; // STOP
  flush(true);
  const result = await inspector.end();
  const seconds = (performance.now() - start) / 1000;
  if (result.verdict !== "safe") throw new Error(`benchmark pickle was not scanned cleanly: ${result.verdict}`);
  return bytes / 1e6 / seconds;
}
