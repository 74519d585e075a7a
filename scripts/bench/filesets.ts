// npm run bench, file sets (issue 13): a version of four 1 GiB files through the commit API against
// the single-file rate measured in the same run, its zip streamed against the single-file download,
// and the server's memory meanwhile.
import crypto from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import path from "node:path";

const MiB = 1024 * 1024;

export interface FileSetBenchContext {
  app: string;
  auth: Record<string, string>;
  dir: string;
  /** Streams a file as a request body (bench.ts send()). */
  send(
    url: string,
    file: string,
    opts: { method?: string; headers?: Record<string, string> },
  ): Promise<{ seconds: number; status: number; body: string }>;
  watchRss(): { stop(): number };
  log(...a: unknown[]): void;
}

/** `count` safetensors files of `size` bytes, each with its own random bytes (so nothing deduplicates); path -> sha256. */
function makeDistinctFiles(dir: string, count: number, size: number): { file: string; path: string; size: number; sha256: string }[] {
  const out = [];
  for (let i = 0; i < count; i++) {
    const file = path.join(dir, `shard-${i}.safetensors`);
    const headerFor = (n: number) =>
      JSON.stringify({ __metadata__: { shard: String(i) }, w: { dtype: "U8", shape: [n], data_offsets: [0, n] } });
    let dataLen = size - 8;
    for (let k = 0; k < 5; k++) dataLen = size - 8 - Buffer.byteLength(headerFor(dataLen));
    const header = Buffer.from(headerFor(dataLen));
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(header.length));
    const h = crypto.createHash("sha256");
    const fd = fs.openSync(file, "w");
    for (const b of [len, header]) {
      fs.writeSync(fd, b);
      h.update(b);
    }
    for (let left = dataLen; left > 0; left -= 8 * MiB) {
      const piece = crypto.randomBytes(Math.min(8 * MiB, left));
      fs.writeSync(fd, piece);
      h.update(piece);
    }
    fs.closeSync(fd);
    out.push({ file, path: `model-0000${i + 1}-of-0000${count}.safetensors`, size, sha256: h.digest("hex") });
  }
  return out;
}

/** GETs and counts bytes; the answer's Content-Length too. */
function drain(url: string, headers: Record<string, string>) {
  const t = performance.now();
  return new Promise<{ seconds: number; bytes: number; length: number; status: number }>((resolve, reject) => {
    http
      .get(url, { headers, agent: false }, (res) => {
        let bytes = 0;
        res.on("data", (c: Buffer) => (bytes += c.length));
        res.on("end", () =>
          resolve({
            seconds: (performance.now() - t) / 1000,
            bytes,
            length: Number(res.headers["content-length"] ?? -1),
            status: res.statusCode ?? 0,
          }),
        );
        res.on("error", reject);
      })
      .on("error", reject);
  });
}

export async function benchFileSets(
  ctx: FileSetBenchContext,
  single: { upload_mb_s: number; download_mb_s: number },
  results: Record<string, number>,
) {
  const count = 4;
  const size = Number(process.env.BENCH_FILESET_FILE_MIB ?? 1024) * MiB;
  ctx.log(`\n— a version of ${count} × ${size / MiB} MiB files (commit, PUT each, complete; then as a zip) —`);
  const files = makeDistinctFiles(ctx.dir, count, size);
  const base = `${ctx.app}/api/v1/orgs/demo_org/models/bench_folder`;
  const json = { ...ctx.auth, "content-type": "application/json" };
  const rss = ctx.watchRss();
  const t0 = performance.now();
  const created = await fetch(`${base}/commits`, {
    method: "POST",
    headers: json,
    body: JSON.stringify({ version: "1.0", files: files.map((f) => ({ path: f.path, size: f.size, sha256: f.sha256 })) }),
  });
  if (created.status !== 201) throw new Error(`commit: ${created.status} ${await created.text()}`);
  const commit = (await created.json()) as { id: string; files: { path: string; state: string; upload?: { put_url: string } }[] };
  for (const f of commit.files) {
    if (f.state !== "upload") throw new Error(`${f.path} was not to be uploaded`);
    const r = await ctx.send(`${ctx.app}${f.upload!.put_url}`, files.find((x) => x.path === f.path)!.file, { headers: ctx.auth });
    if (r.status !== 200) throw new Error(`PUT ${f.path}: ${r.status} ${r.body}`);
  }
  const done = await fetch(`${base}/commits/${commit.id}/complete`, { method: "POST", headers: json, body: "{}" });
  if (done.status !== 201) throw new Error(`complete: ${done.status} ${await done.text()}`);
  const seconds = (performance.now() - t0) / 1000;
  results.fileset_upload_rss_growth_mib = Math.round(rss.stop());
  results.fileset_upload_mb_s = Math.round((count * size) / 1e6 / seconds);
  results.fileset_upload_ratio = Math.round((results.fileset_upload_mb_s / single.upload_mb_s) * 100) / 100;
  ctx.log(
    `${results.fileset_upload_mb_s} MB/s (single file ${single.upload_mb_s}) → ratio ${results.fileset_upload_ratio}; RSS +${results.fileset_upload_rss_growth_mib} MiB`,
  );

  const zrss = ctx.watchRss();
  const zip = await drain(`${base}/versions/1.0/download?format=zip`, ctx.auth);
  results.fileset_zip_rss_growth_mib = Math.round(zrss.stop());
  if (zip.status !== 200 || zip.bytes !== zip.length) throw new Error(`zip: ${zip.status}, ${zip.bytes} of ${zip.length} bytes`);
  results.fileset_zip_mb_s = Math.round(zip.bytes / 1e6 / zip.seconds);
  results.fileset_zip_ratio = Math.round((results.fileset_zip_mb_s / single.download_mb_s) * 100) / 100;
  ctx.log(
    `zip: ${results.fileset_zip_mb_s} MB/s (single-file download ${single.download_mb_s}) → ratio ${results.fileset_zip_ratio}; RSS +${results.fileset_zip_rss_growth_mib} MiB`,
  );
  for (const f of files) fs.rmSync(f.file, { force: true });
}
