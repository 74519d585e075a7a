import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { generateWebhookSecret, signatureHeader, verifySignature } from "./signing";

describe("webhook signatures", () => {
  const secret = "whsec_test_secret_0123456789";
  const body = JSON.stringify({ id: "e1", type: "alias.moved", data: { alias: "production" } });

  it("signs <timestamp>.<body> with HMAC-SHA256, the way a receiver recomputes it", () => {
    const header = signatureHeader(secret, body, 1_700_000_000);
    const expected = createHmac("sha256", secret).update(`1700000000.${body}`).digest("hex");
    expect(header).toBe(`t=1700000000,v1=${expected}`);
    expect(verifySignature(secret, body, header, { now: 1_700_000_100 })).toBe(true);
  });

  it("must refuse another body, another secret, a stale timestamp and junk headers", () => {
    const header = signatureHeader(secret, body, 1_700_000_000);
    expect(verifySignature(secret, `${body} `, header, { now: 1_700_000_000 })).toBe(false);
    expect(verifySignature("whsec_other_secret_000000", body, header, { now: 1_700_000_000 })).toBe(false);
    expect(verifySignature(secret, body, header, { now: 1_700_000_000 + 301 })).toBe(false);
    for (const junk of [null, "", "t=abc,v1=00", "v1=" + "0".repeat(64), "t=1700000000", "t=1700000000,v1=zz"])
      expect(verifySignature(secret, body, junk, { now: 1_700_000_000 })).toBe(false);
  });

  it("accepts a header carrying several v1 signatures when one matches (secret rotation)", () => {
    const good = signatureHeader(secret, body, 1_700_000_000).split(",v1=")[1];
    expect(verifySignature(secret, body, `t=1700000000,v1=${"a".repeat(64)},v1=${good}`, { now: 1_700_000_000 })).toBe(true);
  });

  it("generates distinct, prefixed secrets", () => {
    const a = generateWebhookSecret();
    expect(a).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
    expect(generateWebhookSecret()).not.toBe(a);
  });
});
