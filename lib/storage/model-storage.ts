import "server-only";
import crypto from "node:crypto";
import fs from "node:fs";
import type { Readable } from "node:stream";
import type { Principal } from "@/lib/auth/principal";
import type { AppConfig } from "@/lib/config";
import { withUser } from "@/lib/db/client";
import { pgErrorToAppError } from "@/lib/db/errors";
import type { Database, Queryable } from "@/lib/db/types";
import { AppError, isAppError } from "@/lib/errors";
import { createInspector } from "@/lib/inspect/inspect";
import type { InspectionResult } from "@/lib/inspect/types";
import {
  aliasSchema,
  listModelsQuerySchema,
  modelSlugSchema,
  orgSlugSchema,
  slugify,
  uploadMetadataSchema,
  versionSchema,
  type CreateModelInput,
  type ListModelsQuery,
  type OrgRole,
  type UpdateModelInput,
  type UploadMetadata,
} from "@/lib/validations/models";
import type { LocalBlobStore } from "./adapters/local";
import type { BlobBody, BlobStore } from "./blob-store";
import { buildObjectKey, extensionFromFileName } from "./object-key";
import type { AliasMove, ModelDetail, ModelSummary, ModelVersion, Org, Page } from "./types";

const RANK: Record<OrgRole, number> = { owner: 4, admin: 3, member: 2, viewer: 1 };

export interface ModelStorageDeps {
  config: AppConfig;
  /** Explicit database (tests, scripts); the process database otherwise. */
  db?: Database;
  /** The blob store acting for this caller (supabase: with the caller's access token). */
  blobStoreFor(principal: Principal): BlobStore;
  /**
   * Supabase mode: versions still on local disk (not yet moved by `npm run migrate:cloud`) are read
   * from there; the version row's RLS has already decided the caller may read them.
   */
  localStore?: () => BlobStore;
}

export interface RequestMeta {
  ip?: string;
  userAgent?: string;
}

/** A reserved (pending) version: bytes may be written to `key`, nothing is visible yet. */
export interface UploadReservation {
  versionId: string;
  orgId: string;
  orgSlug: string;
  modelId: string;
  modelSlug: string;
  version: string;
  key: string;
  fileName: string;
  expectedSha256?: string;
}

export interface Download {
  version: ModelVersion;
  fileName: string;
  stream: Readable;
  size: number;
  start: number;
  end: number;
}

const VERSION_COLUMNS = `v.id, v.model_id, v.org_id, v.version, v.status, v.object_key, v.storage_backend, v.file_name,
  v.size_bytes, v.sha256, v.content_type, v.format, v.framework, v.metadata, v.scan_verdict, v.scan_findings,
  v.created_by, p.email as created_by_email, v.created_at, v.ready_at, v.deleted_at,
  coalesce((select array_agg(a.alias order by a.alias) from public.model_aliases a where a.version_id = v.id), '{}') as aliases`;

const MODEL_COLUMNS = `m.id, m.org_id, m.slug, m.name, m.task_type, m.framework, m.description, m.tags, m.latest_version,
  m.latest_size_bytes, m.latest_scan_verdict, m.latest_created_at, lp.email as latest_created_by_email,
  coalesce((select array_agg(a.alias order by a.alias) from public.model_aliases a where a.version_id = m.latest_version_id), '{}') as latest_aliases,
  m.version_count, m.total_bytes, m.created_at, m.updated_at`;

const SORTS = {
  updated: { column: "m.updated_at", dir: "desc" },
  created: { column: "m.created_at", dir: "desc" },
  name: { column: "m.name", dir: "asc" },
  size: { column: "m.total_bytes", dir: "desc" },
} as const;

/** Turns free text into a prefix tsquery over simple words ("credit ris" -> "credit:* & ris:*"). */
function toTsQuery(q: string): string | null {
  const words =
    q
      .toLowerCase()
      .match(/[a-z0-9]+/g)
      ?.slice(0, 8) ?? [];
  return words.length ? words.map((w) => `${w}:*`).join(" & ") : null;
}

const encodeCursor = (v: unknown[]) => Buffer.from(JSON.stringify(v)).toString("base64url");
function decodeCursor(c: string): [string | number, string] {
  try {
    const v = JSON.parse(Buffer.from(c, "base64url").toString("utf8"));
    if (Array.isArray(v) && v.length === 2 && typeof v[1] === "string") return v as [string | number, string];
  } catch {}
  throw new AppError("bad_request", "Invalid cursor.");
}

/**
 * The core of the product: what route handlers and server actions call. Every database access runs
 * under the caller's claims (withUser), so RLS decides; bytes go through the caller's BlobStore.
 */
