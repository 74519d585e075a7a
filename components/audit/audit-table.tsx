import Link from "next/link";
import type { AuditEvent } from "@/lib/audit/audit";
import { AUDIT_ACTION_LABELS } from "@/lib/audit/query";
import { formatBytes } from "@/lib/format";
import { formatDateTime, timeAgo } from "@/lib/web/format";

const ACTION_STYLE: Record<string, string> = {
  version: "bg-brand-50 text-brand-700",
  alias: "bg-violet-50 text-violet-800",
  model: "bg-sky-50 text-sky-800",
  member: "bg-amber-50 text-amber-800",
  token: "bg-teal-50 text-teal-800",
  link: "bg-slate-100 text-slate-700",
  org: "bg-slate-100 text-slate-700",
};
const VIA_LABEL: Record<AuditEvent["via"], string> = {
  session: "web",
  api_token: "API token",
  signed_link: "signed link",
  system: "system",
};

/** Bytes moved by an event: served for downloads, stored for uploads (kept in details.size). */
const bytesOf = (e: AuditEvent): number | null =>
  e.bytes ?? (e.action === "version.upload" && typeof e.details?.size === "number" ? (e.details.size as number) : null);

/** A short human summary of an event's details (the full JSON is in the export). */
export function describeEvent(e: AuditEvent): string {
  const d = e.details ?? {};
  const s = (k: string) => (d[k] === undefined || d[k] === null ? undefined : String(d[k]));
  switch (e.action) {
    case "alias.move":
      return `${s("alias")}: ${s("from") ? `v${s("from")}` : "(new)"} → v${s("to")}`;
    case "version.upload":
      return [
        s("verdict") && `scan ${s("verdict")}`,
        s("status") === "quarantined" ? "quarantined" : undefined,
        s("sha256") && `sha256 ${s("sha256")!.slice(0, 12)}…`,
      ]
        .filter(Boolean)
        .join(" · ");
    case "version.download": {
      const range = Array.isArray(d.range) ? `range ${d.range[0]}–${d.range[1]}` : undefined;
      return [range, d.acknowledged_risk ? "quarantine risk acknowledged" : undefined, s("via") === "link" ? "via signed link" : undefined]
        .filter(Boolean)
        .join(" · ");
    }
    case "upload.refused":
      return [`${s("model")}@${s("version")}`, s("path"), s("status") && `${s("status")} ${s("code")}`, s("reason")]
        .filter(Boolean)
        .join(" · ");
    case "model.create":
      return [s("slug"), s("via") === "upload" ? `by the upload of v${s("version")}` : undefined].filter(Boolean).join(" · ");
    case "alias.protect":
    case "alias.unprotect":
      return s("alias") ?? "";
    case "member.invite":
    case "member.join":
      return [s("email"), s("role") && `role ${s("role")}`, d.already_member ? "was already a member" : undefined]
        .filter(Boolean)
        .join(" · ");
    case "link.create":
      return s("ttl_seconds") ? `valid ${Math.round(Number(s("ttl_seconds")) / 60)} min` : "";
    case "model.update":
      return Array.isArray(d.fields) ? `changed ${(d.fields as string[]).join(", ")}` : "";
    case "model.delete":
      return [s("slug"), s("versions") && `${s("versions")} versions`].filter(Boolean).join(" · ");
    case "member.add":
    case "member.role_change":
    case "member.remove":
      return [s("email"), s("role") && `role ${s("role")}`, s("from") && `from ${s("from")}`, s("to") && `to ${s("to")}`]
        .filter(Boolean)
        .join(" · ");
    case "token.create":
      return [s("name"), s("role") && `role ${s("role")}`, s("expires_at") ? `expires ${s("expires_at")!.slice(0, 10)}` : "no expiry"]
        .filter(Boolean)
        .join(" · ");
    default:
      return Object.entries(d)
        .slice(0, 3)
        .map(([k, v]) => `${k}: ${typeof v === "object" ? JSON.stringify(v) : String(v)}`)
        .join(" · ");
  }
}

