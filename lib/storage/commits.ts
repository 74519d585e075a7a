import "server-only";
import { randomUUID } from "node:crypto";
import type { Principal, RequestMeta } from "@/lib/auth/principal";
import { recordAudit } from "@/lib/db/queries/audit";
import { deletePendingBlobs, findStoredBlobs, insertPendingBlob } from "@/lib/db/queries/blobs";
import { insertVersionFiles, listVersionFiles, repointVersionFile, type FileRow } from "@/lib/db/queries/files";
import { deleteModelCreatedWith, ensureModel, fillModelFramework, findModel } from "@/lib/db/queries/models";
import {
  deletePendingVersion,
  findOwnPendingVersion,
  findVersion,
  findVersionById,
  finishPendingVersion,
  insertPendingVersion,
  releaseStaleReservation,
  renewLease,
  type StaleReservation,
} from "@/lib/db/queries/versions";
import { pgErrorToAppError } from "@/lib/db/errors";
import type { Queryable } from "@/lib/db/types";
import { ERRORS } from "@/lib/errors";
import { Service } from "@/lib/services/base";
import { resolveOrg } from "@/lib/services/resolve";
import { MAX_FILES_PER_VERSION, filePathProblem, type Provenance } from "@/lib/validations/files";
import { modelSlugSchema, orgSlugSchema, uploadMetadataSchema, versionSchema, type UploadMetadata } from "@/lib/validations/models";
import { describeLayout } from "./layout";
import { blobKey } from "./object-key";
import type { ModelVersion } from "./types";
import { raiseVersionFinished } from "@/lib/webhooks/events";
import { locatedFindings, versionDigest, worstVerdict } from "./version-content";

/** A file of a commit: where its bytes go, or that the organization already stores them. */
export interface CommitFile {
  path: string;
  /** Announced (or, once stored, measured). */
  size: number | null;
  sha256: string | null;
  blobId: string;
  key: string;
  backend: "local" | "supabase";
  /** `stored`: nothing to send (already in the organization, or uploaded); `upload`: send the bytes. */
  state: "stored" | "upload";
  /** Another commit of this organization already stored these bytes: not uploaded, not stored twice. */
  deduplicated: boolean;
}

/** A pending version being committed: invisible to others until complete, all files or none. */
export interface Commit {
  id: string;
  orgId: string;
  orgSlug: string;
  modelId: string;
  modelSlug: string;
  version: string;
  fileName: string;
  leaseUntil: Date | null;
  files: CommitFile[];
}

export interface CommitInput {
  org: string;
  model: string;
  version: string;
  /** size and sha256 are required by the REST API; the one-file PUT learns them from the bytes. */
  files: { path: string; size?: number; sha256?: string }[];
  metadata?: UploadMetadata;
  tags?: Record<string, string>;
  provenance?: Provenance;
}

/**
 * A commit is a lease: held while its files stream (renewed every LEASE_RENEW_MS and on every
 * resumable chunk), lost when the process serving it dies. The next commit of that version then takes
 * the number over (after at most LEASE_SECONDS) instead of meeting a 409 for a day.
 */
export const LEASE_SECONDS = 45;
const LEASE_RENEW_MS = 15_000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Asset formats (version-content.ts assetFormat) that are documents, never weights. */
const DOCUMENT_FORMATS = new Set(["markdown", "json", "yaml", "text", "image"]);

const basename = (path: string) => path.slice(path.lastIndexOf("/") + 1);

function toCommitFile(f: FileRow, commitId: string): CommitFile {
  return {
    path: f.path,
    size: f.size_bytes,
    sha256: f.sha256,
    blobId: f.blob_id,
    key: f.object_key,
    backend: f.storage_backend,
    state: f.blob_status === "stored" ? "stored" : "upload",
    deduplicated: f.blob_status === "stored" && f.upload_version_id !== commitId,
  };
}

