/** "3 minutes ago", "2 days ago": short relative times for tables. */
export function timeAgo(d: Date | string | null | undefined, now = Date.now()): string {
  if (!d) return "—";
  const s = Math.round((now - new Date(d).getTime()) / 1000);
  if (s < 45) return "just now";
  const units: [number, string][] = [
    [60, "minute"],
    [3600, "hour"],
    [86400, "day"],
    [2592000, "month"],
    [31536000, "year"],
  ];
  let label = "";
  for (let i = units.length - 1; i >= 0; i--) {
    const [secs, name] = units[i]!;
    if (s >= secs) {
      const n = Math.round(s / secs);
      label = `${n} ${name}${n === 1 ? "" : "s"} ago`;
      break;
    }
  }
  return label;
}

export const formatDateTime = (d: Date | string | null | undefined) =>
  d ? new Date(d).toISOString().replace("T", " ").slice(0, 16) + " UTC" : "—";

export const formatMoney = (n: number) => (n < 0.01 && n > 0 ? "< $0.01" : `$${n.toFixed(2)}`);

/** A page's searchParams as one string per key (first value wins; empty values dropped). */
export function singleParams(raw: Record<string, string | string[] | undefined>): Record<string, string> {
  const single: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw)) {
    const value = Array.isArray(v) ? v[0] : v;
    if (value) single[k] = value;
  }
  return single;
}
