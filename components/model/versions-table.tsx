import Link from "next/link";
import { AliasBadge, VerdictBadge } from "@/components/verdict-badge";
import { formatBytes } from "@/lib/format";
import type { ModelVersion } from "@/lib/storage/types";
import { formatDateTime, timeAgo } from "@/lib/web/format";
import { CopyButton } from "./copy-button";
import { DeleteVersionButton } from "./delete-version-button";
import { QuarantinedDownload } from "./download-control";

const STATUS_STYLE: Record<ModelVersion["status"], string> = {
  ready: "bg-green-50 text-green-800",
  quarantined: "bg-red-50 text-red-800",
  deleted: "bg-slate-100 text-slate-600",
  pending: "bg-amber-50 text-amber-800",
};

export const downloadHref = (org: string, model: string, version: string) =>
  `/api/v1/orgs/${org}/models/${model}/versions/${encodeURIComponent(version)}/download`;

/** Why a version is dangerous: danger findings, then the dangerous pickle globals it imports. */
function dangerReasons(v: ModelVersion): string[] {
  const globals = ((v.metadata as { pickle_globals?: { name: string; verdict: string }[] }).pickle_globals ?? [])
    .filter((g) => g.verdict === "dangerous")
    .map((g) => `Imports ${g.name} when loaded`);
  return [...v.scan_findings.filter((f) => f.severity === "danger").map((f) => f.message), ...globals];
}

/** Every version of a model, newest first; deleted ones stay listed (greyed) for the record. */
export function VersionsTable({
  org,
  model,
  versions,
  selected,
  viewer,
}: {
  org: string;
  model: string;
  versions: ModelVersion[];
  selected?: string;
  viewer: { userId: string; canWrite: boolean; isAdmin: boolean };
}) {
  if (!versions.length) {
    return (
      <p className="p-6 text-center text-sm text-slate-600" data-testid="no-versions">
        No versions yet.
      </p>
    );
  }
  return (
    <div className="overflow-x-auto">
      <table className="w-full text-left text-sm" data-testid="versions-table">
        <caption className="sr-only">Versions of {model}</caption>
        <thead className="border-b border-slate-200 bg-slate-50 text-xs uppercase tracking-wide text-slate-500">
          <tr>
            <th scope="col" className="px-3 py-2.5 font-medium">
              Version
            </th>
            <th scope="col" className="px-3 py-2.5 text-right font-medium">
              Size
            </th>
            <th scope="col" className="px-3 py-2.5 font-medium">
              SHA-256
            </th>
            <th scope="col" className="px-3 py-2.5 font-medium">
              Format
            </th>
            <th scope="col" className="px-3 py-2.5 font-medium">
              Scan
            </th>
            <th scope="col" className="px-3 py-2.5 font-medium">
              Uploaded
            </th>
            <th scope="col" className="px-3 py-2.5 font-medium">
              Status
            </th>
            <th scope="col" className="px-3 py-2.5 text-right font-medium">
              <span className="sr-only">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody className="divide-y divide-slate-100">
          {versions.map((v) => {
            const deleted = v.status === "deleted";
            // A version of several files has no one file to send: its Download is the zip (the plain
            // URL answers 409 and says so).
            const href = downloadHref(org, model, v.version) + (v.file_count > 1 ? "?format=zip" : "");
            const canDelete = !deleted && viewer.canWrite && (viewer.isAdmin || v.created_by === viewer.userId);
            const isSelected = selected === v.version;
            return (
              <tr
                key={v.id}
                className={`${deleted ? "bg-slate-50 text-slate-400" : ""} ${isSelected ? "bg-brand-50/60" : ""}`}
                data-testid="version-row"
                data-version={v.version}
                data-status={v.status}
                aria-current={isSelected ? "true" : undefined}
              >
                <td className="px-3 py-2.5 align-top">
                  <Link
                    href={`/orgs/${org}/models/${model}?version=${encodeURIComponent(v.version)}#details`}
                    scroll={false}
                    className={`font-mono font-medium hover:underline ${deleted ? "text-slate-500 line-through" : "text-slate-900"}`}
                    title="Show scan findings and metadata"
                  >
                    v{v.version}
                  </Link>
                  {v.aliases.length ? (
                    <div className="mt-1 flex flex-wrap gap-1">
                      {v.aliases.map((a) => (
                        <AliasBadge key={a} alias={a} />
                      ))}
                    </div>
                  ) : null}
                </td>
                <td className="whitespace-nowrap px-3 py-2.5 text-right align-top tabular-nums">
                  {v.size_bytes != null ? formatBytes(v.size_bytes) : "—"}
                </td>
                <td className="px-3 py-2.5 align-top">
                  {v.sha256 ? (
                    <span className="inline-flex items-center gap-1.5 whitespace-nowrap">
                      <code className="text-xs" title={v.sha256} data-testid="version-sha256" data-sha256={v.sha256}>
                        {v.sha256.slice(0, 12)}…
                      </code>
                      <CopyButton value={v.sha256} label={`Copy SHA-256 of version ${v.version}`} testId="copy-sha256" />
                    </span>
                  ) : (
                    "—"
                  )}
                </td>
                <td className="px-3 py-2.5 align-top">
                  <div>{v.format ?? "—"}</div>
                  {v.framework ? <div className="text-xs text-slate-500">{v.framework}</div> : null}
                </td>
                <td className="px-3 py-2.5 align-top">
                  <VerdictBadge verdict={v.scan_verdict} />
                </td>
                <td className="px-3 py-2.5 align-top">
                  <div className="max-w-44 truncate" title={v.created_by_email ?? undefined}>
                    {v.created_by_email ?? "—"}
                  </div>
                  <time
                    className="text-xs text-slate-500"
                    dateTime={new Date(v.created_at).toISOString()}
                    title={formatDateTime(v.created_at)}
                  >
                    {timeAgo(v.created_at)}
                  </time>
                </td>
                <td className="px-3 py-2.5 align-top">
                  <span className={`rounded px-1.5 py-0.5 text-xs font-medium ${STATUS_STYLE[v.status]}`} data-testid="version-status">
                    {v.status}
                  </span>
                  {deleted && v.deleted_at ? <div className="text-xs">{timeAgo(v.deleted_at)}</div> : null}
                </td>
                <td className="px-3 py-2.5 text-right align-top">
                  <div className="flex items-center justify-end gap-2">
                    {v.status === "ready" ? (
                      <a
                        href={href}
                        className="btn-secondary py-1 text-xs"
                        download
                        data-testid="download-link"
                        aria-label={`Download version ${v.version}`}
                      >
                        Download
                      </a>
                    ) : v.status === "quarantined" ? (
                      viewer.isAdmin ? (
                        <QuarantinedDownload href={href} version={v.version} findings={dangerReasons(v)} />
                      ) : (
                        <span className="max-w-40 text-left text-xs text-red-800" data-testid="download-blocked">
                          Quarantined: only owners and admins can download it.
                        </span>
                      )
                    ) : null}
                    {canDelete ? <DeleteVersionButton org={org} model={model} version={v.version} /> : null}
                  </div>
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
