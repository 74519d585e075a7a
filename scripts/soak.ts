// npm run soak [-- --quick] [--only=mixed_load,kill_mid_upload,…] [--keep]
//
// Load and faults of issue 10 (items 8–13), against the production build (.next) on loopback. It starts
// its own servers on ports 3400–3499 with temporary data directories (and, for postgres mode, its own
// database on the local server, dropped at the end), stops by itself, and prints one JSON line last:
// every figure next to its bar and `pass` per check. Exit code 0 when every check passes, 1 when one
// does not, 2 when the soak itself broke.
//
//   mixed_load              200 clients listing models + 20 uploaders of 20 MB each, 60 s (embedded)
//   kill_mid_upload         kill -9 during a PUT and during a tus PATCH; the same user uploads the same
//                           version again: seconds until it succeeds (bar 60 s)
//   unauthenticated_bodies  five parallel 100 MB bodies to POST /api/v1/auth/sign-in: RSS growth (bar 64 MiB)
//   locked_data_dir         a second server on the same data directory exits at start, clearly
//   postgres_connection_lost  pg_terminate_backend on the app's connections during reserve and finalize:
//                           503 unavailable + Retry-After, nothing half done (postgres mode)
//   alias_race              20 concurrent moves of one alias (postgres mode): every accepted move recorded,
//                           in order, with an unbroken from → to chain (history and audit trail)
//   tampered_encrypted_object  STORAGE_ENCRYPTION_KEY set, a byte flipped on disk: a clear error before
//                           the headers where possible, never wrong bytes, egress = bytes actually sent
//
// --quick shortens the load (15 s) and the waits; the bars stay the same.
import { spawnSync } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { listFiles, makeModelFile } from "./soak/files";
import { download, json, percentile, request, streamBody, tusMetadata, type Reply } from "./soak/http";
import { killAll, startServer, waitHealthy, watchRss, type AppServer } from "./soak/server";

const args = process.argv.slice(2);
const QUICK = args.includes("--quick");
const KEEP = args.includes("--keep");
const ONLY = args
  .find((a) => a.startsWith("--only="))
  ?.slice(7)
  .split(",");
const MiB = 1024 * 1024;
const PORTS = { embedded: 3401, second: 3402, postgres: 3410, encrypted: 3420 };
const PG_ADMIN = process.env.TEST_PG_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const PG_DB = `fairmind_soak_${process.pid}`;
const PG_URL = PG_ADMIN.replace(/\/[^/]*$/, `/${PG_DB}`);
const TMP = fs.mkdtempSync(path.join(os.tmpdir(), "fm-soak-"));
const FIXTURE = "test/fixtures/models/churn_model_v1.onnx";
/** Pause of a listing client between two lists (mixed_load). */
const THINK_MS = 1000;

type Auth = Record<string, string>;
type Check = Record<string, unknown> & { pass: boolean | null };
const results: Record<string, Check> = {};

const log = (...a: unknown[]) => console.log(...a);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const round = (n: number, d = 1) => (Number.isFinite(n) ? Math.round(n * 10 ** d) / 10 ** d : null);
/** A figure next to its bar. */
const atMost = (value: number | null, limit: number) => ({ value, bar: `<= ${limit}`, pass: value !== null && value <= limit });
const atLeast = (value: number | null, limit: number) => ({ value, bar: `>= ${limit}`, pass: value !== null && value >= limit });
const equals = (value: unknown, want: unknown) => ({ value, bar: `= ${JSON.stringify(want)}`, pass: value === want });
const allPass = (c: Record<string, unknown>) =>
  Object.values(c).every((v) => !(v && typeof v === "object" && "pass" in (v as object)) || (v as { pass: unknown }).pass === true);
const wants = (name: string) => !ONLY || ONLY.includes(name);

async function signIn(s: AppServer, email: string): Promise<Auth> {
  const r = await request(`${s.url}/api/v1/auth/sign-in`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email, password: "fairmind-demo" }),
  });
  const token = json<{ access_token: string }>(r)?.access_token;
  if (!token) throw new Error(`sign-in of ${email} on ${s.name} failed: ${r.status} ${r.body.toString().slice(0, 200)}`);
  return { authorization: `Bearer ${token}` };
}

