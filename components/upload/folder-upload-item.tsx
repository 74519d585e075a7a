"use client";

import { useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useId, useState, type FormEvent } from "react";
import { VerdictBadge } from "@/components/verdict-badge";
import { formatBytes, formatRate } from "@/lib/format";
import { provenanceSchema, versionTagsSchema } from "@/lib/validations/files";
import { TASK_TYPES, TASK_TYPE_LABELS, modelFieldsSchema, modelSlugSchema, slugify, versionSchema } from "@/lib/validations/models";
import { queryKeys } from "@/lib/web/query-client";
import { parseKeyValues, type DroppedFolder } from "./folder-files";
import { suggestNextVersion } from "./upload-helpers";
import type { ModelOption } from "./upload-item";
import { useCommitUpload, type FileState } from "./use-commit-upload";

const STATE_TEXT: Record<FileState, string> = {
  waiting: "waiting",
  hashing: "hashing…",
  stored: "stored",
  deduplicated: "already stored",
  uploading: "uploading",
  failed: "failed",
};

/** One dropped folder: a version of several files. Form, then hash → commit → upload → complete. */
export function FolderUploadItem({
  folder,
  org,
  models,
  preselect,
  chunkBytes,
  onRemove,
}: {
  folder: DroppedFolder;
  org: string;
  models: ModelOption[];
  preselect?: string;
  chunkBytes: number;
  onRemove: () => void;
}) {
  const uid = useId();
  const queryClient = useQueryClient();
  const guessed = models.find((m) => m.slug === (preselect ?? slugify(folder.name)));
  const [model, setModel] = useState(guessed?.slug ?? "");
  const [name, setName] = useState(guessed?.name ?? folder.name);
  const [version, setVersion] = useState(guessed ? suggestNextVersion(guessed.latest_version ? [guessed.latest_version] : []) : "1.0");
  const [task, setTask] = useState(guessed?.task_type ?? "other");
  const [tags, setTags] = useState("");
  const [runUrl, setRunUrl] = useState("");
  const [gitCommit, setGitCommit] = useState("");
  const [dataset, setDataset] = useState("");
  const [parent, setParent] = useState(guessed?.latest_version ?? "");
  const [error, setError] = useState<string | null>(null);
  const up = useCommitUpload(folder, chunkBytes);
  const busy = up.phase !== "idle" && up.phase !== "error" && up.phase !== "done";
  const slug = model || slugify(name);
  const existing = models.find((m) => m.slug === slug);

  function submit(e: FormEvent) {
    e.preventDefault();
    setError(null);
    const v = versionSchema.safeParse(version.trim());
    if (!v.success) return setError(v.error.issues[0]?.message ?? "Invalid version.");
    if (!modelSlugSchema.safeParse(slug).success || !slug) return setError("Give the model a name with at least one letter or digit.");
    if (!model) {
      const fields = modelFieldsSchema.pick({ name: true, task_type: true }).safeParse({ name, task_type: task });
      if (!fields.success) return setError(fields.error.issues[0]?.message ?? "Invalid model fields.");
    }
    const t = versionTagsSchema.safeParse(parseKeyValues(tags));
    if (!t.success) return setError(`Tags: ${t.error.issues[0]?.message}`);
    const prov = provenanceSchema.safeParse({
      ...(runUrl.trim() ? { source_run_url: runUrl.trim() } : {}),
      ...(gitCommit.trim() ? { git_commit: gitCommit.trim() } : {}),
      ...(dataset.trim() ? { dataset: dataset.trim() } : {}),
      ...(existing && parent ? { parent: { model: existing.slug, version: parent } } : {}),
    });
    if (!prov.success) return setError(`Provenance: ${prov.error.issues[0]?.message}`);
    void up
      .start({
        org,
        model: slug,
        version: v.data,
        metadata: model ? {} : { name, task_type: task },
        tags: t.data,
        provenance: prov.data,
      })
      .then(() => {
        void queryClient.invalidateQueries({ queryKey: queryKeys.models(org) });
      });
  }

  const overall = up.progress.toSend
    ? Math.min(100, Math.round((up.progress.sent / up.progress.toSend) * 100))
    : up.phase === "done"
      ? 100
      : 0;
  const deduplicated = Object.values(up.files).filter((f) => f.state === "deduplicated").length;

  return (
    <li className="card p-4" data-testid="folder-item" aria-labelledby={`${uid}-title`}>
      <div className="flex flex-wrap items-start justify-between gap-2">
        <div>
          <h3 id={`${uid}-title`} className="font-medium">
            <span aria-hidden>📁</span> {folder.name}
          </h3>
          <p className="text-sm text-slate-600">
            {folder.files.length} files · {formatBytes(folder.size)} · one version with all of them
          </p>
        </div>
        {!busy && up.phase !== "done" ? (
          <button type="button" className="btn-secondary text-xs" onClick={onRemove}>
            Remove
          </button>
        ) : null}
      </div>

      {up.phase === "done" && up.result ? (
        <div className="mt-3 rounded-md border border-green-200 bg-green-50 p-3 text-sm" role="status" data-testid="folder-done">
          <p className="font-medium text-green-900">
            {slug} v{up.result.version} is {up.result.status === "quarantined" ? "quarantined" : "ready"}{" "}
            <VerdictBadge verdict={up.result.scan.verdict} />
          </p>
          <p className="text-green-900">
            {folder.files.length} files{deduplicated ? ` · ${deduplicated} already stored, not sent again` : ""}.{" "}
            <Link className="underline" href={`/orgs/${org}/models/${slug}?version=${encodeURIComponent(up.result.version)}`}>
              Open the model
            </Link>
          </p>
        </div>
      ) : (
        <form onSubmit={submit} className="mt-3 grid gap-3 sm:grid-cols-2" aria-describedby={error ? `${uid}-error` : undefined}>
          <label className="text-sm">
            <span className="label">Model</span>
            <select className="input" value={model} onChange={(e) => setModel(e.target.value)} disabled={busy}>
              <option value="">New model…</option>
              {models.map((m) => (
                <option key={m.slug} value={m.slug}>
                  {m.name} ({m.slug})
                </option>
              ))}
            </select>
          </label>
          {!model ? (
            <label className="text-sm">
              <span className="label">New model name</span>
              <input className="input" value={name} onChange={(e) => setName(e.target.value)} disabled={busy} required />
            </label>
          ) : null}
          <label className="text-sm">
            <span className="label">Version</span>
            <input className="input" value={version} onChange={(e) => setVersion(e.target.value)} disabled={busy} required />
          </label>
          {!model ? (
            <label className="text-sm">
              <span className="label">Task</span>
              <select className="input" value={task} onChange={(e) => setTask(e.target.value)} disabled={busy}>
                {TASK_TYPES.map((t) => (
                  <option key={t} value={t}>
                    {TASK_TYPE_LABELS[t]}
                  </option>
                ))}
              </select>
            </label>
          ) : null}
          <label className="text-sm sm:col-span-2">
            <span className="label">Version tags (key=value, one per line or comma-separated)</span>
            <textarea
              className="input"
              rows={2}
              value={tags}
              onChange={(e) => setTags(e.target.value)}
              disabled={busy}
              placeholder="dataset=churn-2026-q3, stage=candidate"
            />
          </label>
          <label className="text-sm">
            <span className="label">Source run URL</span>
            <input
              className="input"
              type="url"
              value={runUrl}
              onChange={(e) => setRunUrl(e.target.value)}
              disabled={busy}
              placeholder="https://…"
            />
          </label>
          <label className="text-sm">
            <span className="label">Git commit</span>
            <input
              className="input font-mono"
              value={gitCommit}
              onChange={(e) => setGitCommit(e.target.value)}
              disabled={busy}
              placeholder="3f9c2e1"
            />
          </label>
          <label className="text-sm">
            <span className="label">Dataset</span>
            <input className="input" value={dataset} onChange={(e) => setDataset(e.target.value)} disabled={busy} />
          </label>
          {existing?.latest_version ? (
            <label className="text-sm">
              <span className="label">Parent version</span>
              <input
                className="input"
                value={parent}
                onChange={(e) => setParent(e.target.value)}
                disabled={busy}
                placeholder={existing.latest_version}
              />
            </label>
          ) : null}
          <div className="flex flex-wrap items-center gap-2 sm:col-span-2">
            <button type="submit" className="btn-primary" disabled={busy} data-testid="folder-upload">
              {up.phase === "error" ? "Try again" : up.resumable ? "Resume upload" : `Upload ${folder.files.length} files as one version`}
            </button>
            {busy ? (
              <button type="button" className="btn-secondary" onClick={() => void up.stop(null)}>
                Pause
              </button>
            ) : null}
            {up.resumable && !busy ? (
              <button type="button" className="btn-secondary" onClick={() => void up.stop({ org, model: slug })}>
                Discard the unfinished upload
              </button>
            ) : null}
          </div>
          {error || up.failure ? (
            <p id={`${uid}-error`} role="alert" className="text-sm text-red-700 sm:col-span-2" data-testid="folder-error">
              {error ?? up.failure?.message}
            </p>
          ) : null}
        </form>
      )}

      {up.phase !== "idle" ? (
        <div className="mt-3 space-y-2" aria-live="polite">
          <div className="flex items-center justify-between text-xs text-slate-600">
            <span data-testid="folder-phase">
              {up.phase === "hashing"
                ? `Hashing ${formatBytes(up.progress.hashed)} of ${formatBytes(folder.size)} (nothing is sent for files already stored)`
                : up.phase === "uploading"
                  ? `Sending ${formatBytes(up.progress.sent)} of ${formatBytes(up.progress.toSend)}${up.progress.rate ? ` · ${formatRate(up.progress.rate)}` : ""}`
                  : up.phase === "completing"
                    ? "Checking the folder and making the version visible…"
                    : up.phase}
            </span>
            <span>{overall}%</span>
          </div>
          <progress className="h-2 w-full" max={100} value={overall} aria-label={`${folder.name}: ${overall}%`} />
        </div>
      ) : null}

      <details className="mt-3" open={folder.files.length <= 12}>
        <summary className="cursor-pointer text-sm text-slate-700">Files ({folder.files.length})</summary>
        <ul className="mt-2 max-h-72 overflow-auto text-sm" data-testid="folder-files">
          {folder.files.map((f) => {
            const s = up.files[f.path];
            return (
              <li
                key={f.path}
                className="flex items-center justify-between gap-3 border-b border-slate-100 py-1 last:border-0"
                data-state={s?.state}
              >
                <span className="min-w-0 truncate font-mono text-xs" title={f.path}>
                  {f.path}
                </span>
                <span className="shrink-0 text-xs tabular-nums text-slate-600">
                  {formatBytes(f.file.size)} ·{" "}
                  {s?.state === "uploading"
                    ? `${Math.round((s.sent / Math.max(1, f.file.size)) * 100)}%`
                    : STATE_TEXT[s?.state ?? "waiting"]}
                </span>
              </li>
            );
          })}
        </ul>
      </details>
    </li>
  );
}