/** Audit events as a table. `rowTestId` lets the model page and the audit page tell their rows apart. */
export function AuditTable({
  org,
  events,
  rowTestId = "audit-row",
  showModel = true,
  empty,
}: {
  org: string;
  events: AuditEvent[];
  rowTestId?: string;
  showModel?: boolean;
  empty: string;
}) {
  if (!events.length)
    return (
      <p className="p-6 text-center text-sm text-slate-600" data-testid="audit-empty">
        {empty}
      </p>
    );
  return (
    <div className="overflow-x-auto">
      <table className="w-full text-left text-sm">
        <thead className="border-b border-slate-200 bg-slate-50 text-xs uppercase tracking-wide text-slate-500">
          <tr>
            <th scope="col" className="px-3 py-2.5 font-medium">
              When
            </th>
            <th scope="col" className="px-3 py-2.5 font-medium">
              Who
            </th>
            <th scope="col" className="px-3 py-2.5 font-medium">
              Action
            </th>
            {showModel ? (
              <th scope="col" className="px-3 py-2.5 font-medium">
                Model
              </th>
            ) : null}
            <th scope="col" className="px-3 py-2.5 font-medium">
              Version
            </th>
            <th scope="col" className="px-3 py-2.5 text-right font-medium">
              Bytes
            </th>
            <th scope="col" className="px-3 py-2.5 font-medium">
              Details
            </th>
            <th scope="col" className="px-3 py-2.5 font-medium">
              From
            </th>
          </tr>
        </thead>
        <tbody className="divide-y divide-slate-100">
          {events.map((e) => {
            const family = e.action.split(".")[0] ?? "";
            const label = AUDIT_ACTION_LABELS[e.action as keyof typeof AUDIT_ACTION_LABELS] ?? e.action;
            return (
              <tr key={e.id} data-testid={rowTestId} data-action={e.action} data-actor={e.actor_email ?? ""}>
                <td className="whitespace-nowrap px-3 py-2 align-top">
                  <time dateTime={new Date(e.created_at).toISOString()} title={new Date(e.created_at).toISOString()}>
                    {formatDateTime(e.created_at)}
                  </time>
                  <div className="text-xs text-slate-500">{timeAgo(e.created_at)}</div>
                </td>
                <td className="px-3 py-2 align-top">
                  <div className="max-w-52 truncate" title={e.actor_email ?? undefined}>
                    {e.actor_email ?? "—"}
                  </div>
                  <div className="text-xs text-slate-500">{VIA_LABEL[e.via] ?? e.via}</div>
                </td>
                <td className="px-3 py-2 align-top">
                  <span
                    className={`whitespace-nowrap rounded px-1.5 py-0.5 text-xs font-medium ${ACTION_STYLE[family] ?? "bg-slate-100 text-slate-700"}`}
                    title={e.action}
                  >
                    {label}
                  </span>
                </td>
                {showModel ? (
                  <td className="px-3 py-2 align-top">
                    {e.model_slug ? (
                      <Link href={`/orgs/${org}/models/${e.model_slug}`} className="font-mono text-xs text-brand-700 hover:underline">
                        {e.model_slug}
                      </Link>
                    ) : e.model_id ? (
                      <span className="text-xs text-slate-500">(deleted model)</span>
                    ) : (
                      <span className="text-slate-400">—</span>
                    )}
                  </td>
                ) : null}
                <td className="px-3 py-2 align-top font-mono text-xs">{e.version ? `v${e.version}` : "—"}</td>
                <td className="whitespace-nowrap px-3 py-2 text-right align-top tabular-nums">
                  {bytesOf(e) != null ? formatBytes(bytesOf(e)!) : "—"}
                </td>
                <td className="max-w-80 px-3 py-2 align-top text-xs text-slate-600">
                  <EventDetails event={e} />
                </td>
                <td className="px-3 py-2 align-top text-xs text-slate-500">
                  <div>{e.ip ?? "—"}</div>
                  {e.user_agent ? (
                    <div className="max-w-40 truncate" title={e.user_agent}>
                      {e.user_agent}
                    </div>
                  ) : null}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

/** The summary, and every detail on demand: nothing is cut off. */
function EventDetails({ event: e }: { event: AuditEvent }) {
  const summary = describeEvent(e) || "—";
  const keys = Object.keys(e.details ?? {});
  if (!keys.length) return <span>{summary}</span>;
  return (
    <details className="group" data-testid="audit-details">
      <summary className="cursor-pointer break-words [overflow-wrap:anywhere]" title="Show every detail">
        {summary.length > 140 ? `${summary.slice(0, 140)}…` : summary}
      </summary>
      <pre
        className="mt-1 max-h-72 overflow-auto rounded bg-slate-50 p-2 text-[11px] whitespace-pre-wrap text-slate-700 [overflow-wrap:anywhere]"
        data-testid="audit-details-full"
      >
        {JSON.stringify(e.details, null, 2)}
      </pre>
    </details>
  );
}
