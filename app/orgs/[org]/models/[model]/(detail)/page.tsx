import type { Metadata } from "next";
import Link from "next/link";
import { AuditTable } from "@/components/audit/audit-table";
import { AliasForm, ProtectedAliasesForm } from "@/components/model/alias-form";
import { EditModelForm } from "@/components/model/edit-model-form";
import { loadModel } from "@/components/model/load-model";
import { PipelineSnippets } from "@/components/model/pipeline-snippets";
import { SignedLinkButton } from "@/components/model/signed-link-button";
import { requestOrigin } from "@/components/model/request-origin";
import { VersionDetails } from "@/components/model/version-details";
import { loadVersionFiles } from "@/components/model/load-version-files";
import { VersionFiles } from "@/components/model/version-files";
import { VersionsTable } from "@/components/model/versions-table";
import { AliasBadge } from "@/components/verdict-badge";
import { formatBytes } from "@/lib/format";
import { extensionFromFileName } from "@/lib/storage/object-key";
import { FRAMEWORKS, TASK_TYPES, TASK_TYPE_LABELS } from "@/lib/validations/models";
import { formatDateTime, timeAgo } from "@/lib/web/format";
import { canWrite, isAdmin, orNotFound } from "@/lib/web/page-auth";
import { suggestNextVersion } from "@/components/upload/upload-helpers";

type Params = { org: string; model: string };

export async function generateMetadata({ params }: { params: Promise<Params> }): Promise<Metadata> {
  return { title: (await params).model };
}