const putUrl = (s: AppServer, model: string, version: string, ext = "safetensors") =>
  `${s.url}/api/v1/orgs/demo_org/models/${model}/versions/${version}?filename=m.${ext}`;
const errorCode = (r: Reply) => json<{ error?: { code?: string } }>(r)?.error?.code;

/** Where a version's bytes live on a local-disk server. */
const storedFile = (s: AppServer, model: string, version: string, ext = "safetensors") =>
  path.join(s.dataDir, "storage", "ai-models", "demo_org", `${model}_v${version}.${ext}`);

// -------------------------------------------------------------------------------------------------
// Issue 10 §12: mixed load

async function mixedLoad(a: AppServer, bob: Auth) {
  const seconds = QUICK ? 15 : 60;
  const size = 20 * MiB;
  const file = makeModelFile(TMP, size, "load-20m.safetensors");
  const totalMB = (20 * size) / 1e6;

  log(`  unloaded: 20 concurrent uploads of 20 MB…`);
  const t0 = performance.now();
  const unloaded = await Promise.all(range(20).map((i) => streamBody(putUrl(a, "soak_unloaded", `1.${i}`), { file }, { headers: bob })));
  const unloadedSeconds = (performance.now() - t0) / 1000;
  const unloadedRate = unloaded.every((r) => r.status === 201) ? totalMB / unloadedSeconds : NaN;

  log(`  loaded: 200 listing clients + 20 uploaders for ${seconds} s…`);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 200 });
  const latencies: number[] = [];
  const errors: string[] = [];
  const rss = watchRss(a);
  const start = performance.now();
  const end = start + seconds * 1000;
  // A listing client is someone with the model browser open: a list, a second to read it, the next
  // list (THINK_MS). 200 of them offer about 200 lists a second. (Without the pause every client is a
  // tight loop and latency only measures the queue: see CLOSED_LOOP below.)
  const listers = range(200).map(async (i) => {
    await sleep((i * THINK_MS) / 200); // spread the first requests over one think time
    while (performance.now() < end) {
      const r = await request(`${a.url}/api/v1/orgs/demo_org/models`, { headers: bob, agent, timeoutMs: 60_000 });
      if (r.status === 200) latencies.push(r.ms);
      else errors.push(`list ${r.status} ${r.error ?? ""}`);
      await sleep(THINK_MS);
    }
  });
  const grace = QUICK ? 60 : 120;
  const uploads = range(20).map((i) =>
    streamBody(putUrl(a, "soak_loaded", `1.${i}`), { file }, { headers: bob, timeoutMs: (seconds + grace) * 1000 }).then((r) => {
      if (r.status !== 201) errors.push(`upload ${r.status} ${r.error ?? r.body.toString().slice(0, 120)}`);
      return { ...r, at: (performance.now() - start) / 1000 };
    }),
  );
  await Promise.all(listers);
  const windowEnd = (performance.now() - start) / 1000;
  const done = await Promise.all(uploads);
  const peak = rss.stop().peakMiB;
  agent.destroy();
  const ok = done.filter((r) => r.status === 201);
  const inWindow = ok.filter((r) => r.at <= windowEnd).length;
  const lastAt = Math.max(...ok.map((r) => r.at), 0);
  const loadedRate = ok.length ? (ok.length * size) / 1e6 / lastAt : 0;
  return {
    seconds,
    list_requests: latencies.length,
    list_p50_ms: round(percentile(latencies, 50)),
    list_p95_ms: atMost(round(percentile(latencies, 95)), 300),
    uploads_finished_in_window: equals(inWindow, 20),
    uploads_finished_in_all: ok.length,
    upload_p50_s: round(
      percentile(
        ok.map((r) => r.ms / 1000),
        50,
      ),
    ),
    unloaded_upload_mb_s: round(unloadedRate),
    loaded_upload_mb_s: round(loadedRate),
    upload_rate_vs_unloaded: atLeast(round(loadedRate / unloadedRate, 2), 0.5),
    errors: equals(errors.length, 0),
    error_examples: [...new Set(errors)].slice(0, 5),
    rss_peak_mib: atMost(round(peak, 0), 512),
  };
}

