"use client";

import { useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useEffect, useId, useMemo, useRef, useState, type FormEvent, type ReactNode } from "react";
import { VerdictBadge } from "@/components/verdict-badge";
import { formatBytes } from "@/lib/format";
import {
  FRAMEWORKS,
  TASK_TYPES,
  TASK_TYPE_LABELS,
  modelFieldsSchema,
  modelSlugSchema,
  slugify,
  uploadMetadataSchema,
  versionSchema,
} from "@/lib/validations/models";
import { queryKeys } from "@/lib/web/query-client";
import { compareVersions, extensionOf, frameworkForFile, parseFileName, suggestNextVersion } from "./upload-helpers";
import { formatDuration, formatRate } from "@/lib/format";
import { parseTags } from "@/lib/validations/models";
import { useTusUpload, type UploadFailure, type UploadedVersion } from "./use-tus-upload";

export interface ModelOption {
  slug: string;
  name: string;
  task_type: string;
  framework: string | null;
  description: string;
  tags: string[];
  latest_version: string | null;
}

interface Fields {
  /** "" = a new model. */
  model: string;
  name: string;
  version: string;
  task_type: string;
  framework: string;
  description: string;
  tags: string;
}

type Errors = Partial<Record<keyof Fields | "form", string>>;

function initialFields(file: File, models: ModelOption[], preselect?: string): Fields {
  const guess = parseFileName(file.name);
  // Coming from a model page ("Upload a new version", ?model=) wins over a guess from the file name.
  const byName = models.find((m) => m.slug === guess.slug);
  const existing = models.find((m) => m.slug === preselect) ?? byName;
  const framework = frameworkForFile(file.name) ?? "";
  if (existing) {
    // The file name's version only when it is newer than the model's latest (an older one is surely taken).
    const named =
      existing === byName && guess.version && (!existing.latest_version || compareVersions(guess.version, existing.latest_version) > 0);
    return {
      model: existing.slug,
      name: existing.name,
      version: named ? guess.version! : suggestNextVersion(existing.latest_version ? [existing.latest_version] : []),
      task_type: existing.task_type,
      framework: existing.framework ?? framework,
      description: existing.description,
      tags: existing.tags.join(", "),
    };
  }
  return {
    model: "",
    name: guess.name,
    version: guess.version ?? "1.0",
    task_type: framework === "llm" ? "llm" : "other",
    framework,
    description: "",
    tags: "",
  };
}

async function fetchVersions(org: string, model: string): Promise<string[]> {
  const r = await fetch(`/api/v1/orgs/${org}/models/${model}`, { headers: { accept: "application/json" } });
  if (!r.ok) throw new Error(`Could not load the versions of ${model} (${r.status}).`);
  const body = (await r.json()) as { versions: { version: string }[] };
  return body.versions.map((v) => v.version);
}

