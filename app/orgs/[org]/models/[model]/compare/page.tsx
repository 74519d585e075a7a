import type { Metadata } from "next";
import Link from "next/link";
import { loadModel } from "@/components/model/load-model";
import { formatBytes } from "@/lib/format";
import { orNotFound } from "@/lib/web/page-auth";

export const metadata: Metadata = { title: "Compare versions" };

const short = (sha: string) => `${sha.slice(0, 10)}…`;
const show = (v: unknown) => (v === null || v === undefined ? "—" : typeof v === "object" ? JSON.stringify(v) : String(v));

/** Two versions of a model side by side: files added, removed, changed (by SHA-256), fields, tags, size. */
export default async function ComparePage({
  params,
  searchParams,
}: {
  params: Promise<{ org: string; model: string }>;
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  const { org, model: modelSlug } = await params;
  const sp = await searchParams;
  const { principal, services, model } = await loadModel(org, modelSlug);
  const live = model.versions.filter((v) => v.status !== "deleted");
  const to = typeof sp.to === "string" ? sp.to : (live[0]?.version ?? "");
  const from = typeof sp.from === "string" ? sp.from : (live.find((v) => v.version !== to)?.version ?? to);
  const diff = from && to ? await orNotFound(services.files.compare(principal, org, modelSlug, from, to)) : null;
  const base = `/orgs/${org}/models/${modelSlug}`;

  return (
    <div className="space-y-5">
      <nav aria-label="Breadcrumb" className="text-sm text-slate-600">
        <Link href={`/orgs/${org}`} className="hover:underline">
          Models
        </Link>{" "}
        <span aria-hidden>/</span>{" "}
        <Link href={base} className="font-mono hover:underline">
          {model.slug}
        </Link>{" "}
        <span aria-hidden>/</span> compare
      </nav>
      <h1 className="text-2xl font-semibold tracking-tight">Compare versions of {model.name}</h1>
      <form className="card flex flex-wrap items-end gap-3 p-4" method="get">
        <label className="text-sm">
          <span className="label">From</span>
          <select name="from" defaultValue={from} className="input">
            {model.versions.map((v) => (
              <option key={v.id} value={v.version}>
                v{v.version}
                {v.status === "deleted" ? " (deleted)" : ""}
              </option>
            ))}
          </select>
        </label>
        <label className="text-sm">
          <span className="label">To</span>
          <select name="to" defaultValue={to} className="input">
            {model.versions.map((v) => (
              <option key={v.id} value={v.version}>
                v{v.version}
                {v.status === "deleted" ? " (deleted)" : ""}
              </option>
            ))}
          </select>
        </label>
        <button type="submit" className="btn-primary">
          Compare
        </button>
      </form>
      {diff ? (
        <div className="space-y-4" data-testid="compare-result">
          <section className="card p-4" aria-labelledby="files-diff">
            <h2 id="files-diff" className="font-medium">
              Files: v{diff.from} → v{diff.to}
            </h2>
            <p className="mt-1 text-sm text-slate-600" data-testid="compare-summary">
              {diff.files.added.length} added · {diff.files.removed.length} removed · {diff.files.changed.length} changed ·{" "}
              {diff.files.unchanged} unchanged · size {diff.size_delta >= 0 ? "+" : "−"}
              {formatBytes(Math.abs(diff.size_delta))}
            </p>
            <ul className="mt-3 space-y-1 text-sm">
              {diff.files.added.map((f) => (
                <li key={`a:${f.path}`} data-testid="diff-added" className="font-mono text-xs text-green-800">
                  + {f.path}{" "}
                  <span className="text-slate-500">
                    ({formatBytes(f.size)}, {short(f.sha256)})
                  </span>
                </li>
              ))}
              {diff.files.removed.map((f) => (
                <li key={`r:${f.path}`} data-testid="diff-removed" className="font-mono text-xs text-red-800">
                  − {f.path} <span className="text-slate-500">({formatBytes(f.size)})</span>
                </li>
              ))}
              {diff.files.changed.map((f) => (
                <li key={`c:${f.path}`} data-testid="diff-changed" className="font-mono text-xs text-amber-800">
                  ~ {f.path}{" "}
                  <span className="text-slate-500">
                    ({short(f.from.sha256)} {formatBytes(f.from.size)} → {short(f.to.sha256)} {formatBytes(f.to.size)})
                  </span>
                </li>
              ))}
            </ul>
          </section>
          <section className="card p-4" aria-labelledby="fields-diff">
            <h2 id="fields-diff" className="font-medium">
              Metadata and tags that differ
            </h2>
            {diff.metadata.length + diff.tags.length ? (
              <div className="mt-2 overflow-x-auto">
                <table className="w-full text-left text-sm">
                  <thead className="text-xs uppercase tracking-wide text-slate-500">
                    <tr>
                      <th scope="col" className="py-1 pr-3 font-medium">
                        Field
                      </th>
                      <th scope="col" className="py-1 pr-3 font-medium">
                        v{diff.from}
                      </th>
                      <th scope="col" className="py-1 font-medium">
                        v{diff.to}
                      </th>
                    </tr>
                  </thead>
                  <tbody className="divide-y divide-slate-100">
                    {[...diff.tags.map((t) => ({ key: `tag ${t.key}`, from: t.from, to: t.to })), ...diff.metadata].map((d) => (
                      <tr key={d.key} data-testid="diff-field">
                        <td className="py-1 pr-3 font-mono text-xs">{d.key}</td>
                        <td className="max-w-xs break-all py-1 pr-3 text-xs">{show(d.from)}</td>
                        <td className="max-w-xs break-all py-1 text-xs">{show(d.to)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            ) : (
              <p className="mt-2 text-sm text-slate-600">None.</p>
            )}
          </section>
        </div>
      ) : (
        <p className="text-sm text-slate-600">This model has no version to compare yet.</p>
      )}
    </div>
  );
}
