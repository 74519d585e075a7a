import v8 from "node:v8";

// How the app's Node process is started: `npm start` (package.json) and every script or test that
// starts `next start` itself (the real-Supabase lane, npm run bench, npm run soak) pass these options.
//
// --max-semi-space-size=128 (MiB; Node 20's default is 16): fewer scavenges while a transfer's
// 64 KiB socket buffers stream through. Measured on the real-Supabase lane (2 cores, docs/supabase.md
// "Throughput") it made the slow download rounds rarer, not gone; their cause was V8's heap limit
// (HEAP_GROWTH_V8_FLAG below), which a bigger or smaller young generation only moves. Resident memory
// grows by at most the young generation (+32 MiB in a 1 GiB upload). It cannot be changed once the
// process runs (v8.setFlagsFromString has no effect on a heap already sized), hence a start option.
export const APP_NODE_OPTIONS = "--max-semi-space-size=128";

/**
 * IMPORTANT (the cause of the slow rounds the option above did not remove; issue 9): V8 counts
 * external memory allocated since the last mark-compact — here the socket buffers of a transfer —
 * against the old generation's allocation limit, and lets ≈32 MB of young ones pile up before a
 * scavenge frees them. The limit's headroom is the live heap (≈58 MB) times a growing factor V8
 * picks from its GC speed; after gigabyte transfers it sank to 1.16–1.5 (9–30 MB of headroom, the
 * trace's size/limit/slack), so every ≈30 MB of a download started another incremental
 * mark-compact of the whole heap: 30–104 per GiB, 3–9 ms of app CPU per MB instead of 1.4–2. A
 * fixed factor of 2 (headroom = the live heap) removed them: 29 in a whole lane run instead of
 * ≈ 300, none in 5 of its 6 downloads (docs/supabase.md, "Throughput"). Not allowed in NODE_OPTIONS, and read at every limit V8
 * computes, so instrumentation.ts sets it at start whatever started the process.
 */
export const HEAP_GROWTH_V8_FLAG = "--heap-growing-percent=100";

/** Applies HEAP_GROWTH_V8_FLAG to this process (the next heap limit V8 computes uses it). */
export function tuneHeapGrowth(): void {
  v8.setFlagsFromString(HEAP_GROWTH_V8_FLAG);
}

const SEMI_SPACE = /--max-semi-space-size\b/;

/** NODE_OPTIONS for a new app process: ours first, the caller's after (a semi-space size already given wins). */
export function appNodeOptions(existing: string | undefined = process.env.NODE_OPTIONS): string {
  if (existing && SEMI_SPACE.test(existing)) return existing;
  return [APP_NODE_OPTIONS, existing].filter(Boolean).join(" ");
}

/** Whether this process was started with a semi-space size (from NODE_OPTIONS or the command line). */
export function startedWithAppNodeOptions(): boolean {
  return SEMI_SPACE.test(process.env.NODE_OPTIONS ?? "") || process.execArgv.some((a) => SEMI_SPACE.test(a));
}
