// Sizes, rates and durations for people: the same words in the UI, the API's messages and the CLIs.

const UNITS = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"] as const;

/** Human-readable size in binary units: 0 B, 512 B, 1.5 KiB, 5 GiB. */
export function formatBytes(n: number): string {
  if (!Number.isFinite(n)) return "—";
  const sign = n < 0 ? "-" : "";
  let v = Math.abs(n);
  let i = 0;
  // Rounding can carry into the next unit (1023.99 KiB shows as 1 MiB, not 1024 KiB).
  while (round3(v) >= 1024 && i < UNITS.length - 1) {
    v /= 1024;
    i++;
  }
  return `${sign}${i === 0 ? Math.round(v) : round3(v)} ${UNITS[i]}`;
}

/** Three significant digits at most, without trailing zeros: 1.5, 12.3, 512. */
function round3(v: number): number {
  const digits = v >= 100 ? 0 : v >= 10 ? 1 : 2;
  return Number(v.toFixed(digits));
}

/** "2.4 MiB/s" */
export const formatRate = (bytesPerSecond: number) => `${formatBytes(Math.max(0, Math.round(bytesPerSecond)))}/s`;

/** "1 h 5 min", "3 min 20 s", "12 s"; "—" when unknown. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "—";
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}