/** Commits: reserve a version and its files -> upload what is missing -> complete, atomically. */
export class CommitService extends Service {
  /**
   * Reserves the version and says, file by file, what the organization already stores. Creates the
   * model when it does not exist. Files with the same bytes share one upload.
   */
  async createCommit(p: Principal, input: CommitInput, meta: RequestMeta = {}): Promise<Commit> {
    if (!orgSlugSchema.safeParse(input.org).success) throw ERRORS.noSuchOrg();
    const modelSlug = modelSlugSchema.safeParse(input.model);
    if (!modelSlug.success) throw ERRORS.invalidField("model", modelSlug.error.issues[0]?.message ?? "Invalid.", "Invalid model name.");
    const version = versionSchema.safeParse(input.version);
    if (!version.success) throw ERRORS.invalidField("version", version.error.issues[0]?.message ?? "Invalid.", "Invalid version.");
    const metadata = uploadMetadataSchema.parse(input.metadata ?? {});
    if (input.files.length === 0 || input.files.length > MAX_FILES_PER_VERSION)
      throw ERRORS.invalidField("files", `A version has 1 to ${MAX_FILES_PER_VERSION} files.`);
    const limit = this.config.maxUploadBytes;
    for (const f of input.files) {
      const problem = filePathProblem(f.path);
      if (problem) throw ERRORS.invalidField("files", `${JSON.stringify(f.path.slice(0, 200))} ${problem}.`, "Invalid file path.");
      if (f.size !== undefined && f.size > limit) throw ERRORS.fileTooLarge(limit, f.size);
    }
    void meta;
    const backend = this.deps.platform.uploads.backend;
    const stale: StaleReservation[] = [];
    try {
      const commit = await this.as(p, async (tx) => {
        const org = await resolveOrg(tx, input.org, "member");
        const modelId = await ensureModel(tx, {
          orgId: org.id,
          slug: modelSlug.data,
          name: metadata.name ?? modelSlug.data,
          taskType: metadata.task_type ?? "other",
          framework: metadata.framework,
          description: metadata.description,
          tags: metadata.tags,
        });
        const parentVersionId = input.provenance?.parent ? await this.parentId(tx, org.id, input.provenance.parent) : null;
        const pending = {
          orgId: org.id,
          modelId,
          version: version.data,
          backend,
          fileName: input.files.length === 1 ? basename(input.files[0]!.path) : "",
          fileCount: input.files.length,
          leaseSeconds: LEASE_SECONDS,
          tags: input.tags,
          provenance: input.provenance,
          parentVersionId,
        };
        let id = await insertPendingVersion(tx, pending);
        if (!id) {
          // Taken — unless by a commit whose lease ran out (its process died): take the number over.
          const released = await releaseStaleReservation(tx, modelId, version.data);
          if (released.length) {
            stale.push(...released.filter((r) => r.object_key));
            id = await insertPendingVersion(tx, pending);
          }
        }
        if (!id) throw ERRORS.versionTaken(modelSlug.data, version.data);
        const commitId = id;

        // What the organization already stores is referenced, not uploaded again.
        const known = await findStoredBlobs(
          tx,
          org.id,
          input.files.flatMap((f) => (f.sha256 ? [f.sha256] : [])),
        );
        const reserved = new Map<string, string>();
        const rows: { path: string; blobId: string }[] = [];
        for (const f of input.files) {
          const existing = f.sha256 ? known.get(f.sha256) : undefined;
          if (existing && (f.size === undefined || existing.size_bytes === f.size)) {
            rows.push({ path: f.path, blobId: existing.id });
            continue;
          }
          const same = f.sha256 ? reserved.get(`${f.sha256}:${f.size}`) : undefined;
          if (same) {
            rows.push({ path: f.path, blobId: same });
            continue;
          }
          const blobId = randomUUID();
          await insertPendingBlob(tx, {
            id: blobId,
            orgId: org.id,
            key: blobKey(org.slug, blobId),
            backend,
            commitId,
            fileName: basename(f.path).slice(0, 255),
            expectedSize: f.size,
            expectedSha256: f.sha256,
          });
          if (f.sha256) reserved.set(`${f.sha256}:${f.size}`, blobId);
          rows.push({ path: f.path, blobId });
        }
        await insertVersionFiles(tx, commitId, org.id, rows);
        return this.load(tx, commitId);
      });
      // Whatever a dead commit left at its keys would only be an orphan: remove it now.
      for (const s of stale) await this.removeBytes(p, s.object_key!, s.storage_backend ?? backend);
      return commit;
    } catch (e) {
      throw pgErrorToAppError(e);
    }
  }

  private async parentId(tx: Queryable, orgId: string, parent: { model: string; version: string }) {
    const model = await findModel(tx, orgId, parent.model);
    const v = model ? await findVersion(tx, model.id, parent.version) : undefined;
    if (!v) throw ERRORS.invalidField("provenance.parent", `No version ${parent.version} of ${parent.model} in this organization.`);
    return v.id;
  }