/** One queued file: its metadata form, then a resumable upload with progress, then the result. */
export function UploadItem({
  file,
  org,
  models,
  preselect,
  register,
  onRemove,
  chunkBytes,
}: {
  file: File;
  org: string;
  models: ModelOption[];
  preselect?: string;
  chunkBytes?: number;
  /** Gives the queue this item's "start if ready" (for "Upload all"); null on unmount. */
  register: (start: (() => void) | null) => void;
  onRemove: () => void;
}) {
  const uid = useId();
  const queryClient = useQueryClient();
  const [fields, setFields] = useState<Fields>(() => initialFields(file, models, preselect));
  const [errors, setErrors] = useState<Errors>({});
  const [versionTouched, setVersionTouched] = useState(false);
  const existing = models.find((m) => m.slug === fields.model);
  const [uploadedModel, setUploadedModel] = useState("");
  const tus = useTusUpload(
    file,
    org,
    () => {
      void queryClient.invalidateQueries({ queryKey: queryKeys.models(org) });
      void queryClient.invalidateQueries({ queryKey: queryKeys.model(org, uploadedModel) });
    },
    chunkBytes,
  );

  // Every version of the chosen model (deleted ones too: their numbers stay taken), for the suggestion.
  const versions = useQuery({
    queryKey: queryKeys.model(org, fields.model),
    queryFn: () => fetchVersions(org, fields.model),
    enabled: Boolean(fields.model),
    staleTime: 10_000,
  });
  const taken = useMemo(
    () => new Set(versions.data ?? (existing?.latest_version ? [existing.latest_version] : [])),
    [versions.data, existing],
  );
  // Until the user types a version, a taken one is replaced by the next free one — only while the
  // form is being filled in (after an upload, its own version is in the list too).
  const version = !versionTouched && tus.phase === "idle" && taken.has(fields.version) ? suggestNextVersion([...taken]) : fields.version;

  const locked =
    tus.phase === "uploading" ||
    tus.phase === "paused" ||
    tus.phase === "verifying" ||
    tus.phase === "done" ||
    (tus.phase === "error" && Boolean(tus.failure?.resumable));
  const isNew = !fields.model;
  const slug = isNew ? slugify(fields.name) : fields.model;
  const ext = extensionOf(file.name);

  const set = (k: keyof Fields) => (e: { target: { value: string } }) => {
    if (k === "version") setVersionTouched(true);
    setFields((f) => ({ ...f, [k]: e.target.value }));
    setErrors((er) => ({ ...er, [k]: undefined, form: undefined }));
  };

  function chooseModel(value: string) {
    setVersionTouched(false);
    setErrors({});
    const m = models.find((x) => x.slug === value);
    if (m) {
      setFields((f) => ({
        ...f,
        model: m.slug,
        name: m.name,
        task_type: m.task_type,
        framework: m.framework ?? frameworkForFile(file.name) ?? "",
        description: m.description,
        tags: m.tags.join(", "),
        version: suggestNextVersion(m.latest_version ? [m.latest_version] : []),
      }));
    } else {
      const guess = parseFileName(file.name);
      const framework = frameworkForFile(file.name) ?? "";
      setFields((f) => ({
        ...f,
        model: "",
        name: guess.name,
        version: guess.version ?? "1.0",
        task_type: framework === "llm" ? "llm" : "other",
        framework,
        description: "",
        tags: "",
      }));
    }
  }

  /** Validates with the same zod schemas as the API; returns the tus metadata or field errors. */
  function validate() {
    const errs: Errors = {};
    const v = versionSchema.safeParse(version.trim());
    if (!v.success) errs.version = v.error.issues[0]?.message;
    else if (taken.has(v.data))
      errs.version = `Version ${v.data} already exists. Versions are immutable: try ${suggestNextVersion([...taken])}.`;
    let metadata: Record<string, unknown> = {};
    if (isNew) {
      const s = modelSlugSchema.safeParse(slug);
      if (!s.success || !slug) errs.name = "Give the model a name with at least one letter or digit.";
      else if (models.some((m) => m.slug === slug))
        errs.name = `A model "${slug}" already exists. Pick it under "Model" to upload a new version of it.`;
      const parsed = modelFieldsSchema.safeParse({
        name: fields.name,
        task_type: fields.task_type,
        framework: fields.framework || null,
        description: fields.description,
        tags: parseTags(fields.tags),
      });
      if (!parsed.success) {
        for (const i of parsed.error.issues) {
          const k = String(i.path[0]) as keyof Fields;
          errs[k] ??= i.message;
        }
      } else {
        metadata = uploadMetadataSchema.parse(parsed.data);
      }
    }
    setErrors(errs);
    if (Object.keys(errs).length) return null;
    return { org, model: slug, version: v.data!, filename: file.name, metadata: JSON.stringify(metadata) };
  }

  function start(e?: FormEvent) {
    e?.preventDefault();
    if (locked) return;
    const meta = validate();
    if (!meta) return;
    setUploadedModel(meta.model);
    tus.begin(meta);
  }

  // "Upload all" in the queue calls the latest start of every item that is ready.
  const startIfReady = useRef<() => void>(() => {});
  useEffect(() => {
    startIfReady.current = () => {
      if (tus.phase === "idle" && !tus.previous) start();
    };
  });
  useEffect(() => {
    register(() => startIfReady.current());
    return () => register(null);
  }, [register]);

  function resumePrevious() {
    const p = tus.previous;
    if (!p) return;
    const m = p.metadata;
    let extra: Record<string, unknown> = {};
    try {
      extra = JSON.parse(m.metadata ?? "{}");
    } catch {}
    setFields((f) => ({
      ...f,
      model: models.some((x) => x.slug === m.model) ? m.model! : "",
      name: typeof extra.name === "string" ? extra.name : (models.find((x) => x.slug === m.model)?.name ?? f.name),
      version: m.version ?? f.version,
    }));
    setUploadedModel(m.model ?? "");
    tus.begin(
      {
        org: m.org ?? org,
        model: m.model ?? "",
        version: m.version ?? "",
        filename: m.filename ?? file.name,
        metadata: m.metadata ?? "{}",
      },
      p,
    );
  }

  function applyVersion(next: string) {
    setVersionTouched(true);
    setFields((f) => ({ ...f, version: next }));
    setErrors({});
    tus.reset();
  }

  const pct = tus.progress.total ? Math.floor((tus.progress.sent / tus.progress.total) * 100) : 0;
  const id = (k: string) => `${uid}-${k}`;
  const err = (k: keyof Errors) =>
    errors[k] ? (
      <p id={id(`${k}-error`)} className="field-error">
        {errors[k]}
      </p>
    ) : null;
  const described = (k: keyof Errors) => (errors[k] ? id(`${k}-error`) : undefined);
  const metaDisabled = locked || !isNew;

  return (
    <li className="card p-4" data-testid="upload-item" data-file={file.name} data-phase={tus.phase}>
      <div className="mb-3 flex flex-wrap items-center justify-between gap-2">
        <div className="min-w-0">
          <p className="truncate font-medium" title={file.name}>
            {file.name}
          </p>
          <p className="text-xs text-slate-500">
            {formatBytes(file.size)} · stored as{" "}
            <code>
              {org}/{slug || "…"}_v{version || "…"}.{ext}
            </code>
          </p>
        </div>
        {!locked || tus.phase === "done" ? (
          <button
            type="button"
            className="text-sm text-slate-600 underline hover:text-slate-900"
            onClick={onRemove}
            data-testid="upload-remove"
          >
            {tus.phase === "done" ? "Clear" : "Remove"}
          </button>
        ) : null}
      </div>

      {tus.previous && tus.phase === "idle" ? (
        <div
          className="mb-3 flex flex-wrap items-center justify-between gap-3 rounded-md border border-brand-100 bg-brand-50 px-3 py-2 text-sm"
          role="status"
          data-testid="upload-previous"
        >
          <span>
            This file was partly uploaded on {new Date(tus.previous.creationTime).toLocaleString()} as{" "}
            <strong>{tus.previous.metadata.model}</strong> v{tus.previous.metadata.version}. Continue where it stopped?
          </span>
          <span className="flex gap-2">
            <button type="button" className="btn-primary py-1.5" onClick={resumePrevious} data-testid="upload-resume">
              Resume
            </button>
            <button
              type="button"
              className="btn-secondary py-1.5"
              onClick={() => void tus.discardPrevious()}
              data-testid="upload-discard-previous"
            >
              Start over
            </button>
          </span>
        </div>
      ) : null}

      <form onSubmit={start} noValidate aria-label={`Metadata for ${file.name}`}>
        <fieldset disabled={locked} hidden={tus.phase === "done"} className="grid gap-3 md:grid-cols-2 xl:grid-cols-4">
          <div className="md:col-span-2">
            <label className="label" htmlFor={id("model")}>
              Model
            </label>
            <select
              id={id("model")}
              className="input"
              value={fields.model}
              onChange={(e) => chooseModel(e.target.value)}
              data-testid="upload-model-select"
            >
              <option value="">New model…</option>
              {models.map((m) => (
                <option key={m.slug} value={m.slug}>
                  {m.name} ({m.slug})
                </option>
              ))}
            </select>
          </div>
          <div className="md:col-span-1 xl:col-span-1">
            <label className="label" htmlFor={id("name")}>
              Name
            </label>
            <input
              id={id("name")}
              className="input"
              value={fields.name}
              onChange={set("name")}
              disabled={!isNew}
              required
              maxLength={200}
              aria-invalid={errors.name ? true : undefined}
              aria-describedby={described("name") ?? id("slug-hint")}
              data-testid="upload-name"
            />
            {err("name") ?? (
              <p id={id("slug-hint")} className="mt-1 text-xs text-slate-500">
                Slug: <code>{slug || "—"}</code>
              </p>
            )}
          </div>
          <div>
            <label className="label" htmlFor={id("version")}>
              Version
            </label>
            <input
              id={id("version")}
              className="input font-mono"
              value={version}
              onChange={set("version")}
              required
              inputMode="decimal"
              placeholder="2.1"
              aria-invalid={errors.version ? true : undefined}
              aria-describedby={described("version") ?? id("version-hint")}
              data-testid="upload-version"
            />
            {err("version") ?? (
              <p id={id("version-hint")} className="mt-1 text-xs text-slate-500">
                {existing
                  ? `Latest: ${existing.latest_version ? `v${existing.latest_version}` : "none"}${versions.isFetching ? " · checking…" : ""}`
                  : "MAJOR.MINOR[.PATCH], e.g. 1.0"}
              </p>
            )}
          </div>
          <div>
            <label className="label" htmlFor={id("type")}>
              Type
            </label>
            <select
              id={id("type")}
              className="input"
              value={fields.task_type}
              onChange={set("task_type")}
              disabled={metaDisabled}
              data-testid="upload-type"
            >
              {TASK_TYPES.map((t) => (
                <option key={t} value={t}>
                  {TASK_TYPE_LABELS[t]}
                </option>
              ))}
            </select>
          </div>
          <div>
            <label className="label" htmlFor={id("framework")}>
              Framework
            </label>
            <select
              id={id("framework")}
              className="input"
              value={fields.framework}
              onChange={set("framework")}
              disabled={metaDisabled}
              data-testid="upload-framework"
            >
              <option value="">Detect from the file</option>
              {[...new Set([...(fields.framework ? [fields.framework] : []), ...FRAMEWORKS])].map((f) => (
                <option key={f} value={f}>
                  {f}
                </option>
              ))}
            </select>
          </div>
          <div className="md:col-span-2">
            <label className="label" htmlFor={id("tags")}>
              Tags <span className="font-normal text-slate-500">(comma-separated)</span>
            </label>
            <input
              id={id("tags")}
              className="input"
              value={fields.tags}
              onChange={set("tags")}
              disabled={metaDisabled}
              placeholder="finance, tabular"
              aria-invalid={errors.tags ? true : undefined}
              aria-describedby={described("tags")}
              data-testid="upload-tags"
            />
            {err("tags")}
          </div>
          <div className="md:col-span-2 xl:col-span-4">
            <label className="label" htmlFor={id("description")}>
              Description
            </label>
            <textarea
              id={id("description")}
              className="input"
              rows={2}
              maxLength={10_000}
              value={fields.description}
              onChange={set("description")}
              disabled={metaDisabled}
              placeholder="What it predicts, trained on what, known limits…"
              data-testid="upload-description"
            />
            {err("description")}
            {!isNew && !locked ? (
              <p className="mt-1 text-xs text-slate-500">A new version keeps the model&apos;s details; edit them on the model page.</p>
            ) : null}
          </div>
        </fieldset>

        {tus.phase !== "idle" && tus.phase !== "cancelled" && !(tus.phase === "error" && tus.failure?.atCreation) ? (
          <Progress
            phase={tus.phase}
            sent={tus.progress.sent}
            total={tus.progress.total}
            rate={tus.progress.rate}
            eta={tus.progress.eta}
            pct={tus.phase === "done" ? 100 : pct}
          />
        ) : null}

        {tus.phase === "error" && tus.failure ? (
          <FailureMessage failure={tus.failure} version={version} taken={taken} onUseVersion={applyVersion} />
        ) : null}
        {tus.phase === "cancelled" ? (
          <p className="mt-3 text-sm text-slate-600" role="status">
            Cancelled. Nothing was stored and version {version} is free again.
          </p>
        ) : null}
        {tus.phase === "done" && tus.result ? <UploadResult org={org} model={uploadedModel} v={tus.result} /> : null}

        <div className="mt-4 flex flex-wrap items-center gap-2">
          {tus.phase === "idle" || (tus.phase === "error" && !tus.failure?.resumable) || tus.phase === "cancelled" ? (
            <button
              type="submit"
              className="btn-primary"
              data-testid="upload-start"
              disabled={Boolean(tus.previous) && tus.phase === "idle"}
            >
              {tus.phase === "error" ? "Try again" : "Upload"}
            </button>
          ) : null}
          {tus.phase === "uploading" ? (
            <button type="button" className="btn-secondary" onClick={tus.pause} data-testid="upload-pause">
              Pause
            </button>
          ) : null}
          {tus.phase === "paused" || (tus.phase === "error" && tus.failure?.resumable) ? (
            <button type="button" className="btn-primary" onClick={tus.resume} data-testid="upload-resume">
              Resume
            </button>
          ) : null}
          {tus.phase === "uploading" || tus.phase === "paused" || (tus.phase === "error" && tus.failure?.resumable) ? (
            <button type="button" className="btn-danger" onClick={() => void tus.cancel()} data-testid="upload-cancel">
              Cancel
            </button>
          ) : null}
          {errors.form ? <p className="field-error">{errors.form}</p> : null}
        </div>
      </form>
    </li>
  );
}

