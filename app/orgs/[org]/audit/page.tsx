import type { Metadata } from "next";
import Link from "next/link";
import { AuditTable } from "@/components/audit/audit-table";
import { AUDIT_ACTIONS, AUDIT_ACTION_LABELS, AUDIT_EXPORT_MAX_ROWS, auditQuerySchema } from "@/lib/audit/query";
import { AppError } from "@/lib/errors";
import { requireOrg } from "@/lib/web/page-auth";
import { singleParams } from "@/lib/web/format";

export const metadata: Metadata = { title: "Audit log" };

const FAMILIES = [...new Set(AUDIT_ACTIONS.map((a) => a.split(".")[0]!))];
const FAMILY_LABEL: Record<string, string> = {
  version: "All version events",
  blob: "All stored-file events",
  upload: "All upload events",
  link: "All link events",
  alias: "All alias events",
  model: "All model events",
  member: "All member events",
  token: "All token events",
  org: "All organization events",
};

export default async function AuditPage({
  params,
  searchParams,
}: {
  params: Promise<{ org: string }>;
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  const { org: slug } = await params;
  const single = singleParams(await searchParams);
  const parsed = auditQuerySchema.safeParse(single);
  const query = parsed.success ? parsed.data : auditQuerySchema.parse({});
  const invalid = parsed.success ? null : parsed.error.issues.map((i) => `${String(i.path[0])}: ${i.message}`).join("; ");
  const { principal, services, org } = await requireOrg(slug);
  const [page, members, models] = await Promise.all([
    // A stale or hand-edited cursor falls back to the newest page instead of an error screen.
    services.audit.list(principal, slug, query).catch((e) => {
      if (e instanceof AppError && e.code === "bad_request" && query.cursor)
        return services.audit.list(principal, slug, { ...query, cursor: undefined });
      throw e;
    }),
    services.orgs.listMembers(principal, org.slug),
    services.catalog.listModels(principal, slug, { sort: "name", limit: 200 }),
  ]);
  const base = `/orgs/${slug}/audit`;
  const filters = { actor: query.actor, action: query.action, model: query.model, from: query.from, to: query.to };
  const qs = (extra: Record<string, string | undefined>) => {
    const u = new URLSearchParams();
    for (const [k, v] of Object.entries({ ...filters, ...extra })) if (v) u.set(k, v);
    const s = u.toString();
    return s ? `?${s}` : "";
  };
  const filtered = Object.values(filters).some(Boolean);
  const exportHref = `/api/v1/orgs/${slug}/audit${qs({ format: "csv" })}`;

  return (
    <div className="space-y-5">
      <div className="flex flex-wrap items-end justify-between gap-3">
        <div>
          <h1 className="text-2xl font-semibold tracking-tight">Audit log</h1>
          <p className="text-sm text-slate-600">
            Every upload, download, delete, alias move, membership and token change in {org.name}. Append-only: nobody can edit or remove an
            entry.
          </p>
        </div>
        <a
          href={exportHref}
          className="btn-secondary"
          download
          data-testid="audit-export"
          title={`Up to ${AUDIT_EXPORT_MAX_ROWS.toLocaleString("en-US")} rows, with the filters below`}
        >
          Export CSV
        </a>
      </div>

      <form method="get" role="search" aria-label="Filter the audit log" className="card flex flex-wrap items-end gap-3 p-3">
        <div className="min-w-48 flex-1">
          <label className="label" htmlFor="actor">
            Actor (e-mail)
          </label>
          <input
            id="actor"
            name="actor"
            list="audit-actors"
            defaultValue={query.actor}
            placeholder="Anyone"
            className="input"
            autoComplete="off"
            data-testid="audit-filter-actor"
          />
          <datalist id="audit-actors">
            {members.map((m) => (
              <option key={m.user_id} value={m.email} />
            ))}
          </datalist>
        </div>
        <div>
          <label className="label" htmlFor="action">
            Action
          </label>
          <select id="action" name="action" defaultValue={query.action ?? ""} className="input w-52 pr-8" data-testid="audit-filter-action">
            <option value="">Any action</option>
            {FAMILIES.map((f) => (
              <optgroup key={f} label={f}>
                {AUDIT_ACTIONS.filter((a) => a.startsWith(`${f}.`)).length > 1 ? <option value={f}>{FAMILY_LABEL[f] ?? f}</option> : null}
                {AUDIT_ACTIONS.filter((a) => a.startsWith(`${f}.`)).map((a) => (
                  <option key={a} value={a}>
                    {AUDIT_ACTION_LABELS[a]}
                  </option>
                ))}
              </optgroup>
            ))}
          </select>
        </div>
        <div>
          <label className="label" htmlFor="model">
            Model
          </label>
          <select id="model" name="model" defaultValue={query.model ?? ""} className="input w-52 pr-8" data-testid="audit-filter-model">
            <option value="">Any model</option>
            {query.model && !models.items.some((m) => m.slug === query.model) ? <option value={query.model}>{query.model}</option> : null}
            {models.items.map((m) => (
              <option key={m.slug} value={m.slug}>
                {m.name}
              </option>
            ))}
          </select>
        </div>
        <div>
          <label className="label" htmlFor="from">
            From
          </label>
          <input
            id="from"
            name="from"
            type="date"
            defaultValue={query.from?.slice(0, 10)}
            className="input"
            data-testid="audit-filter-from"
          />
        </div>
        <div>
          <label className="label" htmlFor="to">
            To
          </label>
          <input id="to" name="to" type="date" defaultValue={query.to?.slice(0, 10)} className="input" data-testid="audit-filter-to" />
        </div>
        <button type="submit" className="btn-primary" data-testid="audit-apply">
          Apply
        </button>
        {filtered ? (
          <Link href={base} className="btn-secondary" data-testid="audit-clear">
            Clear
          </Link>
        ) : null}
      </form>

      {invalid ? (
        <p role="alert" className="text-sm text-red-700">
          Some filters were ignored ({invalid}).
        </p>
      ) : null}

      <section className="card" aria-label="Events">
        <AuditTable org={slug} events={page.items} empty={filtered ? "No events match these filters." : "No events yet."} />
      </section>

      <nav aria-label="Pagination" className="flex items-center justify-between text-sm">
        <span className="text-slate-600">
          {page.items.length} event{page.items.length === 1 ? "" : "s"} shown, newest first · dates in UTC
        </span>
        <div className="flex gap-2">
          {query.cursor ? (
            <Link className="btn-secondary" href={`${base}${qs({})}`} data-testid="audit-first-page">
              Newest
            </Link>
          ) : null}
          {page.next_cursor ? (
            <Link className="btn-secondary" href={`${base}${qs({ cursor: page.next_cursor })}`} data-testid="audit-next-page">
              Older events
            </Link>
          ) : null}
        </div>
      </nav>
    </div>
  );
}