export default async function ModelPage({
  params,
  searchParams,
}: {
  params: Promise<Params>;
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  const { org: slug, model: modelSlug } = await params;
  const sp = await searchParams;
  const { principal, services, org, model } = await loadModel(slug, modelSlug);
  const [history, audit, protectedAliases] = await Promise.all([
    orNotFound(services.aliases.aliasHistory(principal, slug, modelSlug)),
    orNotFound(services.audit.list(principal, slug, { model: modelSlug, limit: 50 })),
    orNotFound(services.aliases.listProtected(principal, slug)),
  ]);
  const writer = canWrite(org);
  const admin = isAdmin(org);
  const base = `/orgs/${slug}`;
  const requested = typeof sp.version === "string" ? sp.version : undefined;
  const live = model.versions.filter((v) => v.status !== "deleted");
  // An unknown ?version= says so instead of silently showing the latest version.
  const missing = requested !== undefined && !model.versions.some((v) => v.version === requested) ? requested : undefined;
  const selected = missing ? undefined : (model.versions.find((v) => v.version === requested) ?? live[0] ?? model.versions[0]);
  const versionOf = (version: string) => model.versions.find((v) => v.version === version);
  const ready = model.versions.filter((v) => v.status === "ready");
  const nextVersion = suggestNextVersion(model.versions.map((v) => v.version));
  const latestReady = ready[0];
  const filesView = selected ? await loadVersionFiles(services, principal, slug, modelSlug, selected) : null;

  const origin = await requestOrigin();
  let ext = "pkl";
  try {
    ext = extensionFromFileName((latestReady ?? model.versions[0])?.file_name || "model.pkl");
  } catch {}

  return (
    <div className="space-y-6">
      <nav aria-label="Breadcrumb" className="text-sm text-slate-600">
        <Link href={base} className="hover:underline">
          Models
        </Link>{" "}
        <span aria-hidden>/</span> <span className="font-mono">{model.slug}</span>
      </nav>

      <section className="card p-5" aria-labelledby="model-title">
        <div className="flex flex-wrap items-start justify-between gap-4">
          <div className="min-w-0 flex-1">
            <h1 id="model-title" className="text-2xl font-semibold tracking-tight" data-testid="model-title">
              {model.name}
            </h1>
            <div className="mt-1 flex flex-wrap items-center gap-2 text-sm text-slate-600">
              <code className="rounded bg-slate-100 px-1.5 py-0.5 text-xs" data-testid="model-slug">
                {model.slug}
              </code>
              <span className="rounded bg-slate-100 px-2 py-0.5 text-xs" data-testid="model-type">
                {TASK_TYPE_LABELS[model.task_type as keyof typeof TASK_TYPE_LABELS] ?? model.task_type}
              </span>
              <span className="rounded bg-slate-100 px-2 py-0.5 text-xs" data-testid="model-framework">
                {model.framework ?? "framework not set"}
              </span>
              {model.tags.map((t) => (
                <span key={t} className="rounded bg-brand-50 px-2 py-0.5 text-xs text-brand-700" data-testid="model-tag">
                  {t}
                </span>
              ))}
            </div>
            {model.description ? (
              <p className="mt-3 max-w-3xl whitespace-pre-line text-sm text-slate-700" data-testid="model-description">
                {model.description}
              </p>
            ) : (
              <p className="mt-3 text-sm text-slate-500">No description.</p>
            )}
          </div>
          <div className="flex flex-col items-end gap-4">
            <dl className="grid grid-cols-3 gap-4 text-sm">
              <div>
                <dt className="text-xs text-slate-500">Versions</dt>
                <dd className="font-medium tabular-nums">{model.version_count}</dd>
              </div>
              <div>
                <dt className="text-xs text-slate-500">Stored</dt>
                <dd className="font-medium tabular-nums">{formatBytes(model.total_bytes)}</dd>
              </div>
              <div>
                <dt className="text-xs text-slate-500">Updated</dt>
                <dd className="font-medium" title={formatDateTime(model.updated_at)}>
                  {timeAgo(model.updated_at)}
                </dd>
              </div>
            </dl>
            {writer ? (
              <Link href={`${base}/upload?model=${model.slug}`} className="btn-primary" data-testid="upload-version-link">
                Upload a new version
              </Link>
            ) : (
              <p className="max-w-64 text-right text-xs text-slate-600" data-testid="role-explainer">
                Viewers can download but not upload, edit or move aliases — ask an admin of this organization for the member role.
              </p>
            )}
          </div>
        </div>
        {writer ? (
          <details className="mt-4 border-t border-slate-100 pt-3">
            <summary
              className="inline-flex cursor-pointer items-center gap-1 text-sm font-medium text-brand-700 hover:underline"
              data-testid="edit-model-toggle"
            >
              Edit details
            </summary>
            <div className="mt-3">
              <EditModelForm org={slug} model={model} taskTypes={TASK_TYPES.map((t) => [t, TASK_TYPE_LABELS[t]])} frameworks={FRAMEWORKS} />
            </div>
          </details>
        ) : null}
      </section>

      <section className="card" aria-labelledby="versions-heading">
        <div className="flex items-center justify-between px-4 pt-4 pb-2">
          <h2 id="versions-heading" className="font-medium">
            Versions
          </h2>
          <p className="text-xs text-slate-500">
            Versions are immutable: a new upload is a new version. Deleted versions stay listed for the record.
          </p>
        </div>
        <VersionsTable
          org={slug}
          model={model.slug}
          versions={model.versions}
          selected={selected?.version}
          viewer={{ userId: principal.userId, canWrite: writer, isAdmin: admin }}
        />
      </section>

      <div className="grid gap-6 lg:grid-cols-[minmax(0,2fr)_minmax(0,3fr)]">
        <section className="card p-4" aria-labelledby="aliases-heading">
          <h2 id="aliases-heading" className="font-medium">
            Aliases
          </h2>
          <p className="mb-3 text-xs text-slate-500">
            Stable names a deployment can fetch, e.g. <code>production</code>. Only ready versions can carry one.
          </p>
          {model.aliases.length ? (
            <ul className="mb-4 space-y-1.5" data-testid="alias-list">
              {model.aliases.map((a) => (
                <li
                  key={a.alias}
                  className="flex flex-wrap items-center gap-2 text-sm"
                  data-testid="alias-item"
                  data-alias={a.alias}
                  data-version={a.version}
                >
                  <AliasBadge alias={a.alias} />
                  {protectedAliases.includes(a.alias) ? (
                    <span className="text-xs text-slate-500" title="Only owners and admins can move it" data-testid="alias-protected">
                      (protected)
                    </span>
                  ) : null}{" "}
                  <span aria-hidden>→</span> <span className="font-mono">v{a.version}</span>
                  <span className="text-xs text-slate-500">
                    {a.updated_by_email ? `by ${a.updated_by_email}, ` : ""}
                    {timeAgo(a.updated_at)}
                  </span>
                </li>
              ))}
            </ul>
          ) : (
            <p className="mb-4 text-sm text-slate-600">No aliases yet.</p>
          )}
          {writer ? (
            ready.length ? (
              <AliasForm
                org={slug}
                model={model.slug}
                versions={ready.map((v) => ({ version: v.version, sha256: v.sha256, scan_verdict: v.scan_verdict }))}
                aliases={model.aliases.map((a) => ({
                  alias: a.alias,
                  version: a.version,
                  sha256: versionOf(a.version)?.sha256 ?? null,
                  scan_verdict: versionOf(a.version)?.scan_verdict ?? null,
                }))}
                protectedAliases={protectedAliases}
                canProtect={admin}
              />
            ) : (
              <p className="text-sm text-slate-600">Upload a ready (not quarantined) version to point an alias at it.</p>
            )
          ) : (
            <p className="text-sm text-slate-600" data-testid="alias-role-explainer">
              Viewers cannot move aliases. Members move them; protected aliases
              {protectedAliases.length ? ` (${protectedAliases.join(", ")})` : ""} only owners and admins.
            </p>
          )}
          {admin ? (
            <div className="mt-4">
              <ProtectedAliasesForm org={slug} protectedAliases={protectedAliases} />
            </div>
          ) : null}
        </section>

        <section className="card" aria-labelledby="alias-history-heading">
          <h2 id="alias-history-heading" className="px-4 pt-4 pb-2 font-medium">
            Alias history
          </h2>
          {history.length ? (
            <div className="max-h-80 overflow-auto">
              <table className="w-full text-left text-sm">
                <thead className="sticky top-0 border-b border-slate-200 bg-slate-50 text-xs uppercase tracking-wide text-slate-500">
                  <tr>
                    <th scope="col" className="px-4 py-2 font-medium">
                      Alias
                    </th>
                    <th scope="col" className="px-4 py-2 font-medium">
                      Move
                    </th>
                    <th scope="col" className="px-4 py-2 font-medium">
                      By
                    </th>
                    <th scope="col" className="px-4 py-2 font-medium">
                      When
                    </th>
                  </tr>
                </thead>
                <tbody className="divide-y divide-slate-100">
                  {history.map((m, i) => (
                    <tr
                      key={i}
                      data-testid="alias-history-row"
                      data-alias={m.alias}
                      data-from={m.from_version ?? ""}
                      data-to={m.to_version ?? ""}
                    >
                      <td className="px-4 py-2">
                        <AliasBadge alias={m.alias} />
                      </td>
                      <td className="px-4 py-2 font-mono text-xs">
                        {m.from_version ? `v${m.from_version}` : "—"} → {m.to_version ? `v${m.to_version}` : "removed"}
                      </td>
                      <td className="max-w-48 truncate px-4 py-2 text-slate-600" title={m.moved_by_email ?? undefined}>
                        {m.moved_by_email ?? "—"}
                      </td>
                      <td className="whitespace-nowrap px-4 py-2 text-slate-600" title={formatDateTime(m.moved_at)}>
                        {timeAgo(m.moved_at)}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          ) : (
            <p className="px-4 pb-4 text-sm text-slate-600">No alias has been moved yet.</p>
          )}
        </section>
      </div>

      {missing ? (
        <section id="details" className="card border-amber-300 p-4" aria-labelledby="details-heading" data-testid="version-not-found">
          <h2 id="details-heading" className="font-medium">
            Version {missing} not found
          </h2>
          <p className="mt-1 text-sm text-slate-600">
            {model.slug} has no version {missing}
            {model.versions.length
              ? ` (it has ${model.versions
                  .slice(0, 8)
                  .map((v) => `v${v.version}`)
                  .join(", ")}${model.versions.length > 8 ? ", …" : ""})`
              : ""}
            .
          </p>
          {live[0] ? (
            <Link href={`${base}/models/${model.slug}#details`} className="btn-secondary mt-3" data-testid="version-not-found-latest">
              Show the latest version (v{live[0].version})
            </Link>
          ) : null}
        </section>
      ) : null}

      {selected ? (
        <section id="details" className="card scroll-mt-4 p-4" aria-labelledby="details-heading">
          <div className="mb-4 flex flex-wrap items-center justify-between gap-2">
            <h2 id="details-heading" className="font-medium">
              Version v{selected.version}: scan and metadata
            </h2>
            {model.versions.length > 1 ? (
              <nav aria-label="Pick a version" className="flex flex-wrap gap-1">
                {model.versions.slice(0, 12).map((v) => (
                  <Link
                    key={v.id}
                    href={`${base}/models/${model.slug}?version=${encodeURIComponent(v.version)}#details`}
                    scroll={false}
                    aria-current={v.id === selected.id ? "true" : undefined}
                    className={`rounded px-2 py-0.5 font-mono text-xs ${v.id === selected.id ? "bg-brand-600 text-white" : "bg-slate-100 text-slate-700 hover:bg-slate-200"} ${v.status === "deleted" ? "line-through" : ""}`}
                  >
                    v{v.version}
                  </Link>
                ))}
              </nav>
            ) : null}
          </div>
          {selected.status === "ready" ? (
            <div className="mb-4">
              <SignedLinkButton
                apiBase={`/api/v1/orgs/${slug}/models/${model.slug}/versions/${encodeURIComponent(selected.version)}`}
                archive={selected.file_count !== 1}
              />
            </div>
          ) : null}
          <VersionDetails version={selected} />
        </section>
      ) : null}

      {selected && filesView ? (
        <section id="files" className="card scroll-mt-4 p-4" aria-labelledby="files-heading">
          <div className="mb-3 flex flex-wrap items-center justify-between gap-2">
            <h2 id="files-heading" className="font-medium">
              Files of v{selected.version}
              {selected.layout && selected.layout !== "single-file" ? (
                <span className="ml-2 rounded bg-slate-100 px-2 py-0.5 text-xs font-normal text-slate-700" data-testid="version-layout">
                  {selected.layout}
                </span>
              ) : null}
            </h2>
            {model.versions.filter((v) => v.status !== "deleted").length > 1 ? (
              <Link
                className="text-sm text-brand-700 underline"
                href={`${base}/models/${model.slug}/compare?to=${encodeURIComponent(selected.version)}`}
                data-testid="compare-link"
              >
                Compare with another version
              </Link>
            ) : null}
          </div>
          <VersionFiles
            base={`/api/v1/orgs/${slug}/models/${model.slug}/versions/${encodeURIComponent(selected.version)}`}
            version={selected.version}
            files={filesView.files}
            card={filesView.card}
            previews={filesView.previews}
            quarantined={selected.status === "quarantined"}
            canDownload={selected.status === "ready" || (selected.status === "quarantined" && admin)}
          />
        </section>
      ) : null}

      <section className="card p-4" aria-labelledby="snippets-heading">
        <h2 id="snippets-heading" className="font-medium">
          Use it from a pipeline
        </h2>
        <p className="mb-3 text-sm text-slate-600">
          Create a token on{" "}
          <Link href={`${base}/tokens`} className="text-brand-700 underline">
            API tokens
          </Link>
          , then {writer ? "upload new versions and " : ""}download verified files from CI or a notebook.
        </p>
        <PipelineSnippets
          origin={origin}
          org={slug}
          model={model}
          nextVersion={nextVersion}
          ext={ext}
          canUpload={writer}
          download={
            latestReady?.sha256 && latestReady.file_count === 1
              ? { version: latestReady.version, sha256: latestReady.sha256, fileName: latestReady.file_name || "model" }
              : undefined
          }
        />
      </section>

      <section className="card" aria-labelledby="model-audit-heading">
        <div className="flex items-center justify-between px-4 pt-4 pb-2">
          <h2 id="model-audit-heading" className="font-medium">
            Activity
          </h2>
          <Link href={`${base}/audit?model=${model.slug}`} className="text-sm text-brand-700 hover:underline">
            Full audit log →
          </Link>
        </div>
        <AuditTable
          org={slug}
          events={audit.items}
          rowTestId="model-audit-row"
          showModel={false}
          empty="No activity recorded for this model."
        />
      </section>
    </div>
  );
}
