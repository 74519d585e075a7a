import type { Metadata } from "next";
import Link from "next/link";
import { ModelFilters } from "@/components/models/model-filters";
import { AliasBadge, VerdictBadge } from "@/components/verdict-badge";
import { formatBytes } from "@/lib/format";
import { FRAMEWORKS, MODEL_SORTS, SCAN_VERDICTS, TASK_TYPES, TASK_TYPE_LABELS, listModelsQuerySchema } from "@/lib/validations/models";
import { singleParams, timeAgo } from "@/lib/web/format";
import { canWrite, requireOrg } from "@/lib/web/page-auth";

export const metadata: Metadata = { title: "Models" };

type Search = Record<string, string | string[] | undefined>;
type ModelSort = (typeof MODEL_SORTS)[number];
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
  const [page, total, facets] = await Promise.all([
    services.catalog.listModels(principal, slug, query),
    services.catalog.countModels(principal, slug, query),
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
          <p className="text-sm text-slate-600">Every model {org.name} stores.</p>
        </div>
        {canWrite(org) ? (
          <Link href={`${base}/upload`} className="btn-primary" data-testid="upload-link">
            Upload a model
          </Link>
        ) : null}
      </div>

      <ModelFilters
        q={query.q}
        dir={query.dir}
        clearHref={base}
        filtered={filtered}
        selects={[
          { id: "framework", label: "Framework", value: query.framework, options: frameworks.map((f) => [f, f]) },
          { id: "type", label: "Type", value: query.type, options: TASK_TYPES.map((t) => [t, TASK_TYPE_LABELS[t]]) },
          { id: "tag", label: "Tag", value: query.tag, options: facets.tags.map((t) => [t, t]) },
          { id: "verdict", label: "Scan", value: query.verdict, options: SCAN_VERDICTS.map((v) => [v, v.replace("_", " ")]) },
          { id: "sort", label: "Sort", value: query.sort, options: MODEL_SORTS.map((s) => [s, SORT_LABEL[s]]), all: false },
        ]}
      />

      <p className="text-sm text-slate-600" role="status" data-testid="model-count" data-total={total}>
        {filtered ? `${total} model${total === 1 ? "" : "s"} match${total === 1 ? "es" : ""}` : `${total} model${total === 1 ? "" : "s"}`}
      </p>

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
                <SortHeader label="Model" sort="name" current={query} qs={qs} />
                <th scope="col" className="px-4 py-2.5 font-medium">
                  Type
                </th>
                <th scope="col" className="px-4 py-2.5 font-medium">
                  Framework
                </th>
                <th scope="col" className="px-4 py-2.5 font-medium">
                  Latest
                </th>
                <SortHeader label="Size" sort="size" current={query} qs={qs} right />
                <th scope="col" className="px-4 py-2.5 font-medium">
                  Scan
                </th>
                <SortHeader label="Updated" sort="updated" current={query} qs={qs} />
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
                      <span className="text-slate-500">no versions</span>
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
        <span className="text-slate-600">
          {page.items.length} shown of {total}
        </span>
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

/** The natural direction of each sort (name A→Z; the others newest or largest first). */
const NATURAL_DIR: Record<ModelSort, "asc" | "desc"> = { name: "asc", updated: "desc", created: "desc", size: "desc" };

/** A column header that sorts the list on the server: a link (works without JavaScript), aria-sort for screen readers. */
function SortHeader({
  label,
  sort,
  current,
  qs,
  right = false,
}: {
  label: string;
  sort: ModelSort;
  current: { sort: ModelSort; dir?: "asc" | "desc" };
  qs: (extra: Record<string, string | undefined>) => string;
  right?: boolean;
}) {
  const active = current.sort === sort;
  const dir = active ? (current.dir ?? NATURAL_DIR[sort]) : undefined;
  const nextDir = active ? (dir === "asc" ? "desc" : "asc") : NATURAL_DIR[sort];
  const href = qs({ sort, dir: nextDir === NATURAL_DIR[sort] ? undefined : nextDir, cursor: undefined });
  return (
    <th
      scope="col"
      className={`px-4 py-2.5 font-medium ${right ? "text-right" : ""}`}
      aria-sort={dir === "asc" ? "ascending" : dir === "desc" ? "descending" : "none"}
    >
      <Link href={href} className="inline-flex items-center gap-1 hover:text-slate-900" data-testid={`sort-${sort}`} scroll={false}>
        {label}
        <svg aria-hidden viewBox="0 0 10 12" className={`h-3 w-2.5 ${active ? "text-slate-700" : "text-slate-400"}`} fill="currentColor">
          {dir !== "desc" ? <path d="M5 0 9 5H1z" /> : null}
          {dir !== "asc" ? <path d="M5 12 1 7h8z" /> : null}
        </svg>
      </Link>
    </th>
  );
}