function Progress({
  phase,
  sent,
  total,
  rate,
  eta,
  pct,
}: {
  phase: string;
  sent: number;
  total: number;
  rate: number;
  eta: number;
  pct: number;
}) {
  const label =
    phase === "verifying"
      ? "All bytes sent · verifying SHA-256 and scanning…"
      : phase === "done"
        ? "Stored"
        : phase === "paused"
          ? "Paused"
          : phase === "error"
            ? "Stopped"
            : `${formatRate(rate)} · ${formatDuration(eta)} left`;
  return (
    <div className="mt-4">
      <div className="mb-1 flex justify-between text-xs text-slate-600 tabular-nums">
        <span>
          {formatBytes(sent)} of {formatBytes(total)} ({pct}%)
        </span>
        <span aria-live="polite">{label}</span>
      </div>
      <div
        role="progressbar"
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={pct}
        aria-valuetext={`${pct}% · ${formatBytes(sent)} of ${formatBytes(total)}`}
        aria-label="Upload progress"
        className="h-2.5 overflow-hidden rounded-full bg-slate-200"
        data-testid="upload-progress"
      >
        <div
          className={`h-full rounded-full transition-[width] duration-300 ${phase === "error" ? "bg-red-500" : phase === "paused" ? "bg-amber-500" : phase === "done" ? "bg-green-600" : "bg-brand-600"} ${phase === "verifying" ? "animate-pulse" : ""}`}
          style={{ width: `${pct}%` }}
        />
      </div>
    </div>
  );
}