export class ModelStorage {
  constructor(private readonly deps: ModelStorageDeps) {}

  private as<T>(p: Principal, fn: (tx: Queryable) => Promise<T>): Promise<T> {
    return withUser(p.claims, fn, this.deps.db);
  }

  // ---------------------------------------------------------------------------------------------
  // Organizations

  /** The caller's organizations with their (token-capped) role. */
  async listOrgs(p: Principal): Promise<Org[]> {
    return this.as(p, async (tx) => {
      const { rows } = await tx.query<Org>(
        `select o.id, o.slug, o.name, public.current_org_role(o.id)::text as role, o.created_at
         from public.organizations o where public.current_org_role(o.id) is not null order by o.name`,
      );
      return rows;
    });
  }

  /** One organization by slug; not_found when it does not exist or the caller is not a member. */
  async getOrg(p: Principal, slug: string): Promise<Org> {
    const s = orgSlugSchema.safeParse(slug);
    if (!s.success) throw new AppError("not_found", "No such organization.");
    return this.as(p, (tx) => this.orgIn(tx, s.data));
  }

  private async orgIn(tx: Queryable, slug: string, min?: OrgRole): Promise<Org> {
    const { rows } = await tx.query<Org>(
      `select o.id, o.slug, o.name, public.current_org_role(o.id)::text as role, o.created_at
       from public.organizations o where o.slug = $1`,
      [slug],
    );
    const org = rows[0];
    if (!org?.role) throw new AppError("not_found", "No such organization.");
    if (min && RANK[org.role] < RANK[min]) {
      throw new AppError("forbidden", min === "member" ? "Your role in this organization is read-only." : `This needs the ${min} role.`);
    }
    return org;
  }

  // ---------------------------------------------------------------------------------------------
  // Models

  /** Lists an org's models: search, filters, keyset pagination (stable and fast at any depth). */
  async listModels(p: Principal, orgSlug: string, query: Partial<ListModelsQuery> = {}): Promise<Page<ModelSummary>> {
    const q = listModelsQuerySchema.parse(query);
    return this.as(p, async (tx) => {
      const org = await this.orgIn(tx, orgSlug);
      const params: unknown[] = [org.id];
      const where = ["m.org_id = $1"];
      const add = (sql: (n: string) => string, value: unknown) => {
        params.push(value);
        where.push(sql(`$${params.length}`));
      };
      const tsq = q.q ? toTsQuery(q.q) : null;
      if (tsq) add((n) => `m.search @@ to_tsquery('simple', ${n})`, tsq);
      if (q.framework) add((n) => `m.framework = ${n}`, q.framework);
      if (q.type) add((n) => `m.task_type = ${n}`, q.type);
      if (q.tag) add((n) => `m.tags @> array[${n}]::text[]`, q.tag);
      if (q.verdict) add((n) => `m.latest_scan_verdict = ${n}`, q.verdict);
      const sort = SORTS[q.sort];
      if (q.cursor) {
        const [value, id] = decodeCursor(q.cursor);
        params.push(value, id);
        const cmp = sort.dir === "desc" ? "<" : ">";
        where.push(`(${sort.column}, m.id) ${cmp} ($${params.length - 1}, $${params.length}::uuid)`);
      }
      params.push(q.limit + 1);
      const { rows } = await tx.query<ModelSummary>(
        `select ${MODEL_COLUMNS} from public.models m left join public.profiles lp on lp.id = m.latest_created_by
         where ${where.join(" and ")}
         order by ${sort.column} ${sort.dir}, m.id ${sort.dir} limit $${params.length}`,
        params,
      );
      const items = rows.slice(0, q.limit);
      const last = items[items.length - 1];
      const sortValue = (m: ModelSummary) =>
        q.sort === "name" ? m.name : q.sort === "size" ? m.total_bytes : (q.sort === "created" ? m.created_at : m.updated_at).toISOString();
      return { items, next_cursor: rows.length > q.limit && last ? encodeCursor([sortValue(last), last.id]) : null };
    });
  }

  /** The distinct frameworks and tags used in an org (filter choices). */
  async listFacets(p: Principal, orgSlug: string): Promise<{ frameworks: string[]; tags: string[] }> {
    return this.as(p, async (tx) => {
      const org = await this.orgIn(tx, orgSlug);
      const { rows } = await tx.query<{ frameworks: string[] | null; tags: string[] | null }>(
        `select (select array_agg(distinct framework order by framework) from public.models where org_id = $1 and framework is not null) as frameworks,
                (select array_agg(distinct t order by t) from (select unnest(tags) t from public.models where org_id = $1) x) as tags`,
        [org.id],
      );
      return { frameworks: rows[0]?.frameworks ?? [], tags: (rows[0]?.tags ?? []).slice(0, 200) };
    });
  }

