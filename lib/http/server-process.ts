// How the app's Node process is started: `npm start` (package.json) and every script or test that
// starts `next start` itself (the real-Supabase lane, npm run bench, npm run soak) pass these options.
//
// --max-semi-space-size=64 (MiB; Node 20's default is 16). Every read from a socket is a new 64 KiB
// ArrayBuffer. With the default young generation, enough of a transfer's buffers survive two
// scavenges while queued between the two sockets that they are promoted, and V8 then runs full,
// concurrent mark-compacts of the server's whole heap to free them. Measured on the real-Supabase
// lane (512 MiB downloads through the app, 2 cores, docs/supabase.md): 2.5–3.8 s of the app's CPU per
// download in most rounds (half of it on V8's helper threads) against 0.5 s with 64 MiB, and
// Storage-relative throughput 0.5–0.7 against 0.8–0.95. Resident memory did not grow (the young
// generation only fills that far when it has to). It cannot be changed once the process runs
// (v8.setFlagsFromString has no effect on a heap already sized), hence a start option.
export const APP_NODE_OPTIONS = "--max-semi-space-size=64";

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
