// npm run bench — throughput and memory of the real app, measured against baselines in the same run.
// Not a test: it prints figures and ratios; the last line is one JSON object.
//
//   upload_ratio     our PUT upload (stream, hash, inspect, fsync, finalize) / a bare Node http server
//                    (its own process, scripts/bench/baseline-server.mjs) that streams the same file
//                    to disk with SHA-256
//   download_ratio   our streamed download / a bare Node http server streaming the file from disk
//   resumable_ratio  a tus upload (tus-js-client, the browser uploader's chunk size) / the same baseline
//   rss_growth_mib_*  the app server's peak RSS growth during uploads of 64 MiB, 1 GiB, 4 GiB
//   list_p50/p95_ms  GET /api/v1/orgs/{org}/models with 10,000 models and 100,000 versions in the database
//   browser_first_page_ms  the model browser page (server-rendered HTML) over the same data
//   concurrent_*     16 concurrent 64 MiB uploads
//   scan_mb_s        lib/inspect streaming scanner over a large pickle
//   fileset_*        a version of four 1 GiB files (commit + PUT each + complete) / the single-file
//                    upload rate above; its zip streamed / the single-file download rate; RSS growth
//   supabase_*       with the real-Supabase lane's environment set: 1 GiB through the app (our
//                    resumable endpoint streaming on to Storage) / straight to Storage, downloads
//                    likewise, the app's RSS growth (scripts/bench/supabase.ts)
//
// Options (env): BENCH_SIZES_MIB="64,1024,4096", BENCH_PORT=3300, BENCH_DIR=.data-bench, BENCH_SKIP_BUILD=1.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import * as tus from "tus-js-client";
import { parseConfig } from "@/lib/config";
import { appNodeOptions } from "@/lib/http/server-process";
import { createPlatform } from "@/lib/platform/platform";
import { LOCAL_RESUMABLE_CHUNK_BYTES } from "@/lib/storage/limits";
import { benchFileSets } from "./bench/filesets";
import { benchSupabase } from "./bench/supabase";

const PORT = Number(process.env.BENCH_PORT ?? 3300);
const APP = `http://127.0.0.1:${PORT}`;
const DATA_DIR = path.resolve(process.env.BENCH_DIR ?? ".data-bench");
const SIZES = (process.env.BENCH_SIZES_MIB ?? "64,1024,4096").split(",").map(Number);
const TMP = fs.mkdtempSync(path.join(os.tmpdir(), "fm-bench-"));
const MiB = 1024 * 1024;
const results: Record<string, number> = {};
const log = (...a: unknown[]) => console.log(...a);
const fmt = (n: number) => (Math.round(n * 10) / 10).toString();

/** A valid safetensors file of `size` bytes (one F32 tensor), so the inspector accepts it as a model. */
function makeModelFile(size: number): string {
  const file = path.join(TMP, `bench-${size}.safetensors`);
  if (fs.existsSync(file)) return file;
  // The header states the data length, whose digits change the header's length: iterate to a fixed point.
  const headerFor = (n: number) => JSON.stringify({ __metadata__: { bench: "1" }, w: { dtype: "U8", shape: [n], data_offsets: [0, n] } });
  let dataLen = size - 8;
  for (let i = 0; i < 5; i++) dataLen = size - 8 - Buffer.byteLength(headerFor(dataLen));
  const header = headerFor(dataLen);
  if (8 + Buffer.byteLength(header) + dataLen !== size) throw new Error(`could not size a ${size}-byte safetensors file`);
  const fd = fs.openSync(file, "w");
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(Buffer.byteLength(header)));
  fs.writeSync(fd, len);
  fs.writeSync(fd, header);
  const chunk = crypto.randomBytes(MiB);
  let left = size - 8 - Buffer.byteLength(header);
  while (left > 0) {
    const n = Math.min(left, chunk.length);
    fs.writeSync(fd, chunk, 0, n);
    left -= n;
  }
  fs.closeSync(fd);
  return file;
}

