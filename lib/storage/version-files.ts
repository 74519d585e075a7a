import "server-only";
import type { Principal } from "@/lib/auth/principal";
import { findVersionFile, listVersionFiles, type FileRow } from "@/lib/db/queries/files";
import { canReadModelObject } from "@/lib/db/queries/versions";
import { ERRORS } from "@/lib/errors";
import { Service } from "@/lib/services/base";
import { resolveOrg, resolveVersion } from "@/lib/services/resolve";
import { assertDownloadable } from "./downloads";
import type { ModelSummary, ModelVersion } from "./types";

/** Small text files shown on the model page (cards, configs, YAML, plain text), at most this big. */
export const PREVIEW_MAX_BYTES = 256 * 1024;
const PREVIEWABLE = new Set(["markdown", "json", "yaml", "text", "llm-config-json", "timeseries-config-json", "xgboost-json"]);

export interface FileDiff {
  added: { path: string; sha256: string; size: number }[];
  removed: { path: string; sha256: string; size: number }[];
  changed: { path: string; from: { sha256: string; size: number }; to: { sha256: string; size: number } }[];
  unchanged: number;
}

/** Files added, removed and changed (by SHA-256) from one list to another. Pure. */
export function diffFiles(
  from: Pick<FileRow, "path" | "sha256" | "size_bytes">[],
  to: Pick<FileRow, "path" | "sha256" | "size_bytes">[],
): FileDiff {
  const entry = (f: Pick<FileRow, "path" | "sha256" | "size_bytes">) => ({
    path: f.path,
    sha256: f.sha256 ?? "",
    size: Number(f.size_bytes ?? 0),
  });
  const before = new Map(from.map((f) => [f.path, entry(f)]));
  const after = new Map(to.map((f) => [f.path, entry(f)]));
  const d: FileDiff = { added: [], removed: [], changed: [], unchanged: 0 };
  for (const [path, a] of after) {
    const b = before.get(path);
    if (!b) d.added.push(a);
    else if (b.sha256 !== a.sha256)
      d.changed.push({ path, from: { sha256: b.sha256, size: b.size }, to: { sha256: a.sha256, size: a.size } });
    else d.unchanged++;
  }
  for (const [path, b] of before) if (!after.has(path)) d.removed.push(b);
  return d;
}

/** The fields of two versions that differ (format, framework, layout details, provenance, metadata keys). */
export function diffFields(a: ModelVersion, b: ModelVersion): { key: string; from: unknown; to: unknown }[] {
  const out: { key: string; from: unknown; to: unknown }[] = [];
  const same = (x: unknown, y: unknown) => JSON.stringify(x ?? null) === JSON.stringify(y ?? null);
  for (const key of ["format", "framework", "layout", "scan_verdict", "file_count"] as const) {
    if (!same(a[key], b[key])) out.push({ key, from: a[key], to: b[key] });
  }
  const nested = (prefix: string, x: Record<string, unknown>, y: Record<string, unknown>) => {
    for (const k of [...new Set([...Object.keys(x), ...Object.keys(y)])].sort()) {
      if (k === "problems" || k === "pickle_globals") continue;
      if (!same(x[k], y[k])) out.push({ key: `${prefix}.${k}`, from: x[k] ?? null, to: y[k] ?? null });
    }
  };
  nested("metadata", a.metadata ?? {}, b.metadata ?? {});
  nested("layout_details", a.layout_details ?? {}, b.layout_details ?? {});
  nested("provenance", a.provenance ?? {}, b.provenance ?? {});
  return out.slice(0, 200);
}

/** A version's files: the tree, previews of small text files, and comparisons between versions. */
export class VersionFileService extends Service {
  /** Every file of a version (deleted versions list theirs too: the record). */
  async listFiles(
    p: Principal,
    orgSlug: string,
    modelSlug: string,
    version: string,
  ): Promise<{ model: ModelSummary; version: ModelVersion; files: FileRow[] }> {
    return this.as(p, async (tx) => {
      const org = await resolveOrg(tx, orgSlug);
      const { model, version: v } = await resolveVersion(tx, org, modelSlug, version);
      return { model, version: v, files: await listVersionFiles(tx, v.id) };
    });
  }

  /**
   * The text of a small text file (a card, a config), for previews: null when it is not text, too
   * big, or not readable by the caller (deleted or quarantined versions follow the download rules).
   */
  async preview(p: Principal, orgSlug: string, modelSlug: string, version: string, path: string): Promise<string | null> {
    const f = await this.as(p, async (tx) => {
      const org = await resolveOrg(tx, orgSlug);
      const { version: v } = await resolveVersion(tx, org, modelSlug, version);
      try {
        assertDownloadable(org, v, true);
      } catch {
        return undefined;
      }
      const file = await findVersionFile(tx, v.id, path);
      if (!file || file.purged_at) return undefined;
      if (file.storage_backend === "local" && !(await canReadModelObject(tx, file.object_key))) return undefined;
      return file;
    });
    if (!f || !PREVIEWABLE.has(f.format ?? "") || Number(f.size_bytes) > PREVIEW_MAX_BYTES) return null;
    const store = await this.deps.platform.blobs.forVersion(p, f.storage_backend);
    const got = await store.get(f.object_key);
    const chunks: Buffer[] = [];
    for await (const c of got.stream) chunks.push(c as Buffer);
    const text = new TextDecoder("utf-8", { fatal: false }).decode(Buffer.concat(chunks));
    return text.includes("\u0000") ? null : text;
  }

  /** What changed from one version to another: files (by hash), fields, tags, size. */
  async compare(p: Principal, orgSlug: string, modelSlug: string, from: string, to: string) {
    const [a, b] = await this.as(p, async (tx) => {
      const org = await resolveOrg(tx, orgSlug);
      const va = await resolveVersion(tx, org, modelSlug, from);
      const vb = await resolveVersion(tx, org, modelSlug, to);
      return [
        { version: va.version, files: await listVersionFiles(tx, va.version.id) },
        { version: vb.version, files: await listVersionFiles(tx, vb.version.id) },
      ];
    });
    if (!a || !b) throw ERRORS.noSuchVersion();
    const tags = [...new Set([...Object.keys(a.version.tags ?? {}), ...Object.keys(b.version.tags ?? {})])]
      .sort()
      .filter((k) => a.version.tags?.[k] !== b.version.tags?.[k])
      .map((k) => ({ key: k, from: a.version.tags?.[k] ?? null, to: b.version.tags?.[k] ?? null }));
    return {
      from: a.version.version,
      to: b.version.version,
      files: diffFiles(a.files, b.files),
      size_delta: Number(b.version.size_bytes ?? 0) - Number(a.version.size_bytes ?? 0),
      metadata: diffFields(a.version, b.version),
      tags,
    };
  }
}