// -------------------------------------------------------------------------------------------------
// Issue 10 §8: kill -9 during an upload, then the same user uploads the same version again

async function killAndRestart(a: AppServer): Promise<{ server: AppServer; restartSeconds: number }> {
  try {
    process.kill(-a.child.pid!, "SIGKILL");
  } catch {}
  while (!a.exited()) await sleep(50);
  const server = startServer("embedded", a.port, a.dataDir, a.env);
  return { server, restartSeconds: round(await waitHealthy(server), 1) ?? NaN };
}

/** Retries `attempt` every 2 s until it reports success or `limit` seconds pass. */
async function retryUntil(limit: number, attempt: () => Promise<{ ok: boolean; status: string }>) {
  const t = performance.now();
  const statuses: string[] = [];
  while ((performance.now() - t) / 1000 < limit) {
    const r = await attempt();
    statuses.push(r.status);
    if (r.ok) return { seconds: round((performance.now() - t) / 1000, 1), statuses };
    await sleep(2000);
  }
  return { seconds: null, statuses };
}

async function killMidUpload(holder: { a: AppServer }, bob: Auth) {
  const size = 20 * MiB;
  const file = makeModelFile(TMP, size, "kill-20m.safetensors");
  const limit = QUICK ? 70 : 90;

  log("  PUT, killed after 5 MB…");
  let killed = false;
  let killedAt = 0;
  await streamBody(
    putUrl(holder.a, "soak_kill_put", "1.0"),
    { file },
    {
      headers: bob,
      chunk: 256 * 1024,
      pauseMs: 20,
      onSent: (sent) => {
        if (!killed && sent >= 5 * MiB) {
          killed = true;
          killedAt = sent;
          process.kill(-holder.a.child.pid!, "SIGKILL");
        }
      },
    },
  );
  const put1 = await killAndRestart(holder.a);
  holder.a = put1.server;
  const putRetry = await retryUntil(limit, async () => {
    const r = await streamBody(putUrl(holder.a, "soak_kill_put", "1.0"), { file }, { headers: bob });
    return { ok: r.status === 201, status: `${r.status}${errorCode(r) ? ` ${errorCode(r)}` : ""}` };
  });

  log("  tus PATCH, killed after 5 MB…");
  const tusHeaders = { ...bob, "tus-resumable": "1.0.0" };
  const createTus = () =>
    request(`${holder.a.url}/api/v1/uploads`, {
      method: "POST",
      headers: {
        ...tusHeaders,
        "upload-length": String(size),
        "upload-metadata": tusMetadata({ org: "demo_org", model: "soak_kill_tus", version: "1.0", filename: "m.safetensors" }),
      },
    });
  const created = await createTus();
  const location = String(created.headers["location"] ?? "");
  const uploadPath = new URL(location || "/missing", holder.a.url).pathname;
  killed = false;
  await streamBody(
    `${holder.a.url}${uploadPath}`,
    { file },
    {
      method: "PATCH",
      headers: { ...tusHeaders, "upload-offset": "0", "content-type": "application/offset+octet-stream" },
      chunk: 256 * 1024,
      pauseMs: 20,
      onSent: (sent) => {
        if (!killed && sent >= 5 * MiB) {
          killed = true;
          process.kill(-holder.a.child.pid!, "SIGKILL");
        }
      },
    },
  );
  const tus1 = await killAndRestart(holder.a);
  holder.a = tus1.server;
  const resume = await request(`${holder.a.url}${uploadPath}`, { method: "HEAD", headers: tusHeaders });
  const tusRetry = await retryUntil(limit, async () => {
    const c = await createTus();
    if (c.status !== 201) return { ok: false, status: `create ${c.status}${errorCode(c) ? ` ${errorCode(c)}` : ""}` };
    const p = new URL(String(c.headers["location"]), holder.a.url).pathname;
    const r = await streamBody(
      `${holder.a.url}${p}`,
      { file },
      { method: "PATCH", headers: { ...tusHeaders, "upload-offset": "0", "content-type": "application/offset+octet-stream" } },
    );
    return { ok: r.status === 200, status: `patch ${r.status}` };
  });
  await sleep(1000);
  const tusDir = path.join(holder.a.dataDir, "tus");
  const tmpDir = path.join(holder.a.dataDir, "storage", "ai-models", ".tmp");
  return {
    put_killed_after_mb: round(killedAt / MiB, 1),
    put_restart_s: put1.restartSeconds,
    put_retry_until_success_s: atMost(putRetry.seconds, 60),
    put_retry_answers: putRetry.statuses.slice(0, 8),
    tus_created: created.status,
    tus_restart_s: tus1.restartSeconds,
    tus_old_upload_head: `${resume.status} offset ${resume.headers["upload-offset"] ?? "-"}`,
    tus_retry_until_success_s: atMost(tusRetry.seconds, 60),
    tus_retry_answers: tusRetry.statuses.slice(0, 8),
    // Informational (issue 10 §8 asks that both kinds be swept): what the dead uploads left behind.
    orphan_tus_files: listFiles(tusDir).length,
    orphan_tmp_files: listFiles(tmpDir).length,
  };
}

