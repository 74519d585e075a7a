import { BlockList, isIP } from "node:net";

// The one function that decides a request's client address (audit trail, sign-in throttling).
//
// IMPORTANT: Next keeps a client's own X-Forwarded-For and adds the socket address only when there
// is none, so the header alone cannot be believed. instrumentation.ts stamps every request with the
// socket's address in PEER_HEADER (overwriting whatever a client sent under that name). The client
// is then the right-most address that is not a trusted proxy: with TRUSTED_PROXIES empty (the
// default) that is the socket peer itself, and X-Forwarded-For is ignored.

export const PEER_HEADER = "x-fairmind-peer";

const lists = new Map<string, BlockList>();

function blockList(trusted: string[]): BlockList {
  const key = trusted.join(",");
  let list = lists.get(key);
  if (!list) {
    list = new BlockList();
    for (const entry of trusted) {
      const [addr, bits] = entry.split("/") as [string, string | undefined];
      const type = isIP(addr) === 6 ? "ipv6" : "ipv4";
      if (bits === undefined) list.addAddress(addr, type);
      else list.addSubnet(addr, Number(bits), type);
    }
    lists.set(key, list);
  }
  return list;
}

/** IPv4-mapped IPv6 ("::ffff:10.0.0.1") as plain IPv4, so lists and logs agree. */
const normalize = (a: string) => a.trim().replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/i, "$1");

const isTrusted = (list: BlockList, addr: string) => {
  const family = isIP(addr);
  return family !== 0 && list.check(addr, family === 6 ? "ipv6" : "ipv4");
};

/** The client's address; undefined when the request carries no peer stamp (not served by our server). */
export function clientAddress(headers: Headers, trustedProxies: string[]): string | undefined {
  const peer = headers.get(PEER_HEADER);
  if (!peer) return undefined;
  const chain = [
    ...(headers.get("x-forwarded-for") ?? "")
      .split(",")
      .map(normalize)
      .filter((a) => isIP(a) !== 0),
    normalize(peer),
  ];
  const list = blockList(trustedProxies);
  // Walk from the socket towards the client while the hop is a proxy we trust.
  let i = chain.length - 1;
  while (i > 0 && isTrusted(list, chain[i]!)) i--;
  return chain[i];
}