/** Streams a file as a request body; resolves with seconds and the answer. */
function send(url: string, file: string, opts: { method?: string; headers?: Record<string, string> } = {}) {
  const size = fs.statSync(file).size;
  const u = new URL(url);
  const t = performance.now();
  return new Promise<{ seconds: number; status: number; body: string }>((resolve, reject) => {
    const req = http.request(
      {
        host: u.hostname,
        port: u.port,
        path: u.pathname + u.search,
        method: opts.method ?? "PUT",
        agent: false,
        headers: { "content-length": String(size), ...opts.headers },
      },
      (res) => {
        let body = "";
        res.on("data", (c) => (body += c));
        res.on("end", () => resolve({ seconds: (performance.now() - t) / 1000, status: res.statusCode ?? 0, body }));
      },
    );
    req.on("error", reject);
    fs.createReadStream(file, { highWaterMark: MiB }).pipe(req);
  });
}

/** Downloads and hashes; resolves with seconds and the hex SHA-256. */
function fetchHash(url: string, headers: Record<string, string> = {}) {
  const u = new URL(url);
  const t = performance.now();
  return new Promise<{ seconds: number; sha256: string; bytes: number }>((resolve, reject) => {
    http
      .get({ host: u.hostname, port: u.port, path: u.pathname + u.search, headers, agent: false }, (res) => {
        const h = crypto.createHash("sha256");
        let bytes = 0;
        res.on("data", (c: Buffer) => {
          h.update(c);
          bytes += c.length;
        });
        res.on("end", () => resolve({ seconds: (performance.now() - t) / 1000, sha256: h.digest("hex"), bytes }));
        res.on("error", reject);
      })
      .on("error", reject);
  });
}

/** The baseline: a bare Node http server in its own process (scripts/bench/baseline-server.mjs). */
function startBaseline(): Promise<{ port: number; close(): void }> {
  const dir = fs.mkdtempSync(path.join(TMP, "baseline-"));
  const child = spawn(process.execPath, [path.join(import.meta.dirname, "bench", "baseline-server.mjs"), dir], {
    env: { ...process.env, NODE_OPTIONS: appNodeOptions() },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const close = () => child.kill();
  process.on("exit", close);
  return new Promise((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`the baseline server exited (${code})`)));
    child.stdout!.once("data", (c: Buffer) => resolve({ port: (JSON.parse(c.toString()) as { port: number }).port, close }));
  });
}

/** Peak RSS of a process tree (the app server may run its work in a child). */
function rssOfTree(pid: number): number {
  let total = 0;
  const walk = (p: number) => {
    try {
      const status = fs.readFileSync(`/proc/${p}/status`, "utf8");
      total += Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) * 1024;
      const children = fs.readFileSync(`/proc/${p}/task/${p}/children`, "utf8").trim();
      for (const c of children ? children.split(/\s+/) : []) walk(Number(c));
    } catch {}
  };
  walk(pid);
  return total;
}

function watchRss(pid: number) {
  const base = rssOfTree(pid);
  let peak = base;
  const timer = setInterval(() => (peak = Math.max(peak, rssOfTree(pid))), 50);
  return { stop: () => (clearInterval(timer), (Math.max(peak, rssOfTree(pid)) - base) / MiB) };
}