  private async load(tx: Queryable, id: string): Promise<Commit> {
    const v = await findOwnPendingVersion(tx, id);
    if (!v) throw ERRORS.noSuchCommit();
    const files = await listVersionFiles(tx, id);
    return {
      id: v.id,
      orgId: v.org_id,
      orgSlug: v.org_slug,
      modelId: v.model_id,
      modelSlug: v.model_slug,
      version: v.version,
      fileName: v.file_name,
      leaseUntil: v.lease_until,
      files: files.map((f) => toCommitFile(f, id)),
    };
  }

  /** The caller's own pending commit, with the state of each file (resuming after a reload). */
  async getCommit(p: Principal, id: string): Promise<Commit> {
    if (!UUID.test(id)) throw ERRORS.noSuchCommit();
    return this.as(p, (tx) => this.load(tx, id));
  }

  /** getCommit, and 404 unless it belongs to this organization and model (the URL it was reached by). */
  async getCommitAt(p: Principal, org: string, model: string, id: string): Promise<Commit> {
    const c = await this.getCommit(p, id);
    if (c.orgSlug !== org || c.modelSlug !== model) throw ERRORS.noSuchCommit();
    return c;
  }

  /** Extends the caller's commit lease (a file streaming, a resumable chunk); false when it is gone. */
  async renewLease(p: Principal, id: string, seconds = LEASE_SECONDS): Promise<boolean> {
    if (!UUID.test(id)) return false;
    return this.as(p, (tx) => renewLease(tx, id, seconds));
  }

  /** Renews the lease while `work` runs (a long stream), so nobody takes the version over meanwhile. */
  async holdingLease<T>(p: Principal, id: string, work: () => Promise<T>): Promise<T> {
    const timer = setInterval(() => {
      this.renewLease(p, id).catch((e: Error) => console.error("[upload] lease renewal failed:", e.message));
    }, LEASE_RENEW_MS);
    timer.unref();
    try {
      return await work();
    } finally {
      clearInterval(timer);
    }
  }

  /**
   * Makes the version visible with all its files, in one transaction: every file stored, the folder's
   * layout recognized and consistent (a missing shard is invalid), at least one model file. The
   * version's verdict is the worst of its files'; a dangerous file quarantines it. A commit that cannot
   * be completed is abandoned (its stored files stay for a retry to reuse).
   */
  async completeCommit(p: Principal, id: string, meta: RequestMeta = {}): Promise<ModelVersion> {
    const commit = await this.getCommit(p, id);
    const missing = commit.files.filter((f) => f.state !== "stored").map((f) => f.path);
    if (missing.length) throw ERRORS.filesMissing(missing);
    // IMPORTANT: a stored blob this commit reused may have been purged by retention meanwhile (it
    // referenced it while the purge held the row): those files are uploaded again, never left pointing
    // at deleted bytes. Once the commit's files are in, the purge sees them and keeps the blobs.
    const purged = await this.as(p, (tx) => this.replacePurgedBlobs(tx, commit));
    if (purged.length) throw ERRORS.filesMissing(purged);
    try {
      const files = await this.as(p, (tx) => listVersionFiles(tx, id));
      const layout = await describeLayout(this.deps.platform, p, files);
      if (layout.problems.some((x) => x.severity === "invalid"))
        throw ERRORS.invalidLayout(layout.problems.filter((x) => x.severity === "invalid"));
      const models = files.filter((f) => (f.metadata as { role?: string }).role !== "asset");
      // A folder must hold something that can be a model: weights, a serialized model, or bytes the
      // inspector could not identify — not only cards, configs, text and images.
      const onlyDocuments = files.every((f) => DOCUMENT_FORMATS.has(f.format ?? ""));
      if (files.length > 1 && onlyDocuments && layout.layout === "unknown") throw ERRORS.noModelFile();
      const verdict = worstVerdict(files.map((f) => f.scan_verdict));
      const one = files.length === 1 ? files[0]! : undefined;
      const main = one ?? models[0];
      const framework = layout.framework ?? main?.framework ?? null;
      return await this.as(p, async (tx) => {
        const updated = await finishPendingVersion(tx, id, {
          status: verdict === "dangerous" ? "quarantined" : "ready",
          size: files.reduce((n, f) => n + Number(f.size_bytes ?? 0), 0),
          sha256: versionDigest(files.map((f) => ({ path: f.path, size: Number(f.size_bytes), sha256: f.sha256! }))),
          fileCount: files.length,
          contentType: one?.content_type ?? "application/x-directory",
          format: one ? (one.format ?? "unknown") : layout.layout,
          framework,
          metadata: one ? one.metadata : { ...(main ? { main_file: main.path } : {}), ...layout.summary },
          verdict,
          findings: locatedFindings(files.map((f) => ({ path: f.path, findings: f.scan_findings }))),
          layout: layout.layout,
          layoutDetails: { ...layout.details, problems: layout.problems },
        });
        if (updated !== 1) throw ERRORS.uploadGone();
        if (framework) await fillModelFramework(tx, commit.modelId, framework);
        const uploaded = commit.files.filter((f) => !f.deduplicated);
        await recordAudit(tx, {
          orgId: commit.orgId,
          action: "version.upload",
          modelId: commit.modelId,
          versionId: id,
          target: ["model_version", id],
          details: {
            version: commit.version,
            files: files.length,
            size: files.reduce((n, f) => n + Number(f.size_bytes ?? 0), 0),
            stored_bytes: uploaded.reduce((n, f) => n + Number(f.size ?? 0), 0),
            deduplicated_files: commit.files.length - uploaded.length,
            layout: layout.layout,
            verdict,
            status: verdict === "dangerous" ? "quarantined" : "ready",
            ...(one ? { path: one.path, sha256: one.sha256 } : {}),
          },
          meta,
        });
        const finished = (await findVersionById(tx, id))!;
        await raiseVersionFinished(tx, p, commit.orgId, { id: commit.modelId, slug: commit.modelSlug }, finished);
        return finished;
      });
    } catch (e) {
      await this.abandonCommit(p, id).catch(() => {});
      throw pgErrorToAppError(e);
    }
  }

