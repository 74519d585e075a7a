// npm run bench, supabase mode (issue 9): when the real-Supabase lane's environment names a Storage
// server (README, "Real Supabase Storage lane"), the lane's throughput measurement runs the app in
// supabase mode against it: the same 1 GiB file through the app (our resumable endpoint, one PUT) and
// straight to Storage, downloads both ways, the app's memory. Its figures come back as JSON.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

export function supabaseConfigured(env: NodeJS.ProcessEnv = process.env): boolean {
  return ["SUPABASE_TEST_URL", "SUPABASE_TEST_ANON_KEY", "SUPABASE_TEST_JWT_SECRET", "SUPABASE_TEST_DB_URL"].every((k) => env[k]);
}

export function benchSupabase(results: Record<string, number>, log: (...a: unknown[]) => void): void {
  if (!supabaseConfigured()) {
    log("\n— supabase mode: skipped (set the SUPABASE_TEST_* variables of the real-Supabase lane to measure) —");
    return;
  }
  const mib = Number(process.env.BENCH_SUPABASE_MIB ?? 1024);
  log(`\n— supabase mode against ${process.env.SUPABASE_TEST_URL} (${mib} MiB, the lane's throughput run) —`);
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "fm-bench-sb-")), "throughput.json");
  const r = spawnSync("npx", ["vitest", "run", "--config", "vitest.supabase.config.mts", "throughput"], {
    env: { ...process.env, SBLANE_THROUGHPUT_MIB: String(mib), SBLANE_BENCH_OUT: out },
    stdio: ["ignore", "inherit", "inherit"],
  });
  if (r.status !== 0 || !fs.existsSync(out)) throw new Error("the supabase throughput run failed (see above)");
  const t = JSON.parse(fs.readFileSync(out, "utf8")) as Record<string, number>;
  results.supabase_upload_ratio = t.upload_ratio!;
  results.supabase_download_ratio = t.download_ratio!;
  results.supabase_upload_app_mb_s = t.upload_app_resumable!;
  results.supabase_upload_straight_mb_s = t.upload_straight!;
  results.supabase_download_app_mb_s = t.download_app!;
  results.supabase_download_straight_mb_s = t.download_straight!;
  results.supabase_rss_growth_mib = Math.max(t.rss_growth_mib_upload ?? 0, t.rss_growth_mib_download ?? 0);
  // The same downloads with curl as the client (when installed): reported, not the target.
  if (t.download_ratio_curl !== undefined) results.supabase_download_ratio_curl = t.download_ratio_curl;
  log(
    `upload ${t.upload_app_resumable} MB/s through the app vs ${t.upload_straight} straight → ratio ${t.upload_ratio}; ` +
      `download ${t.download_app} vs ${t.download_straight} → ratio ${t.download_ratio}; app RSS +${results.supabase_rss_growth_mib} MiB` +
      (t.download_ratio_curl !== undefined
        ? `; with curl as the client: download ${t.download_app_curl} vs ${t.download_straight_curl} → ratio ${t.download_ratio_curl}`
        : ""),
  );
}
