import "server-only";
import { Writable } from "node:stream";
import type { Principal, RequestMeta } from "@/lib/auth/principal";
import { recordAudit } from "@/lib/db/queries/audit";
import { deleteModelCreatedWith, ensureModel, fillModelFramework } from "@/lib/db/queries/models";
import {
  deletePendingVersion,
  findOwnPendingVersion,
  findVersionById,
  finishPendingVersion,
  insertPendingVersion,
  releaseStaleReservation,
  renewLease,
  type StaleReservation,
} from "@/lib/db/queries/versions";
import { pgErrorToAppError } from "@/lib/db/errors";
import { ERRORS, isAppError } from "@/lib/errors";
import { createInspector } from "@/lib/inspect/inspect";
import type { InspectionResult } from "@/lib/inspect/types";
import { Service } from "@/lib/services/base";
import { resolveOrg } from "@/lib/services/resolve";
import { modelSlugSchema, orgSlugSchema, uploadMetadataSchema, versionSchema, type UploadMetadata } from "@/lib/validations/models";
import type { BlobBody, BlobStore } from "./blob-store";
import { pipeWithHash } from "./hash-stream";
import { buildObjectKey, extensionFromFileName, sanitizeFileName } from "./object-key";
import type { ModelVersion } from "./types";

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
  /** What the client announced at reservation, checked when the bytes are in. */
  expectedSize?: number;
  expectedSha256?: string;
}