// -------------------------------------------------------------------------------------------------
// Issue 10 §1: unauthenticated memory exhaustion

/** Sends headers declaring `declared` bytes and `send` bytes of body; seconds until an answer (null: none). */
function declaredButShort(
  url: string,
  declared: number,
  send: number,
  waitMs: number,
): Promise<{ seconds: number | null; status: number }> {
  const u = new URL(url);
  const t = performance.now();
  return new Promise((resolve) => {
    const req = http.request({
      host: u.hostname,
      port: u.port,
      path: u.pathname,
      method: "POST",
      agent: false,
      headers: { "content-type": "application/json", "content-length": String(declared) },
    });
    const timer = setTimeout(() => {
      req.destroy();
      resolve({ seconds: null, status: 0 });
    }, waitMs);
    req.on("response", (res) => {
      clearTimeout(timer);
      res.resume();
      resolve({ seconds: round((performance.now() - t) / 1000, 2), status: res.statusCode ?? 0 });
      req.destroy();
    });
    req.on("error", () => {
      clearTimeout(timer);
      resolve({ seconds: round((performance.now() - t) / 1000, 2), status: -1 });
    });
    req.write(Buffer.alloc(send, 0x20));
  });
}

async function unauthenticatedBodies(a: AppServer) {
  await sleep(2000);
  const body = Buffer.alloc(MiB, 0x61);
  body.write('{"email":"');
  const rss = watchRss(a);
  const replies = await Promise.all(
    range(5).map(() =>
      streamBody(
        `${a.url}/api/v1/auth/sign-in`,
        { buffer: body, size: 100 * MiB },
        { method: "POST", headers: { "content-type": "application/json" }, timeoutMs: 180_000 },
      ),
    ),
  );
  await sleep(500);
  const r = rss.stop();
  const short = await declaredButShort(`${a.url}/api/v1/auth/sign-in`, 100 * MiB, 1024, 10_000);
  return {
    rss_base_mib: round(r.baseMiB, 0),
    rss_growth_mib: atMost(round(r.growthMiB, 0), 64),
    answers: replies.map((x) => x.status || x.error),
    mb_sent_before_answer_max: round(Math.max(...replies.map((x) => x.sent)) / MiB, 1),
    declared_100mb_sent_1kb_answered_after_s: short.seconds ?? "no answer within 10 s",
  };
}

// -------------------------------------------------------------------------------------------------
// Issue 10 §9: a second server on a locked data directory

