import { VerdictBadge } from "@/components/verdict-badge";
import { formatBytes } from "@/lib/format";
import type { ModelVersion, ScanFinding } from "@/lib/storage/types";
import { formatDateTime } from "@/lib/web/format";

const SEVERITY: Record<ScanFinding["severity"], string> = {
  danger: "border-red-200 bg-red-50 text-red-900",
  error: "border-red-200 bg-red-50 text-red-900",
  warning: "border-amber-200 bg-amber-50 text-amber-900",
  info: "border-slate-200 bg-slate-50 text-slate-700",
};
const GLOBAL_STYLE: Record<string, string> = {
  safe: "text-green-800",
  suspicious: "text-amber-800",
  dangerous: "font-semibold text-red-800",
};

const humanize = (key: string) =>
  key
    .replace(/_/g, " ")
    .replace(/([a-z])([A-Z])/g, "$1 $2")
    .replace(/^./, (c) => c.toUpperCase());
const isScalar = (v: unknown) => v === null || ["string", "number", "boolean"].includes(typeof v);
const show = (v: unknown) => (v === null ? "—" : typeof v === "number" ? v.toLocaleString("en-US") : String(v));

/** Scan findings, pickle globals and the extracted metadata of one version. */
export function VersionDetails({ version: v }: { version: ModelVersion }) {
  const { pickle_globals, ...metadata } = (v.metadata ?? {}) as Record<string, unknown>;
  const globals = (Array.isArray(pickle_globals) ? pickle_globals : []) as { name: string; verdict: string }[];
  return (
    <div className="grid gap-5 lg:grid-cols-2" data-testid="version-details" data-version={v.version}>
      <div className="space-y-4">
        <dl className="grid grid-cols-[9rem_1fr] gap-x-3 gap-y-1.5 text-sm">
          <dt className="text-slate-500">Scan verdict</dt>
          <dd>
            <VerdictBadge verdict={v.scan_verdict} />
          </dd>
          <dt className="text-slate-500">Format</dt>
          <dd>
            {v.format ?? "—"}
            {v.framework ? ` · ${v.framework}` : ""}
          </dd>
          <dt className="text-slate-500">Size</dt>
          <dd className="tabular-nums">
            {v.size_bytes != null ? `${formatBytes(v.size_bytes)} (${v.size_bytes.toLocaleString("en-US")} bytes)` : "—"}
          </dd>
          <dt className="text-slate-500">SHA-256</dt>
          <dd className="break-all font-mono text-xs">{v.sha256 ?? "—"}</dd>
          <dt className="text-slate-500">Uploaded file</dt>
          <dd className="break-all">{v.file_name || "—"}</dd>
          <dt className="text-slate-500">Files</dt>
          <dd>
            {v.file_count}{" "}
            <span className="text-slate-500">
              ({v.layout ?? "—"}, stored in {v.storage_backend === "local" ? "this server's storage" : "Supabase Storage"})
            </span>
          </dd>
          {Object.keys(v.tags ?? {}).length ? (
            <>
              <dt className="text-slate-500">Tags</dt>
              <dd className="flex flex-wrap gap-1" data-testid="version-tags">
                {Object.entries(v.tags).map(([k, val]) => (
                  <span key={k} className="rounded bg-brand-50 px-2 py-0.5 text-xs text-brand-800">
                    {k}={val}
                  </span>
                ))}
              </dd>
            </>
          ) : null}
          {v.parent ? (
            <>
              <dt className="text-slate-500">Parent</dt>
              <dd data-testid="version-parent">
                <a
                  className="font-mono text-brand-700 underline"
                  href={`../${v.parent.model}?version=${encodeURIComponent(v.parent.version)}`}
                >
                  {v.parent.model}@{v.parent.version}
                </a>
              </dd>
            </>
          ) : null}
          {(["source_run_url", "git_repo", "git_commit", "dataset"] as const).map((k) => {
            const val = (v.provenance as Record<string, unknown> | null)?.[k];
            if (typeof val !== "string") return null;
            return (
              <div key={k} className="contents" data-testid={`provenance-${k}`}>
                <dt className="text-slate-500">{humanize(k).replace("Url", "URL")}</dt>
                <dd className="break-all">
                  {k === "source_run_url" ? (
                    <a className="text-brand-700 underline" href={val} rel="noopener noreferrer nofollow" target="_blank">
                      {val}
                    </a>
                  ) : k === "git_commit" ? (
                    <code className="text-xs">{val}</code>
                  ) : (
                    val
                  )}
                </dd>
              </div>
            );
          })}
          <dt className="text-slate-500">Content type</dt>
          <dd>{v.content_type ?? "—"}</dd>
          <dt className="text-slate-500">Ready</dt>
          <dd>{formatDateTime(v.ready_at)}</dd>
        </dl>

        <section aria-labelledby={`findings-${v.id}`}>
          <h3 id={`findings-${v.id}`} className="mb-2 text-sm font-medium">
            Scan findings
          </h3>
          {v.scan_findings?.length ? (
            <ul className="space-y-1.5" data-testid="scan-findings">
              {v.scan_findings.map((f, i) => (
                <li key={i} className={`rounded border px-2.5 py-1.5 text-sm ${SEVERITY[f.severity] ?? SEVERITY.info}`}>
                  <span className="mr-2 text-xs font-semibold uppercase">{f.severity}</span>
                  {f.message}
                  {f.location ? <span className="ml-1 font-mono text-xs opacity-80">@ {f.location}</span> : null}
                </li>
              ))}
            </ul>
          ) : (
            <p className="text-sm text-slate-600">
              {v.scan_verdict === "safe"
                ? "No findings: only well-known library code."
                : globals.length
                  ? "No findings beyond the pickle globals below."
                  : "No findings."}
            </p>
          )}
        </section>

        {globals.length ? (
          <section aria-labelledby={`globals-${v.id}`}>
            <h3 id={`globals-${v.id}`} className="mb-2 text-sm font-medium">
              Pickle globals ({globals.length})
            </h3>
            <p className="mb-2 text-xs text-slate-600">
              What unpickling this file imports and may call. Anything outside the allowlist of ML libraries is flagged.
            </p>
            <ul className="max-h-64 overflow-auto rounded border border-slate-200 font-mono text-xs" data-testid="pickle-globals">
              {globals.map((g) => (
                <li key={g.name} className="flex justify-between gap-3 border-b border-slate-100 px-2.5 py-1 last:border-0">
                  <span className="break-all">{g.name}</span>
                  <span className={GLOBAL_STYLE[g.verdict] ?? ""}>{g.verdict}</span>
                </li>
              ))}
            </ul>
          </section>
        ) : null}
      </div>

      <section aria-labelledby={`meta-${v.id}`} className="min-w-0">
        <h3 id={`meta-${v.id}`} className="mb-2 text-sm font-medium">
          Extracted metadata
        </h3>
        {Object.keys(metadata).length ? (
          <MetadataView data={metadata} />
        ) : (
          <p className="text-sm text-slate-600">Nothing could be read from this format.</p>
        )}
      </section>
    </div>
  );
}