  private async modelIn(tx: Queryable, org: Org, modelSlug: string): Promise<ModelSummary> {
    if (!modelSlugSchema.safeParse(modelSlug).success) throw new AppError("not_found", "No such model.");
    const { rows } = await tx.query<ModelSummary>(
      `select ${MODEL_COLUMNS} from public.models m left join public.profiles lp on lp.id = m.latest_created_by
       where m.org_id = $1 and m.slug = $2`,
      [org.id, modelSlug],
    );
    if (!rows[0]) throw new AppError("not_found", "No such model.");
    return rows[0];
  }

  /** A model with its versions (newest first, deleted ones included for the record) and aliases. */
  async getModel(p: Principal, orgSlug: string, modelSlug: string): Promise<ModelDetail> {
    return this.as(p, async (tx) => {
      const org = await this.orgIn(tx, orgSlug);
      const model = await this.modelIn(tx, org, modelSlug);
      const versions = await this.versionsOf(tx, model.id);
      const { rows: aliases } = await tx.query<ModelDetail["aliases"][number]>(
        `select a.alias, v.version, a.updated_at, p.email as updated_by_email
         from public.model_aliases a join public.model_versions v on v.id = a.version_id
         left join public.profiles p on p.id = a.updated_by
         where a.model_id = $1 order by a.alias`,
        [model.id],
      );
      return { ...model, role: org.role, versions, aliases };
    });
  }

  private async versionsOf(tx: Queryable, modelId: string): Promise<ModelVersion[]> {
    const { rows } = await tx.query<ModelVersion>(
      `select ${VERSION_COLUMNS} from public.model_versions v left join public.profiles p on p.id = v.created_by
       where v.model_id = $1 and v.status <> 'pending' order by v.created_at desc, v.id desc limit 1000`,
      [modelId],
    );
    return rows;
  }

  /** Creates an empty model (versions come with uploads). */
  async createModel(p: Principal, orgSlug: string, input: CreateModelInput, meta: RequestMeta = {}): Promise<ModelSummary> {
    const slug = modelSlugSchema.parse(input.slug ?? slugify(input.name));
    try {
      return await this.as(p, async (tx) => {
        const org = await this.orgIn(tx, orgSlug, "member");
        await tx.query(
          `insert into public.models (org_id, slug, name, task_type, framework, description, tags, created_by)
           values ($1, $2, $3, $4, $5, $6, $7, auth.uid())`,
          [org.id, slug, input.name, input.task_type, input.framework ?? null, input.description ?? "", input.tags ?? []],
        );
        const model = await this.modelIn(tx, org, slug);
        await this.audit(tx, org.id, "model.create", meta, { model: model.id, target: ["model", model.id], details: { slug } });
        return model;
      });
    } catch (e) {
      throw pgErrorToAppError(e, { conflict: `A model called '${slug}' already exists in this organization.` });
    }
  }

  /** Edits a model's metadata (name, type, framework, description, tags). */
  async updateModel(
    p: Principal,
    orgSlug: string,
    modelSlug: string,
    patch: UpdateModelInput,
    meta: RequestMeta = {},
  ): Promise<ModelSummary> {
    return this.as(p, async (tx) => {
      const org = await this.orgIn(tx, orgSlug, "member");
      const model = await this.modelIn(tx, org, modelSlug);
      const sets: string[] = [];
      const params: unknown[] = [model.id];
      for (const key of ["name", "task_type", "framework", "description", "tags"] as const) {
        if (patch[key] !== undefined) {
          params.push(patch[key]);
          sets.push(`${key} = $${params.length}`);
        }
      }
      if (sets.length) await tx.query(`update public.models set ${sets.join(", ")}, updated_at = now() where id = $1`, params);
      await this.audit(tx, org.id, "model.update", meta, {
        model: model.id,
        target: ["model", model.id],
        details: { fields: Object.keys(patch) },
      });
      return this.modelIn(tx, org, modelSlug);
    });
  }

  /**
   * Deletes a model (admins): every version is retired first (audited, bytes purged later by the
   * retention sweep), then the model row goes.
   */
  async deleteModel(p: Principal, orgSlug: string, modelSlug: string, meta: RequestMeta = {}): Promise<void> {
    await this.as(p, async (tx) => {
      const org = await this.orgIn(tx, orgSlug, "admin");
      const model = await this.modelIn(tx, org, modelSlug);
      await tx.query("delete from public.model_aliases where model_id = $1", [model.id]);
      await tx.query("update public.model_versions set status = 'deleted' where model_id = $1 and status in ('ready', 'quarantined')", [
        model.id,
      ]);
      await this.audit(tx, org.id, "model.delete", meta, {
        target: ["model", model.id],
        details: { slug: model.slug, versions: model.version_count },
      });
      await tx.query("delete from public.models where id = $1", [model.id]);
    });
  }