async function lockedDataDir(a: AppServer) {
  const b = startServer("second", PORTS.second, a.dataDir, { ...a.env, PORT: String(PORTS.second) });
  const t = performance.now();
  while (!b.exited() && performance.now() - t < (QUICK ? 30_000 : 60_000)) await sleep(250);
  const exited = b.exited();
  const message = b
    .output()
    .split("\n")
    .find((l) => /lock|in use|already/i.test(l));
  let runningAnswer: string | undefined;
  if (!exited) {
    const h = await request(`${b.url}/api/health`, { timeoutMs: 10_000 });
    const s = await request(`${b.url}/api/v1/auth/sign-in`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: '{"email":"bob@demo.org","password":"fairmind-demo"}',
      timeoutMs: 30_000,
    });
    runningAnswer = `health ${h.status} ${h.body.toString().slice(0, 300)}; sign-in ${s.status}`;
    await b.stop("SIGKILL");
  }
  const health = (await request(`${a.url}/api/health`)).body.toString();
  const leaks = (text: string) => text.includes(a.dataDir) || /"pid"|\bpid\b/i.test(text);
  return {
    second_server_exited: equals(Boolean(exited), true),
    exit_code: exited?.code ?? null,
    seconds_to_exit: exited ? round((performance.now() - t) / 1000, 1) : null,
    clear_message: { value: message?.trim().slice(0, 300) ?? null, bar: "mentions the lock", pass: Boolean(message) },
    while_running_it_answered: runningAnswer ?? null,
    second_server_leaked_path_or_pid: equals(runningAnswer ? leaks(runningAnswer) : false, false),
    first_server_health_leaks_path_or_pid: equals(leaks(health), false),
  };
}

// -------------------------------------------------------------------------------------------------
// Issue 10 §10: Postgres connection lost during reserve and finalize

async function postgresConnectionLost(p: AppServer, bob: Auth, killer: pg.Client) {
  const file = makeModelFile(TMP, 4 * MiB, "pg-4m.safetensors");
  let terminated = 0;
  /** Terminates the app's connections every few ms for `ms`. */
  const terminateFor = async (ms: number) => {
    const end = performance.now() + ms;
    while (performance.now() < end) {
      const r = await killer.query<{ n: string }>(
        "select count(pg_terminate_backend(pid)) as n from pg_stat_activity where datname = $1 and application_name = 'fairmind'",
        [PG_DB],
      );
      terminated += Number(r.rows[0]?.n ?? 0);
      await sleep(5);
    }
  };
  const attempts: { phase: string; version: string; reply: Reply }[] = [];
  const n = QUICK ? 4 : 8;
  for (const i of range(n)) {
    // reserve: the version is reserved from the headers alone, while the body is held back
    const version = `1.${i}`;
    const [reply] = await Promise.all([
      streamBody(putUrl(p, "soak_pg_reserve", version), { file }, { headers: bob, holdMs: 400 }),
      terminateFor(400),
    ]);
    attempts.push({ phase: "reserve", version, reply });
  }
  for (const i of range(n)) {
    // finalize: after the last byte (hash checked, inspected, then one transaction)
    const version = `1.${i}`;
    let killing: Promise<void> | undefined;
    const reply = await streamBody(
      putUrl(p, "soak_pg_finalize", version),
      { file },
      { headers: bob, onSent: (sent) => void (sent === 4 * MiB && (killing = terminateFor(1500))) },
    );
    await killing;
    attempts.push({ phase: "finalize", version, reply });
  }
  await sleep(1000);
  const healthy = (await request(`${p.url}/api/health`)).status === 200;
  const answers: Record<string, number> = {};
  const wrong: string[] = [];
  const halfDone: string[] = [];
  for (const { phase, version, reply } of attempts) {
    const code = errorCode(reply);
    const key = `${phase} ${reply.status}${code ? ` ${code}` : ""}${reply.headers["retry-after"] ? " +Retry-After" : ""}`;
    answers[key] = (answers[key] ?? 0) + 1;
    const model = phase === "reserve" ? "soak_pg_reserve" : "soak_pg_finalize";
    if (reply.status === 201) continue;
    if (!(reply.status === 503 && code === "unavailable" && reply.headers["retry-after"]))
      wrong.push(`${phase} ${version}: ${reply.status} ${reply.body.toString().slice(0, 160) || reply.error}`);
    // Nothing half done: no visible version, no stored bytes, and the version can be uploaded at once.
    const v = await request(`${p.url}/api/v1/orgs/demo_org/models/${model}/versions/${version}`, { headers: bob });
    if (v.status !== 404) halfDone.push(`${phase} ${version}: the failed version answers ${v.status}`);
    if (fs.existsSync(storedFile(p, model, version))) halfDone.push(`${phase} ${version}: its bytes are stored`);
    const again = await retryUntil(10, async () => {
      const r = await streamBody(putUrl(p, model, version), { file }, { headers: bob });
      return { ok: r.status === 201, status: String(r.status) };
    });
    if (again.seconds === null) halfDone.push(`${phase} ${version}: uploading it again answers ${again.statuses.join(",")}`);
  }
  const faults = attempts.filter((x) => x.reply.status !== 201).length;
  return {
    attempts: attempts.length,
    backends_terminated: terminated,
    faults_that_reached_a_request: faults,
    answers,
    answered_503_unavailable_with_retry_after: {
      value: wrong.length ? wrong.slice(0, 5) : "all",
      bar: "every failed request",
      pass: wrong.length === 0 && faults > 0,
    },
    nothing_half_done: { value: halfDone.length ? halfDone.slice(0, 5) : "none", bar: "none", pass: halfDone.length === 0 },
    server_healthy_after: equals(healthy, true),
  };
}

