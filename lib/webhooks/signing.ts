import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";

// Webhook signatures, the way Stripe signs its events: HMAC-SHA256 with the endpoint's secret over
// "<unix seconds>.<raw body>", sent as `FairMind-Signature: t=<unix seconds>,v1=<hex>`. Receivers
// recompute it over the bytes they received and refuse old timestamps (replays). docs/webhooks.md.

export const SIGNATURE_HEADER = "FairMind-Signature";
/** Receivers should refuse a signature older than this (our own verifier does). */
export const SIGNATURE_TOLERANCE_SECONDS = 300;

/** A new endpoint secret: `whsec_` and 32 random bytes (base64url). */
export function generateWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString("base64url")}`;
}

/** The hex HMAC-SHA256 of "<timestamp>.<body>" under `secret`. */
export function computeSignature(secret: string, timestamp: number, body: string): string {
  return createHmac("sha256", secret).update(`${timestamp}.${body}`, "utf8").digest("hex");
}

/** The FairMind-Signature header value for `body` sent at `timestamp` (unix seconds). */
export function signatureHeader(secret: string, body: string, timestamp = Math.floor(Date.now() / 1000)): string {
  return `t=${timestamp},v1=${computeSignature(secret, timestamp, body)}`;
}

/**
 * Checks a FairMind-Signature header against the raw body: true when one of its v1 signatures matches
 * and its timestamp is within `toleranceSeconds` of `now`. Constant-time comparison.
 */
export function verifySignature(
  secret: string,
  body: string,
  header: string | null | undefined,
  opts: { toleranceSeconds?: number; now?: number } = {},
): boolean {
  if (!header) return false;
  const parts = header.split(",").map((p) => p.trim().split("="));
  const t = Number(parts.find(([k]) => k === "t")?.[1]);
  if (!Number.isSafeInteger(t)) return false;
  const now = opts.now ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - t) > (opts.toleranceSeconds ?? SIGNATURE_TOLERANCE_SECONDS)) return false;
  const expected = Buffer.from(computeSignature(secret, t, body), "hex");
  return parts
    .filter(([k, v]) => k === "v1" && v && /^[0-9a-f]{64}$/.test(v))
    .some(([, v]) => timingSafeEqual(Buffer.from(v!, "hex"), expected));
}