export interface ReserveInput {
  org: string;
  model: string;
  version: string;
  fileName: string;
  size?: number;
  metadata?: UploadMetadata;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * A reservation is a lease: held while the upload streams (renewed every LEASE_RENEW_MS), lost when
 * the process serving it dies. The next upload of that version then takes the number over (after at
 * most LEASE_SECONDS) instead of meeting a 409 for a day.
 */
export const LEASE_SECONDS = 45;
const LEASE_RENEW_MS = 15_000;

/** Reads bytes [start, end] (inclusive, like HTTP Range) for the inspector's random access. */
async function readRange(store: BlobStore, key: string, start: number, end: number): Promise<Uint8Array> {
  if (end < start) return new Uint8Array(0);
  const got = await store.get(key, { range: { start, end } });
  const chunks: Buffer[] = [];
  for await (const c of got.stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/**
 * Uploads: reserve -> stream -> verify -> finalize. A reservation is a pending version row (invisible
 * to others; a second upload of the same version is a 409 from then on). Bytes are hashed and
 * inspected as they stream; the version becomes visible in one transaction, or the reservation and
 * its bytes are removed: nothing is ever half-visible.
 */
export class UploadService extends Service {
  /**
   * Step 1: validates everything that can be checked before any byte arrives and reserves the
   * version. Creates the model when it does not exist.
   */
  async reserveUpload(p: Principal, input: ReserveInput, meta: RequestMeta = {}): Promise<UploadReservation> {
    if (!orgSlugSchema.safeParse(input.org).success) throw ERRORS.noSuchOrg();
    const modelSlug = modelSlugSchema.safeParse(input.model);
    if (!modelSlug.success) throw ERRORS.invalidField("model", modelSlug.error.issues[0]?.message ?? "Invalid.", "Invalid model name.");
    const version = versionSchema.safeParse(input.version);
    if (!version.success) throw ERRORS.invalidField("version", version.error.issues[0]?.message ?? "Invalid.", "Invalid version.");
    const metadata = uploadMetadataSchema.parse(input.metadata ?? {});
    const fileName = sanitizeFileName(input.fileName);
    const ext = extensionFromFileName(fileName);
    const limit = this.config.maxUploadBytes;
    if (input.size !== undefined && input.size > limit) throw ERRORS.fileTooLarge(limit);
    void meta;
    const staleKeys: StaleReservation[] = [];
    try {
      const reservation = await this.as(p, async (tx) => {
        const org = await resolveOrg(tx, input.org, "member");
        const key = buildObjectKey({ orgSlug: org.slug, modelSlug: modelSlug.data, version: version.data, ext });
        const modelId = await ensureModel(tx, {
          orgId: org.id,
          slug: modelSlug.data,
          name: metadata.name ?? modelSlug.data,
          taskType: metadata.task_type ?? "other",
          framework: metadata.framework,
          description: metadata.description,
          tags: metadata.tags,
        });
        const pending = {
          orgId: org.id,
          modelId,
          version: version.data,
          key,
          backend: this.deps.platform.uploads.backend,
          fileName,
          leaseSeconds: LEASE_SECONDS,
          expectedSize: input.size,
          expectedSha256: metadata.sha256,
        };
        let versionId = await insertPendingVersion(tx, pending);
        if (!versionId) {
          // Taken — unless by an upload whose lease ran out (its process died): take the number over.
          const stale = await releaseStaleReservation(tx, modelId, version.data);
          if (stale) {
            staleKeys.push(stale);
            versionId = await insertPendingVersion(tx, pending);
          }
        }
        if (!versionId) throw ERRORS.versionTaken(modelSlug.data, version.data);
        return {
          versionId,
          orgId: org.id,
          orgSlug: org.slug,
          modelId,
          modelSlug: modelSlug.data,
          version: version.data,
          key,
          fileName,
          expectedSize: input.size,
          expectedSha256: metadata.sha256,
        };
      });
      // Whatever the dead upload left at its key would block this one (keys are never overwritten).
      for (const stale of staleKeys) await this.removeStaleBytes(p, stale);
      return reservation;
    } catch (e) {
      throw pgErrorToAppError(e);
    }
  }

  private async removeStaleBytes(p: Principal, stale: StaleReservation): Promise<void> {
    const store = await this.deps.platform.blobs.forVersion(p, stale.storage_backend);
    await store.delete(stale.object_key).catch((e: Error) => console.error(`[upload] could not remove ${stale.object_key}: ${e.message}`));
  }

  /** Extends the caller's reservation (a resumable upload sending its next chunk); false when it is gone. */
  async renewLease(p: Principal, versionId: string): Promise<boolean> {
    if (!UUID.test(versionId)) return false;
    return this.as(p, (tx) => renewLease(tx, versionId, LEASE_SECONDS));
  }

  /** Renews the lease while `work` runs (a long stream), so nobody takes the version over meanwhile. */
  private async holdingLease<T>(p: Principal, r: UploadReservation, work: () => Promise<T>): Promise<T> {
    const timer = setInterval(() => {
      this.renewLease(p, r.versionId).catch((e: Error) => console.error("[upload] lease renewal failed:", e.message));
    }, LEASE_RENEW_MS);
    timer.unref();
    try {
      return await work();
    } finally {
      clearInterval(timer);
    }
  }

  /** Looks up the caller's own pending reservation again (resumable uploads finish in a later request). */
  async findReservation(p: Principal, versionId: string): Promise<UploadReservation> {
    if (!UUID.test(versionId)) throw ERRORS.noSuchUpload();
    const r = await this.as(p, (tx) => findOwnPendingVersion(tx, versionId));
    if (!r) throw ERRORS.noSuchUpload();
    return {
      versionId: r.id,
      orgId: r.org_id,
      orgSlug: r.org_slug,
      modelId: r.model_id,
      modelSlug: r.model_slug,
      version: r.version,
      key: r.object_key,
      fileName: r.file_name,
      expectedSize: r.expected_size ?? undefined,
      expectedSha256: r.expected_sha256 ?? undefined,
    };
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
    const store = await this.deps.platform.blobs.forPrincipal(p);
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
        maxBytes: this.config.maxUploadBytes,
        signal: opts.signal,
        onChunk: (c: Uint8Array) => inspector.write(c),
      };
      const put = await this.holdingLease(p, r, () =>
        "file" in body ? store.putFile(r.key, body.file, putOpts) : store.put(r.key, body, putOpts),
      );
      stored = true;
      const inspection = await inspector.end();
      if (inspection.verdict === "invalid") throw notAModel(inspection);
      return await this.finalize(p, r, put, inspection, meta);
    } catch (e) {
      // Bytes we stored go. Before that, only a failure that proves nothing is at the key as ours may
      // delete there: a conflict means the object is someone else's, and after `unavailable` Storage's
      // state is unknown (the clean-up sweep settles it; the adapter already inferred what it could).
      const unknownState = isAppError(e) && (e.code === "conflict" || e.code === "unavailable");
      const deleteBytes = stored || (store.kind === "supabase" && !unknownState);
      await this.abandonUpload(p, r, { deleteBytes, stored }).catch((cleanup) =>
        console.error("[upload] clean-up failed; the orphan sweep will retry:", (cleanup as Error).message),
      );
      throw pgErrorToAppError(e);
    }
  }

  /**
   * The client uploaded straight to Supabase's resumable endpoint under the reserved key. Stream the
   * object back once to verify its size and SHA-256 and to inspect it, then finalize.
   */
  async completeStoredUpload(
    p: Principal,
    r: UploadReservation,
    opts: { expectedSize?: number } = {},
    meta: RequestMeta = {},
  ): Promise<ModelVersion> {
    const store = await this.deps.platform.blobs.forPrincipal(p);
    try {
      const stat = await store.stat(r.key);
      if (!stat) throw ERRORS.nothingUploaded();
      const expectedSize = opts.expectedSize ?? r.expectedSize;
      if (expectedSize !== undefined && stat.size !== expectedSize) throw ERRORS.storedSizeMismatch(stat.size, expectedSize);
      if (stat.size > this.config.maxUploadBytes) throw ERRORS.fileTooLarge(this.config.maxUploadBytes, stat.size);
      const inspector = createInspector({
        fileName: r.fileName,
        size: stat.size,
        readRange: (start, end) => readRange(store, r.key, start, end - 1),
      });
      const verified = await this.holdingLease(p, r, async () =>
        pipeWithHash((await store.get(r.key)).stream, discardingSink(), {
          expectedSize: stat.size,
          expectedSha256: r.expectedSha256,
          onChunk: (c) => inspector.write(c),
        }),
      );
      const inspection = await inspector.end();
      if (inspection.verdict === "invalid") throw notAModel(inspection);
      return await this.finalize(p, r, verified, inspection, meta);
    } catch (e) {
      await this.abandonUpload(p, r).catch(() => {});
      throw pgErrorToAppError(e);
    }
  }

  /** Drops a reservation and whatever bytes it wrote. Idempotent. */
  async abandonUpload(p: Principal, r: UploadReservation, opts: { deleteBytes?: boolean; stored?: boolean } = {}): Promise<void> {
    if (opts.deleteBytes !== false) {
      let removed: boolean;
      try {
        removed = await (await this.deps.platform.blobs.forPrincipal(p)).delete(r.key);
      } catch (e) {
        // The bytes could not be removed now (Storage down, an expired session): keep the reservation
        // but end its lease, so the next upload of this version takes it over at once and removes
        // them with its own credentials — a retry is not blocked, nothing is left for good.
        await this.as(p, (tx) => renewLease(tx, r.versionId, 0)).catch(() => {});
        throw e;
      }
      // The uploader may always see (and delete) the object of their own pending reservation; when
      // bytes were stored and none could be removed, the storage policies are not ours: say so.
      if (!removed && opts.stored)
        console.error(`[upload] ${r.key}: stored bytes were not removed (hidden by storage policies?); the sweep will`);
    }
    await this.as(p, async (tx) => {
      const reservedAt = await deletePendingVersion(tx, r.versionId);
      // The model this upload created goes too (RLS: only its creator, only while it holds no version).
      if (reservedAt) await deleteModelCreatedWith(tx, r.modelId, reservedAt);
    });
  }

  /** reserve + complete, for single-request uploads (PUT with the raw body). */
  async uploadVersion(
    p: Principal,
    input: ReserveInput & { body: BlobBody; contentLength?: number; signal?: AbortSignal },
    meta: RequestMeta = {},
  ): Promise<ModelVersion> {
    const r = await this.reserveUpload(p, { ...input, size: input.contentLength }, meta);
    return this.completeUpload(p, r, input.body, { contentLength: input.contentLength, signal: input.signal }, meta);
  }

  private async finalize(
    p: Principal,
    r: UploadReservation,
    put: { size: number; sha256: string },
    inspection: InspectionResult,
    meta: RequestMeta,
  ): Promise<ModelVersion> {
    const status = inspection.verdict === "dangerous" ? "quarantined" : "ready";
    const framework = inspection.framework === "none" ? null : inspection.framework;
    const metadata = {
      ...inspection.metadata,
      ...(inspection.globals.length ? { pickle_globals: inspection.globals } : {}),
      ...(inspection.extensionMismatch ? { extension_mismatch: true } : {}),
    };
    return this.as(p, async (tx) => {
      const updated = await finishPendingVersion(tx, r.versionId, {
        status,
        size: put.size,
        sha256: put.sha256,
        contentType: inspection.contentType,
        format: inspection.format,
        framework,
        metadata,
        verdict: inspection.verdict as "safe" | "suspicious" | "dangerous",
        findings: inspection.findings,
      });
      if (updated !== 1) throw ERRORS.uploadGone();
      if (framework) await fillModelFramework(tx, r.modelId, framework);
      await recordAudit(tx, {
        orgId: r.orgId,
        action: "version.upload",
        modelId: r.modelId,
        versionId: r.versionId,
        target: ["model_version", r.versionId],
        details: { version: r.version, key: r.key, size: put.size, sha256: put.sha256, verdict: inspection.verdict, status },
        meta,
      });
      return (await findVersionById(tx, r.versionId))!;
    });
  }
}

const discardingSink = () => new Writable({ write: (_chunk, _enc, cb) => cb() });

function notAModel(inspection: InspectionResult) {
  const reasons = inspection.findings.filter((f) => f.severity === "error").map((f) => f.message);
  return ERRORS.notAModel(reasons[0], { format: inspection.format, findings: inspection.findings });
}
