import { ERRORS } from "@/lib/errors";

/*
 * Sign-in throttling that slows attackers down without ever locking an account's owner out:
 *
 * - per (e-mail, client address): after 3 failures each attempt waits longer, 250 ms doubling up to
 *   8 s — guessing a password from one place runs at a few tries a minute at most;
 * - per e-mail, across addresses: after 10 failures, up to 2 s — a distributed attack on one account
 *   is slowed, its owner only a little;
 * - per client address, across e-mails: after 20 failures, up to 4 s — credential stuffing from one
 *   address is slowed;
 * - at most one attempt in flight per (e-mail, address), and a few per address: parallel requests do
 *   not multiply the rate (429 with Retry-After instead).
 *
 * There is no lock: the right password always works, after the wait. Failure counts live in the
 * database (shared by every app server); which attempts are in flight is per process. The client
 * address is decided by lib/http/client-address.ts (X-Forwarded-For only from TRUSTED_PROXIES), so
 * it cannot be spoofed to slow a victim down or to dodge the limit.
 */

export const THROTTLE_WINDOW_SECONDS = 15 * 60;

const RULES = {
  pair: { free: 3, maxDelayMs: 8000 },
  email: { free: 10, maxDelayMs: 2000 },
  ip: { free: 20, maxDelayMs: 4000 },
} as const;
type Kind = keyof typeof RULES;

const MAX_IN_FLIGHT_PER_ADDRESS = 6;

export interface ThrottleKeys {
  pair: string;
  email: string;
  ip?: string;
}

export function throttleKeys(email: string, ip: string | undefined): ThrottleKeys {
  const e = email.toLowerCase();
  return { pair: `pair:${e}|${ip ?? "-"}`, email: `email:${e}`, ...(ip ? { ip: `ip:${ip}` } : {}) };
}

export const allKeys = (k: ThrottleKeys) => [k.pair, k.email, ...(k.ip ? [k.ip] : [])];

/** How long to wait before checking a password, from the failure counts of the keys. */
export function throttleDelay(k: ThrottleKeys, counts: Map<string, number>): number {
  let delay = 0;
  for (const kind of Object.keys(RULES) as Kind[]) {
    const key = k[kind];
    if (!key) continue;
    const n = counts.get(key) ?? 0;
    const rule = RULES[kind];
    if (n >= rule.free) delay = Math.max(delay, Math.min(250 * 2 ** (n - rule.free), rule.maxDelayMs));
  }
  return delay;
}

const inFlight = new Map<string, number>();

/**
 * Claims an in-flight slot for this attempt; throws 429 when the same e-mail and address already
 * have one, or the address has too many. Returns the release function.
 */
export function enterAttempt(k: ThrottleKeys): () => void {
  const addressKey = k.ip ?? "ip:-";
  if ((inFlight.get(k.pair) ?? 0) >= 1 || (inFlight.get(addressKey) ?? 0) >= MAX_IN_FLIGHT_PER_ADDRESS) {
    throw ERRORS.tooManySignIns(1);
  }
  for (const key of [k.pair, addressKey]) inFlight.set(key, (inFlight.get(key) ?? 0) + 1);
  let released = false;
  return () => {
    if (released) return;
    released = true;
    for (const key of [k.pair, addressKey]) {
      const n = (inFlight.get(key) ?? 1) - 1;
      if (n <= 0) inFlight.delete(key);
      else inFlight.set(key, n);
    }
  };
}
