import type { Metadata } from "next";
import Link from "next/link";
import { AliasBadge, VerdictBadge } from "@/components/verdict-badge";
import { formatBytes } from "@/lib/format";
import { FRAMEWORKS, MODEL_SORTS, SCAN_VERDICTS, TASK_TYPES, TASK_TYPE_LABELS, listModelsQuerySchema } from "@/lib/validations/models";
import { singleParams, timeAgo } from "@/lib/web/format";
import { canWrite, requireOrg } from "@/lib/web/page-auth";

export const metadata: Metadata = { title: "Models" };

type Search = Record<string, string | string[] | undefined>;
const SORT_LABEL: Record<(typeof MODEL_SORTS)[number], string> = {
  updated: "Recently updated",
  created: "Newest",
  name: "Name",
  size: "Largest",
};

export default async function ModelsPage({ params, searchParams }: { params: Promise<{ org: string }>; searchParams: Promise<Search> }) {
  const { org: slug } = await params;
  const single = singleParams(await searchParams);
  const parsed = listModelsQuerySchema.safeParse(single);
  const query = parsed.success ? parsed.data : listModelsQuerySchema.parse({});
  const { principal, services, org } = await requireOrg(slug);
  const [page, facets] = await Promise.all([
    services.catalog.listModels(principal, slug, query),
    services.catalog.listFacets(principal, slug),
  ]);
  const filtered = Boolean(query.q || query.framework || query.type || query.tag || query.verdict);
  const base = `/orgs/${slug}`;
  const qs = (extra: Record<string, string | undefined>) => {
    const u = new URLSearchParams();
    for (const [k, v] of Object.entries({ ...single, ...extra })) if (v) u.set(k, v);
    return `?${u}`;
  };
  const frameworks = [...new Set([...facets.frameworks, ...FRAMEWORKS.filter((f) => f !== "other")])].sort();

  return (
    <div className="space-y-5">
      <div className="flex flex-wrap items-end justify-between gap-3">
        <div>
          <h1 className="text-2xl font-semibold tracking-tight">Models</h1>
          <p className="text-sm text-slate-600">Every model {org.name} stores, newest activity first.</p>
        </div>
        {canWrite(org) ? (
          <Link href={`${base}/upload`} className="btn-primary" data-testid="upload-link">
            Upload a model
          </Link>
        ) : null}
      </div>

      <form role="search" aria-label="Search and filter models" className="card flex flex-wrap items-end gap-3 p-3" method="get">
        <div className="min-w-56 flex-1">
          <label htmlFor="q" className="label">
            Search
          </label>
          <input
            id="q"
            name="q"
            defaultValue={query.q}
            placeholder="Name, tag, framework, description…"
            className="input"
            data-testid="search"
          />
        </div>
        <Select id="framework" label="Framework" value={query.framework} options={frameworks.map((f) => [f, f])} />
        <Select id="type" label="Type" value={query.type} options={TASK_TYPES.map((t) => [t, TASK_TYPE_LABELS[t]])} />
        <Select id="tag" label="Tag" value={query.tag} options={facets.tags.map((t) => [t, t])} />
        <Select id="verdict" label="Scan" value={query.verdict} options={SCAN_VERDICTS.map((v) => [v, v.replace("_", " ")])} />
        <Select id="sort" label="Sort" value={query.sort} options={MODEL_SORTS.map((s) => [s, SORT_LABEL[s]])} all={false} />
        <button type="submit" className="btn-primary" data-testid="apply-filters">
          Apply
        </button>
        {filtered ? (
          <Link href={base} className="btn-secondary">
            Clear
          </Link>
        ) : null}
      </form>

      {page.items.length === 0 ? (
        <div className="card p-10 text-center" data-testid="empty-state">
          {filtered ? (
            <>
              <p className="font-medium">No models match these filters.</p>
              <p className="mt-1 text-sm text-slate-600">
                Try another search, or{" "}
                <Link className="text-brand-700 underline" href={base}>
                  clear the filters
                </Link>
                .
              </p>
            </>
          ) : (
            <>
              <p className="font-medium">No models yet.</p>
              <p className="mt-1 text-sm text-slate-600">
                {canWrite(org) ? (
                  <>
                    Drag a model file onto the{" "}
                    <Link className="text-brand-700 underline" href={`${base}/upload`}>
                      upload page
                    </Link>
                    , or push one from a pipeline with the REST API.
                  </>
                ) : (
                  "When your team uploads models, they appear here."
                )}
              </p>
            </>
          )}
        </div>
      ) : (
        <div className="card overflow-x-auto">
          <table className="w-full text-left text-sm" data-testid="models-table">
            <caption className="sr-only">Models of {org.name}</caption>
            <thead className="border-b border-slate-200 bg-slate-50 text-xs uppercase tracking-wide text-slate-500">
              <tr>
                <th scope="col" className="px-4 py-2.5 font-medium">
                  Model
                </th>
                <th scope="col" className="px-4 py-2.5 font-medium">
                  Type
                </th>
                <th scope="col" className="px-4 py-2.5 font-medium">
                  Framework
                </th>
                <th scope="col" className="px-4 py-2.5 font-medium">
                  Latest
                </th>
                <th scope="col" className="px-4 py-2.5 text-right font-medium">
                  Size
                </th>
                <th scope="col" className="px-4 py-2.5 font-medium">
                  Scan
                </th>
                <th scope="col" className="px-4 py-2.5 font-medium">
                  Updated
                </th>
              </tr>
            </thead>
            <tbody className="divide-y divide-slate-100">
              {page.items.map((m) => (
                <tr key={m.id} className="hover:bg-slate-50" data-testid="model-row" data-model={m.slug}>
                  <td className="px-4 py-3">
                    <Link href={`${base}/models/${m.slug}`} className="font-medium text-slate-900 hover:text-brand-700 hover:underline">
                      {m.name}
                    </Link>
                    <div className="font-mono text-xs text-slate-500">{m.slug}</div>
                    {m.tags.length ? (
                      <div className="mt-1 flex flex-wrap gap-1">
                        {m.tags.slice(0, 4).map((t) => (
                          <span key={t} className="rounded bg-slate-100 px-1.5 py-0.5 text-xs text-slate-600">
                            {t}
                          </span>
                        ))}
                      </div>
                    ) : null}
                  </td>
                  <td className="px-4 py-3 text-slate-700">
                    {TASK_TYPE_LABELS[m.task_type as keyof typeof TASK_TYPE_LABELS] ?? m.task_type}
                  </td>
                  <td className="px-4 py-3 text-slate-700">{m.framework ?? "—"}</td>
                  <td className="px-4 py-3">
                    {m.latest_version ? (
                      <div className="flex flex-wrap items-center gap-1.5">
                        <span className="font-mono">v{m.latest_version}</span>
                        {m.latest_aliases.map((a) => (
                          <AliasBadge key={a} alias={a} />
                        ))}
                      </div>
                    ) : (
                      <span className="text-slate-400">no versions</span>
                    )}
                    <div className="text-xs text-slate-500">
                      {m.version_count} version{m.version_count === 1 ? "" : "s"}
                    </div>
                  </td>
                  <td className="px-4 py-3 text-right tabular-nums text-slate-700">
                    {m.latest_size_bytes != null ? formatBytes(m.latest_size_bytes) : "—"}
                  </td>
                  <td className="px-4 py-3">
                    <VerdictBadge verdict={m.latest_scan_verdict} />
                  </td>
                  <td className="px-4 py-3 text-slate-600">
                    <time dateTime={new Date(m.updated_at).toISOString()}>{timeAgo(m.updated_at)}</time>
                    {m.latest_created_by_email ? <div className="text-xs text-slate-500">{m.latest_created_by_email}</div> : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}

      <nav aria-label="Pagination" className="flex items-center justify-between text-sm">
        <span className="text-slate-600">{page.items.length} shown</span>
        <div className="flex gap-2">
          {query.cursor ? (
            <Link className="btn-secondary" href={qs({ cursor: undefined })}>
              First page
            </Link>
          ) : null}
          {page.next_cursor ? (
            <Link className="btn-secondary" href={qs({ cursor: page.next_cursor })} data-testid="next-page">
              Next page
            </Link>
          ) : null}
        </div>
      </nav>
    </div>
  );
}

function Select({
  id,
  label,
  value,
  options,
  all = true,
}: {
  id: string;
  label: string;
  value?: string;
  options: [string, string][];
  all?: boolean;
}) {
  return (
    <div>
      <label htmlFor={id} className="label">
        {label}
      </label>
      <select id={id} name={id} defaultValue={value ?? ""} className="input pr-8" data-testid={`filter-${id}`}>
        {all ? <option value="">All</option> : null}
        {options.map(([v, l]) => (
          <option key={v} value={v}>
            {l}
          </option>
        ))}
      </select>
    </div>
  );
}
