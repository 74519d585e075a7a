// Model files for the soak: valid safetensors of any size, so the inspector accepts them as models.
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";

/** A safetensors file of exactly `size` bytes (one U8 tensor of random bytes) in `dir`. */
export function makeModelFile(dir: string, size: number, name = `model-${size}.safetensors`): string {
  const file = path.join(dir, name);
  if (fs.existsSync(file) && fs.statSync(file).size === size) return file;
  // The header states the data length, whose digits change the header's length: iterate to a fixed point.
  const headerFor = (n: number) => JSON.stringify({ __metadata__: { soak: "1" }, w: { dtype: "U8", shape: [n], data_offsets: [0, n] } });
  let dataLen = size - 8;
  for (let i = 0; i < 5; i++) dataLen = size - 8 - Buffer.byteLength(headerFor(dataLen));
  const header = headerFor(dataLen);
  if (8 + Buffer.byteLength(header) + dataLen !== size) throw new Error(`could not size a ${size}-byte safetensors file`);
  const fd = fs.openSync(file, "w");
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(Buffer.byteLength(header)));
  fs.writeSync(fd, len);
  fs.writeSync(fd, header);
  const chunk = crypto.randomBytes(1024 * 1024);
  let left = dataLen;
  while (left > 0) {
    const n = Math.min(left, chunk.length);
    fs.writeSync(fd, chunk, 0, n);
    left -= n;
  }
  fs.closeSync(fd);
  return file;
}

export const sha256File = (file: string) => crypto.createHash("sha256").update(fs.readFileSync(file)).digest("hex");

/** Files under `dir` (recursively), relative paths; [] when it does not exist. */
export function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.push(path.relative(dir, p));
    }
  };
  walk(dir);
  return out;
}
