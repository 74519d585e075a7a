/**
 * Slows down repeated failed sign-ins per e-mail and per client address: after 3 failures every
 * further attempt waits longer (250 ms doubling, capped at 8 s); after 10 failures in 15 minutes the
 * key is locked until the window passes. In-process memory: with several app servers, put a shared
 * limiter (or Supabase Auth's own) in front.
 */
const WINDOW_MS = 15 * 60 * 1000;
const FREE_ATTEMPTS = 3;
const LOCK_AFTER = 10;

interface Entry {
  failures: number;
  first: number;
}

const entries = new Map<string, Entry>();

function live(key: string, now: number): Entry | undefined {
  const e = entries.get(key);
  if (e && now - e.first > WINDOW_MS) {
    entries.delete(key);
    return undefined;
  }
  return e;
}

/** What to do before checking a password: wait `delayMs`, or refuse for `retryAfterS`. */
export function checkThrottle(keys: string[], now = Date.now()): { delayMs: number; retryAfterS?: number } {
  let worst = 0;
  let first = now;
  for (const k of keys) {
    const e = live(k, now);
    if (e && e.failures > worst) {
      worst = e.failures;
      first = e.first;
    }
  }
  if (worst >= LOCK_AFTER) return { delayMs: 0, retryAfterS: Math.ceil((first + WINDOW_MS - now) / 1000) };
  if (worst < FREE_ATTEMPTS) return { delayMs: 0 };
  return { delayMs: Math.min(250 * 2 ** (worst - FREE_ATTEMPTS), 8000) };
}

export function recordFailure(keys: string[], now = Date.now()) {
  for (const k of keys) {
    const e = live(k, now);
    if (e) e.failures += 1;
    else entries.set(k, { failures: 1, first: now });
  }
  if (entries.size > 50_000) {
    for (const [k, e] of entries) if (now - e.first > WINDOW_MS) entries.delete(k);
  }
}

export function recordSuccess(keys: string[]) {
  for (const k of keys) entries.delete(k);
}

export function resetThrottle() {
  entries.clear();
}