/** Scalars as a definition list, scalar lists inline, lists of records as a small table. */
function MetadataView({ data }: { data: Record<string, unknown> }) {
  const entries = Object.entries(data);
  return (
    <dl className="space-y-2 text-sm" data-testid="version-metadata">
      {entries.map(([k, v]) => (
        <div key={k} className={isScalar(v) ? "grid grid-cols-[11rem_1fr] gap-x-3" : ""}>
          <dt className="text-slate-500">{humanize(k)}</dt>
          <dd className="min-w-0 break-words">{renderValue(v)}</dd>
        </div>
      ))}
    </dl>
  );
}

function renderValue(v: unknown) {
  if (isScalar(v)) return show(v);
  if (Array.isArray(v)) {
    if (v.every(isScalar)) {
      return (
        <span className="font-mono text-xs">
          {v.slice(0, 50).map(show).join(", ")}
          {v.length > 50 ? ` … (+${v.length - 50})` : ""}
        </span>
      );
    }
    if (v.every((x) => x && typeof x === "object" && !Array.isArray(x))) {
      const rows = v.slice(0, 50) as Record<string, unknown>[];
      const cols = [...new Set(rows.flatMap((r) => Object.keys(r)))].slice(0, 6);
      return (
        <div className="mt-1 max-h-72 overflow-auto rounded border border-slate-200">
          <table className="w-full text-left text-xs">
            <thead className="sticky top-0 bg-slate-50 text-slate-500">
              <tr>
                {cols.map((c) => (
                  <th key={c} scope="col" className="px-2 py-1 font-medium">
                    {humanize(c)}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody className="divide-y divide-slate-100 font-mono">
              {rows.map((r, i) => (
                <tr key={i}>
                  {cols.map((c) => (
                    <td key={c} className="px-2 py-1">
                      {isScalar(r[c]) ? show(r[c]) : JSON.stringify(r[c])}
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
          {v.length > 50 ? <p className="px-2 py-1 text-xs text-slate-500">… and {v.length - 50} more</p> : null}
        </div>
      );
    }
  }
  if (v && typeof v === "object" && !Array.isArray(v)) {
    return (
      <ul className="mt-1 space-y-0.5 border-l-2 border-slate-100 pl-3">
        {Object.entries(v as Record<string, unknown>)
          .slice(0, 40)
          .map(([k, x]) => (
            <li key={k}>
              <span className="text-slate-500">{k}:</span>{" "}
              {isScalar(x) ? (
                <span className="font-mono text-xs">{show(x)}</span>
              ) : (
                <code className="text-xs">{JSON.stringify(x).slice(0, 300)}</code>
              )}
            </li>
          ))}
      </ul>
    );
  }
  return <code className="text-xs">{JSON.stringify(v).slice(0, 500)}</code>;
}