function FailureMessage({
  failure,
  version,
  taken,
  onUseVersion,
}: {
  failure: UploadFailure;
  version: string;
  taken: Set<string>;
  onUseVersion: (v: string) => void;
}) {
  const next = suggestNextVersion([...taken, version]);
  const findings = ((failure.details?.findings as { severity: string; message: string }[] | undefined) ?? []).filter(
    (f) => (f.severity === "error" || f.severity === "danger") && !failure.message.includes(f.message),
  );
  let hint: ReactNode = null;
  if (failure.code === "conflict" && failure.atCreation) {
    hint = (
      <>
        Versions are immutable, so a new upload needs a new number.{" "}
        <button type="button" className="font-medium underline" onClick={() => onUseVersion(next)} data-testid="upload-use-next">
          Use v{next}
        </button>
      </>
    );
  } else if (failure.code === "invalid_model_file")
    hint = "The file was checked and nothing was stored. Re-export the model and upload the new file.";
  else if (failure.code === "checksum_mismatch")
    hint = "The bytes the server received differ from the file. Try again; if it repeats, the file may be changing on disk.";
  else if (failure.code === "forbidden") hint = "Your role in this organization is read-only. Ask an admin for the member role.";
  else if (failure.code === "payload_too_large") hint = "Export a smaller file, or ask an admin to raise MAX_UPLOAD_BYTES.";
  else if (failure.code === "unauthorized") hint = "Your session ended. Sign in again in another tab, then resume.";
  else if (failure.resumable) hint = "What was already sent is kept on the server. Resume when the connection is back.";
  return (
    <div
      role="alert"
      className="mt-4 rounded-md border border-red-200 bg-red-50 px-3 py-2 text-sm text-red-800"
      data-testid="upload-error"
      data-code={failure.code}
      data-status={failure.status ?? ""}
    >
      <p className="font-medium">{failure.message}</p>
      {findings.length ? (
        <ul className="mt-1 list-disc pl-5">
          {findings.slice(0, 5).map((f, i) => (
            <li key={i}>{f.message}</li>
          ))}
        </ul>
      ) : null}
      {hint ? <p className="mt-1 text-red-900">{hint}</p> : null}
    </div>
  );
}