  /**
   * Drops a commit: its pending blobs (and whatever bytes they got), its file list, the version
   * number, and the model the commit created. Blobs it already stored stay: nothing references them,
   * a retry reuses them, and otherwise the retention sweep collects them. Idempotent.
   */
  async abandonCommit(p: Principal, id: string): Promise<void> {
    if (!UUID.test(id)) return;
    const commit = await this.getCommit(p, id).catch(() => undefined);
    if (!commit) return;
    const pending = commit.files.filter((f) => f.state === "upload" && !f.deduplicated);
    // Bytes first: a failure here ends the lease instead, so the next commit of this version takes
    // it over at once and removes them with its own credentials — a retry is never blocked.
    try {
      for (const f of pending) await this.removeBytes(p, f.key, f.backend, { throwOnError: true });
    } catch (e) {
      await this.renewLease(p, id, 0).catch(() => {});
      throw e;
    }
    await this.as(p, async (tx) => {
      // The version first: its file list goes with it (cascade), then nothing points at the blobs.
      const reservedAt = await deletePendingVersion(tx, id);
      await deletePendingBlobs(tx, [...new Set(pending.map((f) => f.blobId))]);
      // The model this commit created goes too (RLS: only its creator, only while it holds no version).
      if (reservedAt) await deleteModelCreatedWith(tx, commit.modelId, reservedAt);
    });
  }

  /** Points each file of the commit whose blob was purged at a new pending blob; their paths. */
  private async replacePurgedBlobs(tx: Queryable, commit: Commit): Promise<string[]> {
    const files = (await listVersionFiles(tx, commit.id)).filter((f) => f.purged_at);
    const fresh = new Map<string, string>();
    for (const f of files) {
      let blobId = fresh.get(f.blob_id);
      if (!blobId) {
        blobId = randomUUID();
        await insertPendingBlob(tx, {
          id: blobId,
          orgId: commit.orgId,
          key: blobKey(commit.orgSlug, blobId),
          backend: this.deps.platform.uploads.backend,
          commitId: commit.id,
          fileName: basename(f.path).slice(0, 255),
          expectedSize: f.size_bytes === null ? undefined : Number(f.size_bytes),
          expectedSha256: f.sha256 ?? undefined,
        });
        fresh.set(f.blob_id, blobId);
      }
      await repointVersionFile(tx, commit.id, f.path, blobId);
    }
    return files.map((f) => f.path);
  }

  private async removeBytes(p: Principal, key: string, backend: "local" | "supabase", opts: { throwOnError?: boolean } = {}) {
    try {
      await (await this.deps.platform.blobs.forVersion(p, backend)).delete(key);
    } catch (e) {
      if (opts.throwOnError) throw e;
      console.error(`[upload] could not remove ${key}: ${(e as Error).message}`);
    }
  }
}
