import type { z } from "zod";
import type { ApiTokenRecord } from "@/lib/auth/api-tokens";
import type {
  aliasesResponse,
  modelDetailResponse,
  modelResponse,
  orgResponse,
  tokenResponse,
  versionResponse,
} from "@/lib/validations/api";
import type { AliasMove, ModelDetail, ModelSummary, ModelVersion, Org } from "./types";
import type { FileRow } from "@/lib/db/queries/files";
import type { commitFileResponse, commitResponse, versionFileResponse } from "@/lib/validations/api-files";
import type { Commit, CommitFile } from "./commits";

// The REST API's JSON shapes (snake_case, ISO dates), typed by the zod schemas the OpenAPI document
// is generated from (lib/validations/api.ts): a field here that the document lacks fails to compile.

const iso = (d: Date | null | undefined) => (d ? new Date(d).toISOString() : null);
const isoNow = (d: Date) => new Date(d).toISOString();

export function serializeOrg(o: Org): z.infer<typeof orgResponse> {
  return { id: o.id, slug: o.slug, name: o.name, role: o.role, created_at: iso(o.created_at) };
}

export function serializeModel(m: ModelSummary): z.infer<typeof modelResponse> {
  return {
    id: m.id,
    slug: m.slug,
    name: m.name,
    task_type: m.task_type,
    framework: m.framework,
    description: m.description,
    tags: m.tags,
    latest_version: m.latest_version,
    latest_aliases: m.latest_aliases,
    latest_size_bytes: m.latest_size_bytes,
    latest_scan_verdict: m.latest_scan_verdict,
    latest_uploaded_by: m.latest_created_by_email,
    latest_uploaded_at: iso(m.latest_created_at),
    version_count: m.version_count,
    total_bytes: m.total_bytes,
    created_at: iso(m.created_at),
    updated_at: iso(m.updated_at),
  };
}

export function serializeVersion(v: ModelVersion): z.infer<typeof versionResponse> {
  const { pickle_globals, ...metadata } = v.metadata ?? {};
  return {
    id: v.id,
    version: v.version,
    status: v.status,
    size_bytes: v.size_bytes,
    sha256: v.sha256,
    format: v.format,
    framework: v.framework,
    content_type: v.content_type,
    file_name: v.file_name,
    file_count: v.file_count,
    layout: v.layout,
    layout_details: v.layout_details ?? {},
    tags: v.tags ?? {},
    provenance: { ...(v.provenance ?? {}), ...(v.parent ? { parent: v.parent } : {}) },
    storage_backend: v.storage_backend,
    aliases: v.aliases,
    scan: { verdict: v.scan_verdict, findings: v.scan_findings ?? [], globals: pickle_globals ?? [] },
    metadata,
    uploaded_by: v.created_by_email,
    created_at: iso(v.created_at),
    ready_at: iso(v.ready_at),
    deleted_at: iso(v.deleted_at),
  };
}

export function serializeModelDetail(m: ModelDetail): z.infer<typeof modelDetailResponse> {
  return {
    ...serializeModel(m),
    role: m.role,
    aliases: m.aliases.map((a) => ({ alias: a.alias, version: a.version, updated_at: iso(a.updated_at), updated_by: a.updated_by_email })),
    versions: m.versions.map(serializeVersion),
  };
}

export function serializeAliases(detail: ModelDetail, history: AliasMove[]): z.infer<typeof aliasesResponse> {
  return {
    items: detail.aliases.map((a) => ({
      alias: a.alias,
      version: a.version,
      updated_at: iso(a.updated_at),
      updated_by: a.updated_by_email,
    })),
    history: history.map((h) => ({
      alias: h.alias,
      from: h.from_version,
      to: h.to_version,
      moved_by: h.moved_by_email,
      moved_at: isoNow(h.moved_at),
    })),
  };
}

export function serializeToken(t: ApiTokenRecord, secret?: string): z.infer<typeof tokenResponse> {
  return {
    id: t.id,
    name: t.name,
    prefix: t.token_prefix,
    role: t.role,
    expires_at: iso(t.expires_at),
    last_used_at: iso(t.last_used_at),
    revoked_at: iso(t.revoked_at),
    created_at: iso(t.created_at),
    user_id: t.user_id,
    ...(secret ? { token: secret } : {}),
  };
}

// ---------------------------------------------------------------------------------------------
// File sets

const V1 = "/api/v1";
const encodePath = (path: string) => path.split("/").map(encodeURIComponent).join("/");

export function serializeCommitFile(f: CommitFile, c?: Pick<Commit, "id" | "orgSlug" | "modelSlug">): z.infer<typeof commitFileResponse> {
  return {
    path: f.path,
    size: f.size,
    sha256: f.sha256,
    state: f.state,
    deduplicated: f.deduplicated,
    ...(c && f.state === "upload"
      ? {
          upload: {
            put_url: `${V1}/orgs/${c.orgSlug}/models/${c.modelSlug}/commits/${c.id}/files/${encodePath(f.path)}`,
            tus: { endpoint: `${V1}/uploads`, metadata: { commit: c.id, path: f.path } },
          },
        }
      : {}),
  };
}

export function serializeCommit(c: Commit): z.infer<typeof commitResponse> {
  return {
    id: c.id,
    org: c.orgSlug,
    model: c.modelSlug,
    version: c.version,
    lease_until: iso(c.leaseUntil),
    files: c.files.map((f) => serializeCommitFile(f, c)),
    upload_bytes: c.files.filter((f) => f.state === "upload").reduce((n, f) => n + (f.size ?? 0), 0),
    deduplicated_bytes: c.files.filter((f) => f.deduplicated).reduce((n, f) => n + (f.size ?? 0), 0),
    complete_url: `${V1}/orgs/${c.orgSlug}/models/${c.modelSlug}/commits/${c.id}/complete`,
  };
}

export function serializeVersionFile(f: FileRow, at: { org: string; model: string; version: string }): z.infer<typeof versionFileResponse> {
  const { pickle_globals, role, ...metadata } = (f.metadata ?? {}) as Record<string, unknown>;
  void pickle_globals;
  return {
    path: f.path,
    size: Number(f.size_bytes ?? 0),
    sha256: f.sha256 ?? "",
    format: f.format,
    role: role === "asset" ? "asset" : "model",
    content_type: f.content_type,
    scan: { verdict: f.scan_verdict, findings: f.scan_findings ?? [] },
    metadata,
    download_url: `${V1}/orgs/${at.org}/models/${at.model}/versions/${at.version}/files/${encodePath(f.path)}`,
  };
}