// -------------------------------------------------------------------------------------------------
// Issue 10 §13: 20 concurrent moves of one alias

async function aliasRace(p: AppServer, bob: Auth) {
  const model = "soak_alias";
  const body = fs.readFileSync(FIXTURE);
  const VERSIONS = 5;
  for (const i of range(VERSIONS)) {
    const r = await request(putUrl(p, model, `1.${i}`, "onnx"), { method: "PUT", headers: bob, body });
    if (r.status !== 201) throw new Error(`alias race setup: upload 1.${i} → ${r.status} ${r.body.toString().slice(0, 200)}`);
  }
  // 20 moves at once over 5 versions: some repeat the version the alias already has by then.
  const moves = await Promise.all(
    range(20).map((i) =>
      request(`${p.url}/api/v1/orgs/demo_org/models/${model}/aliases/production`, {
        method: "PUT",
        headers: { ...bob, "content-type": "application/json" },
        body: JSON.stringify({ version: `1.${(i * 3) % VERSIONS}` }),
      }),
    ),
  );
  const accepted = moves.filter((r) => r.status === 200).length;
  const errors = moves.filter((r) => r.status >= 500 || r.status === 0).length;
  const a = json<{ items: { alias: string; version: string }[]; history: { alias: string; from: string | null; to: string }[] }>(
    await request(`${p.url}/api/v1/orgs/demo_org/models/${model}/aliases`, { headers: bob }),
  );
  const current = a?.items.find((i) => i.alias === "production")?.version ?? null;
  // Both records list newest first: walk them oldest first; each step must start where the last ended.
  const chainBreaks = (steps: { from: string | null; to: string | null }[]) => {
    let at: string | null = null;
    let breaks = 0;
    for (const s of steps) {
      if (s.from !== at) breaks++;
      at = s.to;
    }
    return { breaks, end: at };
  };
  const history = (a?.history ?? []).filter((h) => h.alias === "production").reverse();
  const audit = json<{ items: { details: { alias?: string; from?: string | null; to?: string } | null }[] }>(
    await request(`${p.url}/api/v1/orgs/demo_org/audit?model=${model}&action=alias.move&limit=200`, { headers: bob }),
  );
  const events = (audit?.items ?? [])
    .filter((e) => e.details?.alias === "production")
    .reverse()
    .map((e) => ({ from: e.details?.from ?? null, to: e.details?.to ?? null }));
  const h = chainBreaks(history);
  const e = chainBreaks(events);
  return {
    moves: 20,
    accepted: accepted,
    refused: moves.filter((r) => r.status >= 400 && r.status < 500).map((r) => r.status),
    server_errors: equals(errors, 0),
    // Every accepted move is in the audit trail; the history skips moves to the version already there.
    audit_events: equals(events.length, accepted),
    audit_chain_breaks: equals(e.breaks, 0),
    history_entries: history.length,
    history_chain_breaks: equals(h.breaks, 0),
    alias_ends_where_the_history_ends: equals(current === h.end && current === e.end, true),
  };
}