  // ---------------------------------------------------------------------------------------------
  // Versions

  async listVersions(p: Principal, orgSlug: string, modelSlug: string): Promise<ModelVersion[]> {
    return this.as(p, async (tx) => {
      const org = await this.orgIn(tx, orgSlug);
      const model = await this.modelIn(tx, org, modelSlug);
      return this.versionsOf(tx, model.id);
    });
  }

  private async versionIn(
    tx: Queryable,
    org: Org,
    modelSlug: string,
    version: string,
  ): Promise<{ model: ModelSummary; version: ModelVersion }> {
    const model = await this.modelIn(tx, org, modelSlug);
    if (!versionSchema.safeParse(version).success) throw new AppError("not_found", "No such version.");
    const { rows } = await tx.query<ModelVersion>(
      `select ${VERSION_COLUMNS} from public.model_versions v left join public.profiles p on p.id = v.created_by
       where v.model_id = $1 and v.version = $2 and v.status <> 'pending'`,
      [model.id, version],
    );
    if (!rows[0]) throw new AppError("not_found", `Version ${version} of ${modelSlug} does not exist.`);
    return { model, version: rows[0] };
  }

  async getVersion(p: Principal, orgSlug: string, modelSlug: string, version: string): Promise<ModelVersion> {
    return this.as(p, async (tx) => (await this.versionIn(tx, await this.orgIn(tx, orgSlug), modelSlug, version)).version);
  }

  /**
   * Step 1 of an upload: validates everything that can be checked before any byte arrives and
   * reserves the version (a pending row: invisible to others, and a second upload of the same
   * version is a 409 from here on). Creates the model when it does not exist.
   */
  async reserveUpload(
    p: Principal,
    input: { org: string; model: string; version: string; fileName: string; size?: number; metadata?: UploadMetadata },
    meta: RequestMeta = {},
  ): Promise<UploadReservation> {
    const orgSlug = orgSlugSchema.safeParse(input.org);
    if (!orgSlug.success) throw new AppError("not_found", "No such organization.");
    const modelSlug = modelSlugSchema.safeParse(input.model);
    if (!modelSlug.success)
      throw new AppError("invalid_input", "Invalid model name.", { fields: { model: modelSlug.error.issues[0]?.message } });
    const version = versionSchema.safeParse(input.version);
    if (!version.success)
      throw new AppError("invalid_input", "Invalid version.", { fields: { version: version.error.issues[0]?.message } });
    const metadata = uploadMetadataSchema.parse(input.metadata ?? {});
    const fileName = sanitizeFileName(input.fileName);
    const ext = extensionFromFileName(fileName);
    if (input.size !== undefined && input.size > this.deps.config.maxUploadBytes) {
      throw new AppError("payload_too_large", `The file is larger than the limit of ${this.deps.config.maxUploadBytes} bytes.`, {
        limit: this.deps.config.maxUploadBytes,
      });
    }
    const backend = this.deps.config.mode === "supabase" ? "supabase" : "local";
    try {
      return await this.as(p, async (tx) => {
        const org = await this.orgIn(tx, orgSlug.data, "member");
        const key = buildObjectKey({ orgSlug: org.slug, modelSlug: modelSlug.data, version: version.data, ext });
        await tx.query(
          `insert into public.models (org_id, slug, name, task_type, framework, description, tags, created_by)
           values ($1, $2, $3, $4, $5, $6, $7, auth.uid()) on conflict (org_id, slug) do nothing`,
          [
            org.id,
            modelSlug.data,
            metadata.name ?? modelSlug.data,
            metadata.task_type ?? "other",
            metadata.framework ?? null,
            metadata.description ?? "",
            metadata.tags ?? [],
          ],
        );
        const { rows: models } = await tx.query<{ id: string }>("select id from public.models where org_id = $1 and slug = $2", [
          org.id,
          modelSlug.data,
        ]);
        const modelId = models[0]!.id;
        const { rows } = await tx.query<{ id: string }>(
          `insert into public.model_versions (org_id, model_id, version, object_key, storage_backend, file_name, created_by, status)
           values ($1, $2, $3, $4, $5, $6, auth.uid(), 'pending') on conflict do nothing returning id`,
          [org.id, modelId, version.data, key, backend, fileName],
        );
        if (!rows[0]) {
          throw new AppError(
            "conflict",
            `Version ${version.data} of ${modelSlug.data} already exists (or is being uploaded). Versions are immutable: upload a new version.`,
          );
        }
        void meta;
        return {
          versionId: rows[0].id,
          orgId: org.id,
          orgSlug: org.slug,
          modelId,
          modelSlug: modelSlug.data,
          version: version.data,
          key,
          fileName,
          expectedSha256: metadata.sha256,
        };
      });
    } catch (e) {
      throw pgErrorToAppError(e);
    }
  }

