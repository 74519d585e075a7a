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

/** Below this an amount reads "< $0.000001": a millionth of a dollar is the smallest we show. */
export const SMALLEST_AMOUNT = 0.000001;

/**
 * US dollars for people. From one cent up: cents, with thousands separators ("$1,234.57"). Below one
 * cent an amount is never rounded to zero or hidden behind "< $0.01": two significant digits, as many
 * decimals as that takes ("$0.0003", "$0.000021"), down to a millionth of a dollar ("< $0.000001").
 * Exactly zero is "$0.00". See docs/decisions.md (money on the usage page).
 */
export function formatMoney(n: number): string {
  if (!Number.isFinite(n)) return "—";
  const sign = n < 0 ? "-" : "";
  const v = Math.abs(n);
  if (v === 0) return "$0.00";
  if (v < SMALLEST_AMOUNT) return `< $${SMALLEST_AMOUNT.toFixed(6)}`;
  // Rounded to cents first: 0.00999 reads "$0.01" only when it really rounds there.
  if (Number(v.toFixed(2)) >= 0.01 && v >= 0.0095) {
    return `${sign}$${v.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
  }
  const small = Number(v.toPrecision(2));
  const decimals = Math.min(7, Math.max(2, 1 - Math.floor(Math.log10(small))));
  return `${sign}$${small.toFixed(decimals).replace(/(\.\d*?[1-9])0+$/, "$1")}`;
}

/** A page's searchParams as one string per key (first value wins; empty values dropped). */
export function singleParams(raw: Record<string, string | string[] | undefined>): Record<string, string> {
  const single: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw)) {
    const value = Array.isArray(v) ? v[0] : v;
    if (value) single[k] = value;
  }
  return single;
}