// -------------------------------------------------------------------------------------------------
// Issue 10 §11: a tampered encrypted object

async function tamperedEncryptedObject(e: AppServer, bob: Auth) {
  const size = MiB;
  const file = makeModelFile(TMP, size, "tamper-1m.safetensors");
  const original = fs.readFileSync(file);
  for (const v of ["1.0", "1.1"]) {
    const r = await streamBody(putUrl(e, "soak_tamper", v), { file }, { headers: bob });
    if (r.status !== 201) throw new Error(`tamper setup: upload ${v} → ${r.status} ${r.body.toString().slice(0, 200)}`);
  }
  const flip = (v: string, where: (n: number) => number) => {
    const f = storedFile(e, "soak_tamper", v);
    const fd = fs.openSync(f, "r+");
    const at = where(fs.fstatSync(fd).size);
    const b = Buffer.alloc(1);
    fs.readSync(fd, b, 0, 1, at);
    b[0] = b[0]! ^ 0xff;
    fs.writeSync(fd, b, 0, 1, at);
    fs.closeSync(fd);
  };
  flip("1.0", () => 180 + 100); // inside the first 64 KiB chunk, just after the 180-byte header
  flip("1.1", (n) => n - 100); // inside the last chunk
  const dl = (v: string) => download(`${e.url}/api/v1/orgs/demo_org/models/soak_tamper/versions/${v}/download`, bob);
  const first = await dl("1.0");
  const last = await dl("1.1");
  await sleep(500);
  const audit = json<{ items: { action: string; version: string | null; bytes: number | null }[] }>(
    await request(`${e.url}/api/v1/orgs/demo_org/audit?model=soak_tamper&action=version.download&limit=50`, { headers: bob }),
  );
  const counted = (v: string) => (audit?.items ?? []).filter((i) => i.version === v).reduce((s, i) => s + Number(i.bytes ?? 0), 0);
  const isPrefix = (b: Buffer) => original.subarray(0, b.length).equals(b);
  const firstError = json<{ error?: { code?: string; message?: string } }>(first)?.error;
  return {
    first_chunk_answer: `${first.status}${first.aborted ? " (connection broken)" : ""} ${first.body.toString().slice(0, 160)}`,
    first_chunk_clear_error_before_headers: {
      value: first.status,
      bar: "a 4xx/5xx in the JSON error shape, not an empty reply",
      pass: first.status >= 400 && Boolean(firstError?.message),
    },
    last_chunk_answer: `${last.status}${last.aborted ? " (stream broken)" : ""}, ${last.body.length} of ${size} bytes`,
    last_chunk_never_wrong_bytes: {
      value: isPrefix(last.body) && (last.aborted || last.status >= 400) && last.body.length < size,
      bar: "a prefix of the file, then a broken stream",
      pass: isPrefix(last.body) && (last.aborted || last.status >= 400) && last.body.length < size,
    },
    first_chunk_egress_counted_bytes: atMost(counted("1.0"), first.status === 200 ? first.body.length : 0),
    last_chunk_egress_counted_bytes: atMost(counted("1.1"), last.body.length),
    last_chunk_bytes_received: last.body.length,
  };
}

// -------------------------------------------------------------------------------------------------

async function run<T extends Record<string, unknown>>(name: string, fn: () => Promise<T>) {
  if (!wants(name)) return;
  log(`\n— ${name} —`);
  const t = performance.now();
  try {
    const figures = await fn();
    results[name] = { ...figures, pass: allPass(figures) };
  } catch (e) {
    results[name] = { error: (e as Error).message.slice(0, 500), pass: false };
  }
  log(JSON.stringify(results[name]));
  log(`(${round((performance.now() - t) / 1000, 0)} s)`);
}