function UploadResult({ org, model, v }: { org: string; model: string; v: UploadedVersion }) {
  const quarantined = v.status === "quarantined";
  const href = `/orgs/${org}/models/${model}?version=${encodeURIComponent(v.version)}`;
  return (
    <div
      className={`mt-4 rounded-md border px-3 py-3 text-sm ${quarantined ? "border-red-200 bg-red-50" : v.scan.verdict === "suspicious" ? "border-amber-200 bg-amber-50" : "border-green-200 bg-green-50"}`}
      data-testid="upload-result"
      data-sha256={v.sha256}
      data-version={v.version}
      data-status={v.status}
      role="status"
    >
      <div className="flex flex-wrap items-center gap-2">
        <span className="font-medium">
          {quarantined ? "Stored in quarantine:" : "Stored:"} {model} v{v.version}
        </span>
        <VerdictBadge verdict={v.scan.verdict} />
        <span className="text-xs text-slate-600">
          {formatBytes(v.size_bytes)} · {v.format ?? "unknown format"}
          {v.framework ? ` · ${v.framework}` : ""}
        </span>
      </div>
      <p className="mt-1 break-all font-mono text-xs text-slate-700">SHA-256 {v.sha256}</p>
      {quarantined ? (
        <p className="mt-2 text-red-900">
          The scan found code that runs when this file is loaded
          {v.scan.findings[0] ? ` (${v.scan.findings.find((f) => f.severity === "danger")?.message ?? v.scan.findings[0].message})` : ""}.
          It is kept for review but blocked: only owners and admins can download it, after confirming the risk, and it cannot carry an
          alias.
        </p>
      ) : v.scan.verdict === "suspicious" ? (
        <p className="mt-2 text-amber-900">
          The scan flagged something unusual (see the findings on the model page). The version is usable; review it before deploying.
        </p>
      ) : null}
      <Link href={href} className="mt-2 inline-block font-medium text-brand-700 underline" data-testid="upload-model-link">
        Open the model page →
      </Link>
    </div>
  );
}