async function waitFor(url: string, seconds: number) {
  for (let i = 0; i < seconds * 4; i++) {
    try {
      const r = await fetch(url);
      if (r.ok) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${url} did not answer in ${seconds}s`);
}

/**
 * 10,000 models and 100,000 one-file versions (blobs + version_files) in demo_org, written before the
 * server opens the database. The demo is seeded first (npm run seed): on a fresh DATA_DIR there is no
 * demo_org yet, and every insert below would quietly add nothing (the list figures were measured on
 * 18 models until 2026-12-03). The counts are checked before anything is measured.
 */
async function fillDatabase() {
  const embedded = { ...process.env, DATA_DIR, DATABASE_URL: "" };
  const seeded = spawnSync("npm", ["run", "seed"], { env: embedded, stdio: "ignore" });
  if (seeded.status !== 0) throw new Error("npm run seed failed on the bench's data directory");
  const config = parseConfig(embedded);
  const db = await createPlatform(config).database();
  try {
    const t = performance.now();
    await db.exec(`
      with org as (select id from public.organizations where slug = 'demo_org'),
           owner as (select user_id from public.memberships m join org on m.org_id = org.id where role = 'owner' limit 1)
      insert into public.models (org_id, slug, name, task_type, framework, description, tags, created_by)
      select org.id, 'bulk_' || g, 'Bulk model ' || g, (array['classification','regression','nlp','llm'])[1 + g % 4],
             (array['scikit-learn','pytorch','xgboost','onnx'])[1 + g % 4], 'synthetic model ' || g, array['bulk', 'team' || (g % 10)], owner.user_id
      from generate_series(1, 10000) g, org, owner;
      alter table public.model_versions disable trigger model_versions_rollup;
      insert into public.model_versions (org_id, model_id, version, file_name, size_bytes, sha256, status, scan_verdict, file_count, layout, format, created_by, created_at)
      select m.org_id, m.id, '1.' || v, 'x.pkl', 1000 + v, md5(m.slug || v) || md5(m.slug || v), 'ready', 'safe', 1, 'single-file', 'pickle', m.created_by, now() - (v || ' minutes')::interval
      from public.models m, generate_series(1, 10) v where m.slug like 'bulk_%';
      alter table public.model_versions enable trigger model_versions_rollup;
      -- Each version is one file over a blob of its own (keys as commits make them: <org>/blobs/<xx>/<id>).
      create temp table bench_files as
        select v.id as version_id, v.org_id, gen_random_uuid() as blob_id, v.size_bytes, v.sha256, v.created_by, v.created_at
        from public.model_versions v join public.models m on m.id = v.model_id where m.slug like 'bulk_%';
      insert into public.blobs (id, org_id, object_key, status, size_bytes, sha256, file_name, content_type, format, scan_verdict, upload_version_id, created_by, created_at, stored_at)
      select blob_id, org_id, 'demo_org/blobs/' || left(blob_id::text, 2) || '/' || blob_id, 'stored', size_bytes, sha256, 'x.pkl',
             'application/octet-stream', 'pickle', 'safe', version_id, created_by, created_at, created_at
      from bench_files;
      -- The guard refuses files for versions that left pending; these are written whole, as one commit would.
      alter table public.version_files disable trigger version_files_guard;
      insert into public.version_files (version_id, path, org_id, blob_id) select version_id, 'x.pkl', org_id, blob_id from bench_files;
      alter table public.version_files enable trigger version_files_guard;
      drop table bench_files;
      update public.models m set latest_version = '1.10', version_count = 10, total_bytes = 10055, latest_size_bytes = 1010, latest_scan_verdict = 'safe', updated_at = now() - (random() * interval '30 days')
      where m.slug like 'bulk_%';
      analyze;`);
    const { rows } = await db.query<{ models: number; versions: number }>(
      `select count(distinct m.id)::int as models, count(v.id)::int as versions
       from public.models m join public.model_versions v on v.model_id = m.id where m.slug like 'bulk_%'`,
    );
    if (rows[0]?.models !== 10_000 || rows[0]?.versions !== 100_000)
      throw new Error(`the bench's database holds ${rows[0]?.models} bulk models / ${rows[0]?.versions} versions, not 10,000 / 100,000`);
    log(`filled 10,000 models / 100,000 versions in ${fmt((performance.now() - t) / 1000)} s`);
  } finally {
    await db.close();
  }
}

function percentile(xs: number[], p: number) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

async function main() {
  log(`FairMind bench — ${os.cpus().length} cores, Node ${process.version}, data in ${DATA_DIR}`);
  fs.rmSync(DATA_DIR, { recursive: true, force: true });
  if (!process.env.BENCH_SKIP_BUILD) {
    log("building the app (next build)…");
    const b = spawnSync("npx", ["next", "build"], { stdio: "ignore" });
    if (b.status !== 0) throw new Error("next build failed");
  }
  if (
    await fetch(`${APP}/api/health`).then(
      () => true,
      () => false,
    )
  )
    throw new Error(`port ${PORT} is taken: stop what runs there or set BENCH_PORT`);
  await fillDatabase();

  const server: ChildProcess = spawn("npx", ["next", "start", "-p", String(PORT)], {
    env: { ...process.env, DATA_DIR, MAX_UPLOAD_BYTES: String(8 * 1024 ** 3), NODE_OPTIONS: appNodeOptions() },
    stdio: ["ignore", "ignore", "inherit"],
    detached: true,
  });
  const stopServer = () => {
    try {
      process.kill(-server.pid!, "SIGTERM");
    } catch {}
  };
  process.on("exit", stopServer);
  const baseline = await startBaseline();
  try {
    await waitFor(`${APP}/api/health`, 120);
    const signIn = await fetch(`${APP}/api/v1/auth/sign-in`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email: "bob@demo.org", password: "fairmind-demo" }),
    });
    const auth = { authorization: `Bearer ${((await signIn.json()) as { access_token: string }).access_token}` };
    const cookie = { cookie: `fm_session=${auth.authorization.slice(7)}` };
    let n = 0;
    const put = (file: string) =>
      send(`${APP}/api/v1/orgs/demo_org/models/bench/versions/1.${++n}?filename=bench.safetensors`, file, { headers: auth });

    // Warm up the routes (first requests compile nothing in production, but open files and pools).
    const warm = makeModelFile(8 * MiB);
    await put(warm);

    log("\n— upload throughput (1 GiB) —");
    const gib = makeModelFile(1024 * MiB);
    const sizeMB = (1024 * MiB) / 1e6;
    const baseUp = [] as number[];
    const ourUp = [] as number[];
    for (let i = 0; i < 2; i++) {
      const b = await send(`http://127.0.0.1:${baseline.port}/`, gib);
      baseUp.push(sizeMB / b.seconds);
      const o = await put(gib);
      if (o.status !== 201) throw new Error(`upload failed: ${o.status} ${o.body}`);
      ourUp.push(sizeMB / o.seconds);
    }
    const bu = Math.max(...baseUp);
    const ou = Math.max(...ourUp);
    results.baseline_upload_mb_s = Math.round(bu);
    results.upload_mb_s = Math.round(ou);
    results.upload_ratio = Math.round((ou / bu) * 100) / 100;
    log(`baseline ${fmt(bu)} MB/s, ours ${fmt(ou)} MB/s → ratio ${results.upload_ratio}`);

    log("\n— download throughput (1 GiB) —");
    const expected = crypto.createHash("sha256").update(fs.readFileSync(gib)).digest("hex");
    // Interleaved, best of three per side: single samples of the same path move by a third here.
    const baseDown = [] as number[];
    const ourDown = [] as number[];
    for (let i = 0; i < 3; i++) {
      baseDown.push((await fetchHash(`http://127.0.0.1:${baseline.port}/?file=${encodeURIComponent(gib)}`)).seconds);
      const od = await fetchHash(`${APP}/api/v1/orgs/demo_org/models/bench/versions/1.2/download`, auth);
      if (od.sha256 !== expected) throw new Error("downloaded bytes differ");
      ourDown.push(od.seconds);
    }
    results.baseline_download_mb_s = Math.round(sizeMB / Math.min(...baseDown));
    results.download_mb_s = Math.round(sizeMB / Math.min(...ourDown));
    results.download_ratio = Math.round((results.download_mb_s / results.baseline_download_mb_s) * 100) / 100;
    log(`baseline ${results.baseline_download_mb_s} MB/s, ours ${results.download_mb_s} MB/s → ratio ${results.download_ratio}`);

    log(`\n— resumable upload (tus, ${LOCAL_RESUMABLE_CHUNK_BYTES / MiB} MiB chunks like the browser uploader, 1 GiB) —`);
    const tusSeconds = await new Promise<number>((resolve, reject) => {
      const t = performance.now();
      const up = new tus.Upload(fs.createReadStream(gib), {
        endpoint: `${APP}/api/v1/uploads`,
        chunkSize: LOCAL_RESUMABLE_CHUNK_BYTES,
        uploadSize: fs.statSync(gib).size,
        headers: auth,
        metadata: { org: "demo_org", model: "bench", version: `2.${++n}`, filename: "bench.safetensors" },
        onError: reject,
        onSuccess: () => resolve((performance.now() - t) / 1000),
      });
      up.start();
    });
    results.resumable_mb_s = Math.round(sizeMB / tusSeconds);
    results.resumable_ratio = Math.round((results.resumable_mb_s / bu) * 100) / 100;
    log(`ours ${results.resumable_mb_s} MB/s → ratio ${results.resumable_ratio} (vs the same baseline)`);

    await benchFileSets(
      { app: APP, auth, dir: TMP, send, watchRss: () => watchRss(server.pid!), log },
      { upload_mb_s: results.upload_mb_s, download_mb_s: results.download_mb_s },
      results,
    );

    log("\n— server memory during uploads —");
    let maxGrowth = 0;
    for (const mib of SIZES) {
      const file = makeModelFile(mib * MiB);
      const w = watchRss(server.pid!);
      const r = await put(file);
      const growth = w.stop();
      if (r.status !== 201) throw new Error(`upload of ${mib} MiB failed: ${r.status} ${r.body}`);
      results[`rss_growth_mib_${mib}`] = Math.round(growth);
      maxGrowth = Math.max(maxGrowth, growth);
      log(`${mib} MiB upload: RSS +${fmt(growth)} MiB`);
      if (mib >= 4096) fs.rmSync(file);
    }
    results.rss_growth_mib_max = Math.round(maxGrowth);

    log("\n— 16 concurrent 64 MiB uploads —");
    const f64 = makeModelFile(64 * MiB);
    const t = performance.now();
    const all = await Promise.all(Array.from({ length: 16 }, () => put(f64)));
    const secs = (performance.now() - t) / 1000;
    results.concurrent_ok = all.filter((r) => r.status === 201).length;
    results.concurrent_mb_s = Math.round((16 * 64 * MiB) / 1e6 / secs);
    log(`${results.concurrent_ok}/16 succeeded, ${results.concurrent_mb_s} MB/s aggregate`);

    log("\n— list latency with 10,000 models / 100,000 versions —");
    const queries = ["", "?sort=name", "?sort=size", "?q=bulk%20model%2042", "?framework=pytorch", "?tag=team3", "?type=nlp&sort=created"];
    const lat: number[] = [];
    for (let i = 0; i < 210; i++) {
      const t0 = performance.now();
      const r = await fetch(`${APP}/api/v1/orgs/demo_org/models${queries[i % queries.length]}`, { headers: auth });
      await r.arrayBuffer();
      if (i >= 10) lat.push(performance.now() - t0);
    }
    results.list_p50_ms = Math.round(percentile(lat, 50) * 10) / 10;
    results.list_p95_ms = Math.round(percentile(lat, 95) * 10) / 10;
    log(`p50 ${results.list_p50_ms} ms, p95 ${results.list_p95_ms} ms`);
    const page: number[] = [];
    for (let i = 0; i < 23; i++) {
      const t0 = performance.now();
      const r = await fetch(`${APP}/orgs/demo_org`, { headers: cookie });
      const html = await r.text();
      if (!html.includes('data-testid="models-table"')) throw new Error("model browser did not render");
      if (i >= 3) page.push(performance.now() - t0);
    }
    results.browser_first_page_ms = Math.round(percentile(page, 50));
    log(`model browser first page (server-rendered HTML): p50 ${results.browser_first_page_ms} ms`);
  } finally {
    baseline.close();
    stopServer();
  }

  log("\n— scanner throughput —");
  try {
    const inspect = await import("@/lib/inspect/bench");
    results.scan_mb_s = Math.round(await inspect.measureScanThroughput());
    log(`big-array pickle: ${results.scan_mb_s} MB/s`);
    results.scan_dense_pickle_mb_s = Math.round(await inspect.measureDensePickleThroughput());
    log(`dense pickle (many small objects): ${results.scan_dense_pickle_mb_s} MB/s`);
    results.scan_torch_zip_mb_s = Math.round(await inspect.measureTorchZipThroughput());
    log(`PyTorch zip: ${results.scan_torch_zip_mb_s} MB/s`);
    results.scan_unknown_binary_mb_s = Math.round(await inspect.measureUnknownContentThroughput("binary"));
    results.scan_unknown_text_mb_s = Math.round(await inspect.measureUnknownContentThroughput("text"));
    log(`unknown content: binary ${results.scan_unknown_binary_mb_s} MB/s, text ${results.scan_unknown_text_mb_s} MB/s`);
    const worst = await inspect.measureWorstSecondsPer10MB();
    results.scan_worst_seconds_per_10mb = Math.round(worst.secondsPer10MB * 1000) / 1000;
    log(`slowest file of the corpora: ${worst.file}, ${results.scan_worst_seconds_per_10mb} s per 10 MB`);
  } catch (e) {
    log(`scanner benchmark unavailable: ${(e as Error).message}`);
  }
  benchSupabase(results, log);
  fs.rmSync(TMP, { recursive: true, force: true });
  console.log(JSON.stringify(results));
}

main().catch((e) => {
  console.error(e);
  fs.rmSync(TMP, { recursive: true, force: true });
  process.exit(1);
});
