const STYLES: Record<string, { label: string; className: string; hint: string }> = {
  safe: { label: "Safe", className: "bg-green-50 text-green-800 ring-green-600/20", hint: "Only well-known ML library code found." },
  suspicious: {
    label: "Suspicious",
    className: "bg-amber-50 text-amber-800 ring-amber-600/20",
    hint: "Contains code from outside the allowlist, or its name does not match its content.",
  },
  dangerous: {
    label: "Dangerous",
    className: "bg-red-50 text-red-800 ring-red-600/20",
    hint: "Can run code or holds a secret. Quarantined.",
  },
  not_scanned: { label: "Not scanned", className: "bg-slate-50 text-slate-700 ring-slate-500/20", hint: "No scan result yet." },
};

export function VerdictBadge({ verdict }: { verdict: string | null | undefined }) {
  const s = STYLES[verdict ?? "not_scanned"] ?? STYLES.not_scanned!;
  return (
    <span
      title={s.hint}
      className={`inline-flex items-center rounded-md px-2 py-0.5 text-xs font-medium ring-1 ring-inset ${s.className}`}
      data-testid="verdict"
      data-verdict={verdict ?? "not_scanned"}
    >
      {s.label}
    </span>
  );
}

export function AliasBadge({ alias }: { alias: string }) {
  const prod = alias === "production";
  return (
    <span
      className={`inline-flex items-center rounded-full px-2 py-0.5 text-xs font-medium ${prod ? "bg-brand-600 text-white" : "bg-brand-50 text-brand-700 ring-1 ring-inset ring-brand-600/20"}`}
      data-testid="alias-badge"
    >
      {alias}
    </span>
  );
}
