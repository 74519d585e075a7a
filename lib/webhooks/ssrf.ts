import { lookup as dnsLookup } from "node:dns/promises";
import { BlockList, isIP } from "node:net";
import { ERRORS } from "@/lib/errors";

// Where a webhook may be sent. A URL an admin types must not turn the server into a proxy to its own
// network (SSRF): loopback, private, link-local (cloud metadata at 169.254.169.254 and fd00:ec2::254),
// CGNAT, multicast and reserved ranges are refused — unless WEBHOOKS_ALLOW_PRIVATE=true. The check is
// made at registration and again at every delivery on every address the name resolves to, and the
// connection then goes to an address that passed (DNS rebinding cannot swap it in between).

const BLOCKED = new BlockList();
for (const [net, bits] of [
  ["0.0.0.0", 8],
  ["10.0.0.0", 8],
  ["100.64.0.0", 10],
  ["127.0.0.0", 8],
  ["169.254.0.0", 16],
  ["172.16.0.0", 12],
  ["192.0.0.0", 24],
  ["192.0.2.0", 24],
  ["192.88.99.0", 24],
  ["192.168.0.0", 16],
  ["198.18.0.0", 15],
  ["198.51.100.0", 24],
  ["203.0.113.0", 24],
  ["224.0.0.0", 4],
  ["240.0.0.0", 4],
] as const)
  BLOCKED.addSubnet(net, bits, "ipv4");
for (const [net, bits] of [
  ["::", 128],
  ["::1", 128],
  ["::", 96], // IPv4-compatible (deprecated)
  ["64:ff9b::", 96], // NAT64: an IPv4 address in disguise
  ["64:ff9b:1::", 48],
  ["100::", 64],
  ["2001::", 23], // IETF protocol assignments (Teredo, ORCHID…)
  ["2001:db8::", 32],
  ["2002::", 16], // 6to4: embeds an IPv4 address
  ["fc00::", 7], // unique local (fd00:ec2::254 is AWS's metadata service)
  ["fe80::", 10],
  ["fec0::", 10],
  ["ff00::", 8],
] as const)
  BLOCKED.addSubnet(net, bits, "ipv6");

/** True for an address a webhook must not reach (IPv4-mapped IPv6 is judged as the IPv4 inside). */
export function isForbiddenAddress(address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  const ip = mapped ? mapped[1]! : address;
  const family = isIP(ip);
  if (!family) return true;
  return BLOCKED.check(ip, family === 4 ? "ipv4" : "ipv6");
}

/** Parses and checks a webhook URL's shape: http(s), a host, no credentials. The URL, normalized. */
export function parseWebhookUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw ERRORS.invalidField("url", "Not a URL.");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw ERRORS.invalidField("url", "Only http and https URLs.");
  if (!url.hostname) throw ERRORS.invalidField("url", "The URL needs a host.");
  if (url.username || url.password) throw ERRORS.invalidField("url", "Credentials in the URL are not accepted: use the signature.");
  url.hash = "";
  return url;
}

export interface ResolvedTarget {
  url: URL;
  /** Addresses the host resolved to, every one allowed; connect to one of these, never re-resolve. */
  addresses: { address: string; family: 4 | 6 }[];
}

/** A URL's host resolved, every address checked; throws `invalid_input` naming why it is refused. */
export async function resolveWebhookTarget(raw: string | URL, opts: { allowPrivate: boolean }): Promise<ResolvedTarget> {
  const url = typeof raw === "string" ? parseWebhookUrl(raw) : raw;
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  let addresses: { address: string; family: 4 | 6 }[];
  if (isIP(host)) addresses = [{ address: host, family: isIP(host) as 4 | 6 }];
  else {
    try {
      addresses = (await dnsLookup(host, { all: true, verbatim: true })).map((a) => ({ address: a.address, family: a.family as 4 | 6 }));
    } catch (e) {
      throw ERRORS.invalidField("url", `The host ${host} does not resolve (${(e as NodeJS.ErrnoException).code ?? "error"}).`);
    }
  }
  if (!addresses.length) throw ERRORS.invalidField("url", `The host ${host} does not resolve.`);
  if (!opts.allowPrivate) {
    const bad = addresses.find((a) => isForbiddenAddress(a.address));
    if (bad)
      throw ERRORS.invalidField(
        "url",
        `${host} resolves to ${bad.address}, a private, loopback, link-local or reserved address: webhooks may not go there.`,
      );
  }
  return { url, addresses };
}