async function main() {
  if (!fs.existsSync(".next/BUILD_ID")) throw new Error("no production build in .next: run `npm run build` first");
  log(
    `FairMind soak${QUICK ? " (--quick)" : ""} — ${os.cpus().length} cores, Node ${process.version}, build ${fs.readFileSync(".next/BUILD_ID", "utf8").trim()}, temp ${TMP}`,
  );

  if (["mixed_load", "kill_mid_upload", "unauthenticated_bodies", "locked_data_dir"].some(wants)) {
    log("\nstarting the embedded server…");
    const holder = { a: startServer("embedded", PORTS.embedded, path.join(TMP, "embedded")) };
    try {
      log(`healthy after ${round(await waitHealthy(holder.a), 1)} s`);
      const bob = await signIn(holder.a, "bob@demo.org");
      await run("mixed_load", () => mixedLoad(holder.a, bob));
      await run("unauthenticated_bodies", () => unauthenticatedBodies(holder.a));
      await run("locked_data_dir", () => lockedDataDir(holder.a));
      await run("kill_mid_upload", () => killMidUpload(holder, bob));
    } finally {
      await holder.a.stop();
    }
  }

  if (["postgres_connection_lost", "alias_race"].some(wants)) {
    log(`\ncreating database ${PG_DB} and seeding it…`);
    const admin = new pg.Client({ connectionString: PG_ADMIN });
    await admin.connect();
    await admin.query(`drop database if exists ${PG_DB} with (force)`);
    await admin.query(`create database ${PG_DB}`);
    const pDir = path.join(TMP, "postgres");
    const seed = spawnSync("npm", ["run", "seed"], { env: { ...process.env, DATABASE_URL: PG_URL, DATA_DIR: pDir }, encoding: "utf8" });
    if (seed.status !== 0) throw new Error(`seeding ${PG_DB} failed: ${seed.stderr.slice(-1000)}`);
    const p = startServer("postgres", PORTS.postgres, pDir, { DATABASE_URL: PG_URL });
    try {
      log(`healthy after ${round(await waitHealthy(p), 1)} s`);
      const bob = await signIn(p, "bob@demo.org");
      await run("postgres_connection_lost", () => postgresConnectionLost(p, bob, admin));
      await run("alias_race", () => aliasRace(p, bob));
    } finally {
      await p.stop();
      await admin.query(`drop database if exists ${PG_DB} with (force)`).catch(() => {});
      await admin.end();
    }
  }

  if (wants("tampered_encrypted_object")) {
    log("\nstarting an embedded server with STORAGE_ENCRYPTION_KEY…");
    const e = startServer("encrypted", PORTS.encrypted, path.join(TMP, "encrypted"), {
      STORAGE_ENCRYPTION_KEY: crypto.randomBytes(32).toString("base64"),
    });
    try {
      log(`healthy after ${round(await waitHealthy(e), 1)} s`);
      const bob = await signIn(e, "bob@demo.org");
      await run("tampered_encrypted_object", () => tamperedEncryptedObject(e, bob));
    } finally {
      await e.stop();
    }
  }
}

const cleanup = () => {
  killAll();
  if (!KEEP) fs.rmSync(TMP, { recursive: true, force: true });
};
process.on("SIGINT", () => {
  cleanup();
  process.exit(130);
});

main()
  .then(() => {
    cleanup();
    const pass = Object.values(results).every((r) => r.pass === true);
    console.log(JSON.stringify({ soak: QUICK ? "quick" : "full", pass, checks: results }));
    process.exit(pass ? 0 : 1);
  })
  .catch((e) => {
    console.error(e);
    cleanup();
    console.log(JSON.stringify({ soak: QUICK ? "quick" : "full", pass: false, error: (e as Error).message, checks: results }));
    process.exit(2);
  });