  /** Looks up the caller's own pending reservation again (resumable uploads finish in a later request). */
  async findReservation(p: Principal, versionId: string): Promise<UploadReservation> {
    if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(versionId)) {
      throw new AppError("not_found", "This upload is unknown, finished or abandoned.");
    }
    return this.as(p, async (tx) => {
      const { rows } = await tx.query<{
        id: string;
        org_id: string;
        slug: string;
        model_id: string;
        model_slug: string;
        version: string;
        object_key: string;
        file_name: string;
      }>(
        `select v.id, v.org_id, o.slug, v.model_id, m.slug as model_slug, v.version, v.object_key, v.file_name
         from public.model_versions v join public.models m on m.id = v.model_id join public.organizations o on o.id = v.org_id
         where v.id = $1 and v.status = 'pending' and v.created_by = auth.uid()`,
        [versionId],
      );
      const r = rows[0];
      if (!r) throw new AppError("not_found", "This upload is unknown, finished or abandoned.");
      return {
        versionId: r.id,
        orgId: r.org_id,
        orgSlug: r.slug,
        modelId: r.model_id,
        modelSlug: r.model_slug,
        version: r.version,
        key: r.object_key,
        fileName: r.file_name,
      };
    });
  }

  /**
   * Step 2: streams the bytes to the blob store (size and SHA-256 computed on the way, inspection fed
   * from the same chunks), then makes the version visible in one transaction. Any failure abandons
   * the reservation: no visible version, no bytes left behind.
   */
  async completeUpload(
    p: Principal,
    r: UploadReservation,
    body: BlobBody | { file: string },
    opts: { contentLength?: number; signal?: AbortSignal } = {},
    meta: RequestMeta = {},
  ): Promise<ModelVersion> {
    const store = this.deps.blobStoreFor(p);
    const inspector = createInspector({
      fileName: r.fileName,
      size: opts.contentLength,
      readRange: (start, end) => readRange(store, r.key, start, end - 1),
    });
    let stored = false;
    try {
      const putOpts = {
        expectedSize: opts.contentLength,
        expectedSha256: r.expectedSha256,
        maxBytes: this.deps.config.maxUploadBytes,
        signal: opts.signal,
        onChunk: (c: Uint8Array) => inspector.write(c),
      };
      // A finished resumable upload is already a file on disk: the local store links it into place.
      const adopt = (store as Partial<LocalBlobStore>).adoptFile;
      const put =
        "file" in body
          ? adopt
            ? await adopt(r.key, body.file, putOpts)
            : await store.put(r.key, fs.createReadStream(body.file), putOpts)
          : await store.put(r.key, body, putOpts);
      stored = true;
      const inspection = await inspector.end();
      if (inspection.verdict === "invalid") {
        const reasons = inspection.findings.filter((f) => f.severity === "error").map((f) => f.message);
        throw new AppError(
          "invalid_model_file",
          `This file is not a usable model file: ${reasons[0] ?? "its content could not be read"}.`,
          {
            format: inspection.format,
            findings: inspection.findings,
          },
        );
      }
      return await this.finalize(p, r, put, inspection, meta);
    } catch (e) {
      // Supabase may hold a partial object after a failed upload; a conflict means the object was not ours.
      const deleteBytes = stored || (store.kind === "supabase" && !(isAppError(e) && e.code === "conflict"));
      await this.abandonUpload(p, r, { deleteBytes }).catch((cleanup) =>
        console.error("[upload] clean-up failed; the orphan sweep will retry:", (cleanup as Error).message),
      );
      throw pgErrorToAppError(e);
    }
  }

  private async finalize(
    p: Principal,
    r: UploadReservation,
    put: { size: number; sha256: string },
    inspection: InspectionResult,
    meta: RequestMeta,
  ) {
    const status = inspection.verdict === "dangerous" ? "quarantined" : "ready";
    const metadata = {
      ...inspection.metadata,
      ...(inspection.globals.length ? { pickle_globals: inspection.globals } : {}),
      ...(inspection.extensionMismatch ? { extension_mismatch: true } : {}),
    };
    return this.as(p, async (tx) => {
      if (this.deps.config.mode !== "supabase") {
        // The local store keeps storage.objects like Supabase Storage does, so the bucket
        // policies decide here too (a writer of this org, the object never overwritten).
        await tx.query(
          `insert into storage.objects (bucket_id, name, owner, owner_id, metadata)
           values ($1, $2, auth.uid(), auth.uid()::text, $3)`,
          [this.deps.config.bucket, r.key, JSON.stringify({ size: put.size, mimetype: inspection.contentType, sha256: put.sha256 })],
        );
      }
      const { rowCount } = await tx.query(
        `update public.model_versions set status = $2, size_bytes = $3, sha256 = $4, content_type = $5, format = $6, framework = $7,
           metadata = $8, scan_verdict = $9, scan_findings = $10, scanned_at = now()
         where id = $1 and status = 'pending'`,
        [
          r.versionId,
          status,
          put.size,
          put.sha256,
          inspection.contentType,
          inspection.format,
          inspection.framework === "none" ? null : inspection.framework,
          JSON.stringify(metadata),
          inspection.verdict,
          JSON.stringify(inspection.findings),
        ],
      );
      if (rowCount !== 1) throw new AppError("conflict", "This upload was abandoned or already finished.");
      if (inspection.framework !== "none") {
        await tx.query("update public.models set framework = coalesce(framework, $2) where id = $1", [r.modelId, inspection.framework]);
      }
      await this.audit(tx, r.orgId, "version.upload", meta, {
        model: r.modelId,
        version: r.versionId,
        target: ["model_version", r.versionId],
        details: { version: r.version, key: r.key, size: put.size, sha256: put.sha256, verdict: inspection.verdict, status },
      });
      const { rows } = await tx.query<ModelVersion>(
        `select ${VERSION_COLUMNS} from public.model_versions v left join public.profiles p on p.id = v.created_by where v.id = $1`,
        [r.versionId],
      );
      return rows[0]!;
    });
  }

  /**
   * Supabase mode: the client uploaded straight to Supabase's resumable endpoint under the reserved
   * key. Stream the object back once to verify its size and SHA-256 and to inspect it, then finalize.
   */
  async completeStoredUpload(
    p: Principal,
    r: UploadReservation,
    opts: { expectedSize?: number } = {},
    meta: RequestMeta = {},
  ): Promise<ModelVersion> {
    const store = this.deps.blobStoreFor(p);
    try {
      const stat = await store.stat(r.key);
      if (!stat) throw new AppError("not_found", "Nothing was uploaded for this reservation yet.");
      if (opts.expectedSize !== undefined && stat.size !== opts.expectedSize) {
        throw new AppError("length_mismatch", `The stored file is ${stat.size} bytes, not the ${opts.expectedSize} announced.`);
      }
      if (stat.size > this.deps.config.maxUploadBytes) throw new AppError("payload_too_large", "The stored file is larger than the limit.");
      const inspector = createInspector({
        fileName: r.fileName,
        size: stat.size,
        readRange: (start, end) => readRange(store, r.key, start, end - 1),
      });
      const hash = crypto.createHash("sha256");
      let size = 0;
      for await (const chunk of (await store.get(r.key)).stream) {
        const c = chunk as Buffer;
        hash.update(c);
        size += c.length;
        inspector.write(c);
      }
      const sha256 = hash.digest("hex");
      if (r.expectedSha256 && r.expectedSha256 !== sha256)
        throw new AppError("checksum_mismatch", "The stored file's SHA-256 does not match the one announced.");
      const inspection = await inspector.end();
      if (inspection.verdict === "invalid") {
        throw new AppError("invalid_model_file", "This file is not a usable model file.", {
          format: inspection.format,
          findings: inspection.findings,
        });
      }
      return await this.finalize(p, r, { size, sha256 }, inspection, meta);
    } catch (e) {
      await this.abandonUpload(p, r).catch(() => {});
      throw pgErrorToAppError(e);
    }
  }

  /** Drops a reservation and whatever bytes it wrote. Idempotent. */
  async abandonUpload(p: Principal, r: UploadReservation, opts: { deleteBytes?: boolean } = {}): Promise<void> {
    if (opts.deleteBytes !== false) await this.deps.blobStoreFor(p).delete(r.key);
    await this.as(p, async (tx) => {
      const { rows } = await tx.query<{ created_at: Date }>(
        "delete from public.model_versions where id = $1 and status = 'pending' returning created_at",
        [r.versionId],
      );
      // The model this upload created goes too (RLS: only its creator, only while it holds no version).
      if (rows[0]) {
        await tx.query("delete from public.models where id = $1 and created_at >= $2::timestamptz - interval '2 seconds'", [
          r.modelId,
          rows[0].created_at,
        ]);
      }
    });
  }

  /** reserve + complete, for single-request uploads (PUT with the raw body). */
  async uploadVersion(
    p: Principal,
    input: {
      org: string;
      model: string;
      version: string;
      fileName: string;
      body: BlobBody;
      contentLength?: number;
      metadata?: UploadMetadata;
      signal?: AbortSignal;
    },
    meta: RequestMeta = {},
  ): Promise<ModelVersion> {
    const r = await this.reserveUpload(p, { ...input, size: input.contentLength }, meta);
    return this.completeUpload(p, r, input.body, { contentLength: input.contentLength, signal: input.signal }, meta);
  }

  /** Retires a version (soft delete: bytes kept until the retention purge). Aliases on it are removed. */
  async deleteVersion(p: Principal, orgSlug: string, modelSlug: string, version: string, meta: RequestMeta = {}): Promise<void> {
    try {
      await this.as(p, async (tx) => {
        const org = await this.orgIn(tx, orgSlug, "member");
        const { model, version: v } = await this.versionIn(tx, org, modelSlug, version);
        if (v.status === "deleted") throw new AppError("not_found", `Version ${version} is already deleted.`);
        await tx.query("delete from public.model_aliases where version_id = $1", [v.id]);
        await tx.query("update public.model_versions set status = 'deleted' where id = $1", [v.id]);
        await this.audit(tx, org.id, "version.delete", meta, {
          model: model.id,
          version: v.id,
          target: ["model_version", v.id],
          details: { version },
        });
      });
    } catch (e) {
      throw pgErrorToAppError(e, { forbidden: "Only an admin or the uploader can delete a version." });
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Downloads

  /**
   * Authorizes a download under RLS (the version row and the storage object), records it (audit +
   * egress) and opens the byte stream. Quarantined versions need an admin who acknowledges the risk.
   */
  async openDownload(
    p: Principal,
    orgSlug: string,
    modelSlug: string,
    version: string,
    opts: { range?: { start: number; end: number }; acknowledgeRisk?: boolean; via?: "link" } = {},
    meta: RequestMeta = {},
  ): Promise<Download> {
    const v = await this.as(p, async (tx) => {
      const org = await this.orgIn(tx, orgSlug);
      const { model, version: v } = await this.versionIn(tx, org, modelSlug, version);
      this.assertDownloadable(org, v, opts.acknowledgeRisk);
      if (this.deps.config.mode !== "supabase") {
        const { rows } = await tx.query("select 1 from storage.objects where bucket_id = $1 and name = $2", [
          this.deps.config.bucket,
          v.object_key,
        ]);
        if (!rows[0]) throw new AppError("not_found", "The stored file for this version is not available to you.");
      }
      const size = v.size_bytes ?? 0;
      const bytes = opts.range ? opts.range.end - opts.range.start + 1 : size;
      await this.audit(tx, org.id, "version.download", meta, {
        model: model.id,
        version: v.id,
        bytes,
        target: ["model_version", v.id],
        details: {
          version,
          ...(opts.range ? { range: [opts.range.start, opts.range.end] } : {}),
          ...(opts.acknowledgeRisk && v.status === "quarantined" ? { acknowledged_risk: true } : {}),
          ...(opts.via ? { via: opts.via } : {}),
        },
      });
      return v;
    });
    const store =
      v.storage_backend === "local" && this.deps.config.mode === "supabase" && this.deps.localStore
        ? this.deps.localStore()
        : this.deps.blobStoreFor(p);
    const got = await store.get(v.object_key, opts.range ? { range: opts.range } : {});
    return { version: v, fileName: v.object_key.split("/").pop()!, stream: got.stream, size: got.size, start: got.start, end: got.end };
  }

  private assertDownloadable(org: Org, v: ModelVersion, acknowledgeRisk?: boolean) {
    if (v.status === "deleted") throw new AppError("not_found", `Version ${v.version} was deleted.`);
    if (v.status === "quarantined") {
      if (RANK[org.role] < RANK.admin) {
        throw new AppError(
          "quarantined",
          "This version is quarantined: its scan found code that can run when it is loaded. Only an owner or admin can download it.",
        );
      }
      if (!acknowledgeRisk) {
        throw new AppError(
          "quarantined",
          "This version is quarantined. Pass acknowledge_risk=true to download it anyway (this is audited).",
        );
      }
    }
  }

  /** Records that a signed link was issued (audited); the caller turns it into a URL. */
  async authorizeLink(p: Principal, orgSlug: string, modelSlug: string, version: string, ttlSeconds: number, meta: RequestMeta = {}) {
    return this.as(p, async (tx) => {
      const org = await this.orgIn(tx, orgSlug);
      const { model, version: v } = await this.versionIn(tx, org, modelSlug, version);
      this.assertDownloadable(org, v, false);
      await this.audit(tx, org.id, "link.create", meta, {
        model: model.id,
        version: v.id,
        target: ["model_version", v.id],
        details: { version, ttl_seconds: ttlSeconds },
      });
      return { org, model, version: v };
    });
  }

  // ---------------------------------------------------------------------------------------------
  // Aliases

  /** Points an alias (production, staging, …) at a ready version; every move is kept in history. */
  async setAlias(p: Principal, orgSlug: string, modelSlug: string, alias: string, version: string, meta: RequestMeta = {}) {
    const a = aliasSchema.safeParse(alias);
    if (!a.success) throw new AppError("invalid_input", "Invalid alias.", { fields: { alias: a.error.issues[0]?.message } });
    try {
      return await this.as(p, async (tx) => {
        const org = await this.orgIn(tx, orgSlug, "member");
        const { model, version: v } = await this.versionIn(tx, org, modelSlug, version);
        if (v.status !== "ready")
          throw new AppError("conflict", `Version ${version} is ${v.status}; only a ready version can carry an alias.`);
        const { rows: prev } = await tx.query<{ version: string }>(
          `select v.version from public.model_aliases a join public.model_versions v on v.id = a.version_id where a.model_id = $1 and a.alias = $2`,
          [model.id, a.data],
        );
        await tx.query(
          `insert into public.model_aliases (model_id, alias, org_id, version_id) values ($1, $2, $3, $4)
           on conflict (model_id, alias) do update set version_id = excluded.version_id`,
          [model.id, a.data, org.id, v.id],
        );
        await this.audit(tx, org.id, "alias.move", meta, {
          model: model.id,
          version: v.id,
          target: ["model_alias", `${model.slug}:${a.data}`],
          details: { alias: a.data, from: prev[0]?.version ?? null, to: version },
        });
        return { alias: a.data, version, previous: prev[0]?.version ?? null };
      });
    } catch (e) {
      throw pgErrorToAppError(e);
    }
  }

  async aliasHistory(p: Principal, orgSlug: string, modelSlug: string): Promise<AliasMove[]> {
    return this.as(p, async (tx) => {
      const org = await this.orgIn(tx, orgSlug);
      const model = await this.modelIn(tx, org, modelSlug);
      const { rows } = await tx.query<AliasMove>(
        `select h.alias, fv.version as from_version, tv.version as to_version, pr.email as moved_by_email, h.moved_at
         from public.model_alias_history h
         left join public.model_versions fv on fv.id = h.from_version_id
         left join public.model_versions tv on tv.id = h.to_version_id
         left join public.profiles pr on pr.id = h.moved_by
         where h.model_id = $1 order by h.moved_at desc, h.id desc limit 500`,
        [model.id],
      );
      return rows;
    });
  }

  // ---------------------------------------------------------------------------------------------

  private async audit(
    tx: Queryable,
    orgId: string,
    action: string,
    meta: RequestMeta,
    o: { model?: string; version?: string; bytes?: number; target?: [string, string]; details?: Record<string, unknown> } = {},
  ) {
    await tx.query("select public.record_audit_event($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)", [
      orgId,
      action,
      o.target?.[0] ?? null,
      o.target?.[1] ?? null,
      o.model ?? null,
      o.version ?? null,
      o.bytes ?? null,
      JSON.stringify(o.details ?? {}),
      meta.ip ?? null,
      meta.userAgent ?? null,
    ]);
  }
}

/** Keeps the client's file name for display only: never used in a path. */
export function sanitizeFileName(name: string): string {
  const base = name.normalize("NFC").split(/[\\/]/).pop() ?? "";
  const clean = base
    .replace(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g, "")
    .trim()
    .slice(0, 255);
  if (!clean || clean === "." || clean === "..")
    throw new AppError("invalid_input", "Invalid file name.", { fields: { filename: "Give the file a name." } });
  return clean;
}

/** Reads bytes [start, end] (inclusive, like HTTP Range) for the inspector's random access. */
async function readRange(store: BlobStore, key: string, start: number, end: number): Promise<Uint8Array> {
  if (end < start) return new Uint8Array(0);
  const got = await store.get(key, { range: { start, end } });
  const chunks: Buffer[] = [];
  for await (const c of got.stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}
