import { describe, expect, it } from "vitest";
import { isAppError } from "@/lib/errors";
import { isForbiddenAddress, parseWebhookUrl, resolveWebhookTarget } from "./ssrf";

describe("webhook targets (SSRF)", () => {
  it.each([
    ["127.0.0.1", true],
    ["127.5.6.7", true],
    ["10.1.2.3", true],
    ["172.16.0.1", true],
    ["172.31.255.255", true],
    ["192.168.1.1", true],
    ["169.254.169.254", true],
    ["100.64.0.1", true],
    ["0.0.0.0", true],
    ["224.0.0.1", true],
    ["255.255.255.255", true],
    ["::1", true],
    ["::", true],
    ["::ffff:127.0.0.1", true],
    ["::ffff:169.254.169.254", true],
    ["fd00:ec2::254", true],
    ["fe80::1", true],
    ["64:ff9b::7f00:1", true],
    ["not-an-ip", true],
    ["93.184.215.14", false],
    ["8.8.8.8", false],
    ["172.32.0.1", false],
    ["2606:4700:4700::1111", false],
    ["::ffff:8.8.8.8", false],
  ])("%s forbidden: %s", (address, forbidden) => {
    expect(isForbiddenAddress(address)).toBe(forbidden);
  });

  it("must refuse other schemes and credentials in the URL", () => {
    for (const url of [
      "ftp://example.com/",
      "file:///etc/passwd",
      "gopher://x/",
      "javascript:alert(1)",
      "http://user:pw@example.com/",
      "not a url",
    ]) {
      let code = "ok";
      try {
        parseWebhookUrl(url);
      } catch (e) {
        code = isAppError(e) ? e.code : "other";
      }
      expect(code, url).toBe("invalid_input");
    }
    expect(parseWebhookUrl("https://example.com/hook#frag").toString()).toBe("https://example.com/hook");
  });

  it("must refuse names and literals that reach loopback or metadata, unless private targets are allowed", async () => {
    for (const url of [
      "http://localhost:8080/",
      "http://127.0.0.1/",
      "http://[::1]/",
      "http://169.254.169.254/latest/meta-data",
      "http://[::ffff:7f00:1]/",
    ]) {
      await expect(resolveWebhookTarget(url, { allowPrivate: false }), url).rejects.toMatchObject({ code: "invalid_input" });
    }
    const allowed = await resolveWebhookTarget("http://127.0.0.1:9/", { allowPrivate: true });
    expect(allowed.addresses).toEqual([{ address: "127.0.0.1", family: 4 }]);
  });
});
