import { VerdictBadge } from "@/components/verdict-badge";
import { formatBytes } from "@/lib/format";
import { CopyButton } from "./copy-button";
import { ModelCard } from "./model-card";

export interface FileView {
  path: string;
  size: number;
  sha256: string;
  format: string | null;
  role: "model" | "asset";
  verdict: "not_scanned" | "safe" | "suspicious" | "dangerous";
}

const encodePath = (p: string) => p.split("/").map(encodeURIComponent).join("/");

/** Folder headers between files, in path order: [depth, folder name] or a file at a depth. */
function treeRows(
  files: FileView[],
): ({ kind: "folder"; depth: number; name: string; key: string } | { kind: "file"; depth: number; file: FileView })[] {
  const rows: ReturnType<typeof treeRows> = [];
  let open: string[] = [];
  for (const f of [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))) {
    const parts = f.path.split("/");
    const dirs = parts.slice(0, -1);
    let same = 0;
    while (same < open.length && same < dirs.length && open[same] === dirs[same]) same++;
    for (let d = same; d < dirs.length; d++) rows.push({ kind: "folder", depth: d, name: dirs[d]!, key: dirs.slice(0, d + 1).join("/") });
    open = dirs;
    rows.push({ kind: "file", depth: dirs.length, file: f });
  }
  return rows;
}

/**
 * A version's files as a tree — size, SHA-256, format, scan verdict, a download link each — the whole
 * version as zip or tar, the model card and previews of small text files.
 */
export function VersionFiles({
  base,
  version,
  files,
  card,
  previews,
  quarantined,
  canDownload,
}: {
  /** /api/v1/orgs/{org}/models/{model}/versions/{version} */
  base: string;
  version: string;
  files: FileView[];
  card: { path: string; markdown: string } | null;
  previews: { path: string; text: string }[];
  quarantined: boolean;
  canDownload: boolean;
}) {
  const risk = quarantined ? "?acknowledge_risk=true" : "";
  const paths = new Set(files.map((f) => f.path));
  const cardDir = card?.path.includes("/") ? card.path.slice(0, card.path.lastIndexOf("/") + 1) : "";
  const fileUrl = (src: string) => {
    const p = (cardDir + src.replace(/^\.\//, "")).replace(/[?#].*$/, "");
    return paths.has(p) && /\.(png|jpe?g|gif|webp)$/i.test(p) ? `${base}/files/${encodePath(p)}` : null;
  };
  return (
    <div className="space-y-4" data-testid="version-files" data-file-count={files.length}>
      <div className="flex flex-wrap items-center justify-between gap-2">
        <p className="text-sm text-slate-600">
          {files.length} file{files.length === 1 ? "" : "s"} · {formatBytes(files.reduce((n, f) => n + f.size, 0))}
        </p>
        {canDownload ? (
          <div className="flex gap-2">
            <a
              className="btn-secondary text-xs"
              href={`${base}/download?format=zip${quarantined ? "&acknowledge_risk=true" : ""}`}
              data-testid="download-zip"
              download
            >
              Download v{version} as .zip
            </a>
            <a
              className="btn-secondary text-xs"
              href={`${base}/download?format=tar${quarantined ? "&acknowledge_risk=true" : ""}`}
              data-testid="download-tar"
              download
            >
              .tar
            </a>
          </div>
        ) : null}
      </div>
      <div className="overflow-x-auto rounded border border-slate-200">
        <table className="w-full min-w-[40rem] text-left text-sm">
          <caption className="sr-only">Files of version {version}</caption>
          <thead className="border-b border-slate-200 bg-slate-50 text-xs uppercase tracking-wide text-slate-500">
            <tr>
              <th scope="col" className="px-3 py-2 font-medium">
                Path
              </th>
              <th scope="col" className="px-3 py-2 text-right font-medium">
                Size
              </th>
              <th scope="col" className="px-3 py-2 font-medium">
                Format
              </th>
              <th scope="col" className="px-3 py-2 font-medium">
                Scan
              </th>
              <th scope="col" className="px-3 py-2 font-medium">
                SHA-256
              </th>
            </tr>
          </thead>
          <tbody className="divide-y divide-slate-100">
            {treeRows(files).map((r) =>
              r.kind === "folder" ? (
                <tr key={`d:${r.key}`} className="bg-slate-50/60">
                  <td
                    colSpan={5}
                    className="px-3 py-1 text-xs font-medium text-slate-600"
                    style={{ paddingLeft: `${0.75 + r.depth * 1.25}rem` }}
                  >
                    <span aria-hidden>📁 </span>
                    {r.name}/
                  </td>
                </tr>
              ) : (
                <tr key={r.file.path} data-testid="file-row" data-path={r.file.path}>
                  <td className="px-3 py-1.5" style={{ paddingLeft: `${0.75 + r.depth * 1.25}rem` }}>
                    {canDownload ? (
                      <a
                        className="font-mono text-xs text-brand-700 hover:underline"
                        href={`${base}/files/${encodePath(r.file.path)}${risk}`}
                        download
                      >
                        {r.file.path.slice(r.file.path.lastIndexOf("/") + 1)}
                      </a>
                    ) : (
                      <span className="font-mono text-xs">{r.file.path.slice(r.file.path.lastIndexOf("/") + 1)}</span>
                    )}
                  </td>
                  <td className="whitespace-nowrap px-3 py-1.5 text-right tabular-nums">{formatBytes(r.file.size)}</td>
                  <td className="px-3 py-1.5 text-xs text-slate-600">
                    {r.file.format ?? "—"}
                    {r.file.role === "asset" ? "" : " · model"}
                  </td>
                  <td className="px-3 py-1.5">
                    <VerdictBadge verdict={r.file.verdict} />
                  </td>
                  <td className="px-3 py-1.5">
                    <span className="inline-flex items-center gap-1 font-mono text-xs text-slate-600" title={r.file.sha256}>
                      {r.file.sha256.slice(0, 12)}…
                      <CopyButton value={r.file.sha256} label="Copy" />
                    </span>
                  </td>
                </tr>
              ),
            )}
          </tbody>
        </table>
      </div>
      {card ? (
        <section aria-labelledby="card-heading" className="rounded border border-slate-200 p-4">
          <h3 id="card-heading" className="mb-2 text-sm font-medium text-slate-700">
            Model card <span className="font-mono text-xs text-slate-500">({card.path})</span>
          </h3>
          <ModelCard markdown={card.markdown} fileUrl={fileUrl} />
        </section>
      ) : null}
      {previews.map((p) => (
        <details key={p.path} className="rounded border border-slate-200" data-testid="file-preview" data-path={p.path}>
          <summary className="cursor-pointer px-3 py-2 font-mono text-xs text-slate-700">{p.path}</summary>
          <pre tabIndex={0} className="max-h-80 overflow-auto border-t border-slate-200 bg-slate-50 p-3 text-xs">
            {p.text}
          </pre>
        </details>
      ))}
    </div>
  );
}
