import "server-only";
import { Writable } from "node:stream";
import type { Principal, RequestMeta } from "@/lib/auth/principal";
import { deletePendingBlobs, findStoredBlob, storeBlob } from "@/lib/db/queries/blobs";
import { repointVersionFile } from "@/lib/db/queries/files";
import { pgErrorToAppError } from "@/lib/db/errors";
import { ERRORS, isAppError } from "@/lib/errors";
import { createInspector } from "@/lib/inspect/inspect";
import type { InspectionResult } from "@/lib/inspect/types";
import { Service, type ServiceDeps } from "@/lib/services/base";
import type { UploadMetadata } from "@/lib/validations/models";
import type { BlobBody, BlobStore, PutResult } from "./blob-store";
import { CommitService, type Commit, type CommitFile } from "./commits";
import { discardBody, pipeWithHash } from "./hash-stream";
import { extensionFromFileName, sanitizeFileName } from "./object-key";
import type { ModelVersion } from "./types";
import { blobContent, fileRole } from "./version-content";

/** A one-file commit, as the reservations API and the resumable endpoint's one-file uploads see it. */
export interface UploadReservation {
  versionId: string;
  orgSlug: string;
  modelSlug: string;
  version: string;
  /** Where the file's bytes go (a client with direct access to Supabase Storage writes here). */
  key: string;
  path: string;
  fileName: string;
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

interface BytesOptions {
  contentLength?: number;
  signal?: AbortSignal;
}

/** Reads bytes [start, end] (inclusive, like HTTP Range) for the inspector's random access. */
async function readRange(store: BlobStore, key: string, start: number, end: number): Promise<Uint8Array> {
  if (end < start) return new Uint8Array(0);
  const got = await store.get(key, { range: { start, end } });
  const chunks: Buffer[] = [];
  for await (const c of got.stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

const discardingSink = () => new Writable({ write: (_chunk, _enc, cb) => cb() });

function toReservation(c: Commit): UploadReservation {
  const f = c.files[0]!;
  return {
    versionId: c.id,
    orgSlug: c.orgSlug,
    modelSlug: c.modelSlug,
    version: c.version,
    key: f.key,
    path: f.path,
    fileName: c.fileName,
    expectedSize: f.size ?? undefined,
    expectedSha256: f.sha256 ?? undefined,
  };
}

/**
 * The bytes of a commit's files: stream -> verify -> inspect -> store. Each file is hashed and
 * inspected as it streams; its blob is stored only when size and SHA-256 match what the commit
 * announced (the stores never let an unverified body complete). Bytes another commit stored in the
 * meantime are not kept twice. A failed file leaves no bytes and can be sent again.
 */
export class UploadService extends Service {
  readonly commits: CommitService;

  constructor(deps: ServiceDeps) {
    super(deps);
    this.commits = new CommitService(deps);
  }

  private fileOf(commit: Commit, path: string): CommitFile {
    const f = commit.files.find((x) => x.path === path);
    if (!f) throw ERRORS.noSuchFileInCommit(path);
    return f;
  }

  /**
   * Streams one file of the caller's commit into the store (a PUT body, or a finished resumable
   * upload on this machine). A file already stored answers at once without reading the body.
   */
  async uploadFile(
    p: Principal,
    commitId: string,
    path: string,
    body: BlobBody | { file: string },
    opts: BytesOptions = {},
  ): Promise<CommitFile> {
    const commit = await this.commits.getCommit(p, commitId);
    const file = this.fileOf(commit, path);
    if (file.state === "stored") {
      if (!("file" in body)) discardBody(body);
      return file;
    }
    const store = await this.deps.platform.blobs.forPrincipal(p);
    const single = commit.files.length === 1;
    const inspector = createInspector({
      fileName: file.path.slice(file.path.lastIndexOf("/") + 1),
      size: opts.contentLength ?? file.size ?? undefined,
      readRange: (start, end) => readRange(store, file.key, start, end - 1),
    });
    let put: PutResult | undefined;
    try {
      const putOpts = {
        expectedSize: opts.contentLength ?? file.size ?? undefined,
        expectedSha256: file.sha256 ?? undefined,
        maxBytes: this.config.maxUploadBytes,
        signal: opts.signal,
        onChunk: (c: Uint8Array) => {
          inspector.write(c);
          // A one-file version whose first bytes already say "not a model" stops here, not gigabytes later.
          const early = single ? inspector.early() : null;
          if (early) throw ERRORS.notAModel(early.message.replace(/\.$/, ""), { what: early.what, early: true });
        },
      };
      if (putOpts.expectedSize !== undefined && file.size !== null && putOpts.expectedSize !== file.size)
        throw ERRORS.storedSizeMismatch(putOpts.expectedSize, file.size);
      put = await this.commits.holdingLease(p, commitId, () =>
        "file" in body ? store.putFile(file.key, body.file, putOpts) : store.put(file.key, body, putOpts),
      );
      return await this.settle(p, commit, file, store, put, await inspector.end(), single);
    } catch (e) {
      await this.dropBytes(store, file, e, put !== undefined);
      throw await this.refused(p, commit, file, e);
    }
  }

  /**
   * The bytes are already at the file's key (a client wrote them to Supabase Storage directly, or a
   * proxied resumable upload lost its in-memory hash): read them back once to verify and inspect.
   */
  async verifyStoredFile(p: Principal, commitId: string, path: string, opts: { expectedSize?: number } = {}): Promise<CommitFile> {
    const commit = await this.commits.getCommit(p, commitId);
    const file = this.fileOf(commit, path);
    if (file.state === "stored") return file;
    const store = await this.deps.platform.blobs.forPrincipal(p);
    try {
      const stat = await store.stat(file.key);
      if (!stat) throw ERRORS.nothingUploaded();
      const expectedSize = opts.expectedSize ?? file.size ?? undefined;
      if (expectedSize !== undefined && stat.size !== expectedSize) throw ERRORS.storedSizeMismatch(stat.size, expectedSize);
      if (stat.size > this.config.maxUploadBytes) throw ERRORS.fileTooLarge(this.config.maxUploadBytes, stat.size);
      const inspector = createInspector({
        fileName: file.path.slice(file.path.lastIndexOf("/") + 1),
        size: stat.size,
        readRange: (start, end) => readRange(store, file.key, start, end - 1),
      });
      const verified = await this.commits.holdingLease(p, commitId, async () =>
        pipeWithHash((await store.get(file.key)).stream, discardingSink(), {
          expectedSize: stat.size,
          expectedSha256: file.sha256 ?? undefined,
          onChunk: (c) => inspector.write(c),
        }),
      );
      return await this.settle(p, commit, file, store, { key: file.key, ...verified }, await inspector.end(), commit.files.length === 1);
    } catch (e) {
      await this.dropBytes(store, file, e, true);
      throw await this.refused(p, commit, file, e);
    }
  }

  /**
   * The bytes streamed through our resumable endpoint into the store, hashed and inspected on the way
   * (supabase mode, lib/http/tus-supabase-store.ts): record them like any other verified upload.
   */
  async settleStreamed(
    p: Principal,
    commitId: string,
    path: string,
    streamed: { size: number; sha256: string; inspection: InspectionResult },
  ): Promise<CommitFile> {
    const commit = await this.commits.getCommit(p, commitId);
    const file = this.fileOf(commit, path);
    if (file.state === "stored") return file;
    const store = await this.deps.platform.blobs.forPrincipal(p);
    try {
      if (file.sha256 && streamed.sha256 !== file.sha256) throw ERRORS.checksumMismatch();
      const put = { key: file.key, size: streamed.size, sha256: streamed.sha256 };
      return await this.settle(p, commit, file, store, put, streamed.inspection, commit.files.length === 1);
    } catch (e) {
      await this.dropBytes(store, file, e, true);
      throw await this.refused(p, commit, file, e);
    }
  }

  /** The error to throw for a failed file, recorded in the audit trail when it is a refusal. */
  private async refused(p: Principal, commit: Commit, file: CommitFile, e: unknown) {
    const err = pgErrorToAppError(e);
    await this.commits.refusals.recordRefusal(p, err, {
      org: commit.orgSlug,
      model: commit.modelSlug,
      version: commit.version,
      path: file.path,
    });
    return err;
  }

  /**
   * Records the verified bytes: a model format broken inside is refused (422, naming the file); so is
   * a one-file version that is not a model at all. When the organization already stores these bytes
   * (another commit got there first, or a PUT did not announce its hash), the file points at that copy
   * and ours is removed: stored once, billed once.
   */
  private async settle(
    p: Principal,
    commit: Commit,
    file: CommitFile,
    store: BlobStore,
    put: PutResult,
    inspection: InspectionResult,
    single: boolean,
  ) {
    if (put.size === 0) throw ERRORS.emptyFile();
    // Content decides: what the inspector could not identify is stored as an unknown format with the
    // scanner's verdict. A one-file version must not be clearly something else (an image, a document);
    // in a folder such files are its assets — but a model format broken inside is refused anywhere.
    if (fileRole(inspection) === "invalid" || (single && inspection.verdict === "invalid")) {
      const reasons = inspection.findings.filter((f) => f.severity === "error").map((f) => f.message);
      const details = { format: inspection.format, findings: inspection.findings };
      throw single ? ERRORS.notAModel(reasons[0], details) : ERRORS.fileNotAModel(file.path, reasons[0], details);
    }
    const content = blobContent(file.path, inspection, put.size, put.sha256);
    const other = await this.as(p, (tx) => findStoredBlob(tx, commit.orgId, put.sha256));
    const existing = other && other.id !== file.blobId ? other : undefined;
    if (existing) {
      // IMPORTANT: our copy goes while its pending blob still exists — that is what lets the uploader
      // see and delete it in Supabase Storage (the storage policies); a stored blob is never removed.
      const removed = await store.delete(file.key).catch((e: Error) => {
        console.error(`[upload] could not remove duplicate ${file.key}: ${e.message}`);
        return true;
      });
      if (!removed) console.error(`[upload] duplicate ${file.key} was not removed (hidden by storage policies?)`);
      await this.as(p, async (tx) => {
        for (const f of commit.files.filter((x) => x.blobId === file.blobId)) await repointVersionFile(tx, commit.id, f.path, existing.id);
        await deletePendingBlobs(tx, [file.blobId]);
      });
      return {
        ...file,
        blobId: existing.id,
        key: existing.object_key,
        size: put.size,
        sha256: put.sha256,
        state: "stored" as const,
        deduplicated: true,
      };
    }
    if ((await this.as(p, (tx) => storeBlob(tx, file.blobId, content))) !== 1) throw ERRORS.uploadGone();
    return { ...file, size: put.size, sha256: put.sha256, state: "stored" as const };
  }

  /**
   * After a failed file: bytes we stored go. Before that, only a failure that proves nothing of ours
   * is at the key may delete there — a conflict means the object is someone else's, and after
   * `unavailable` Storage's state is unknown (the adapter already inferred what it could; the clean-up
   * sweep settles the rest).
   */
  private async dropBytes(store: BlobStore, file: CommitFile, e: unknown, stored: boolean) {
    const unknownState = isAppError(e) && (e.code === "conflict" || e.code === "unavailable");
    if (!stored && (store.kind !== "supabase" || unknownState)) return;
    try {
      const removed = await store.delete(file.key);
      // The uploader may always see (and delete) the object of their own pending blob; when bytes
      // were stored and none could be removed, the storage policies are not ours: say so.
      if (!removed && stored)
        console.error(`[upload] ${file.key}: stored bytes were not removed (hidden by storage policies?); the sweep will`);
    } catch (cleanup) {
      console.error("[upload] clean-up failed; the orphan sweep will retry:", (cleanup as Error).message);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // One-file versions: PUT …/versions/{version}, the reservations API, one-file resumable uploads.

  /** Reserves a one-file version (a commit of one file whose hash may be unknown yet). */
  async reserveUpload(p: Principal, input: ReserveInput, meta: RequestMeta = {}): Promise<UploadReservation> {
    const path = sanitizeFileName(input.fileName);
    // A one-file version is a model file: its name says which kind, and what it is not (415 before a byte).
    try {
      extensionFromFileName(path);
    } catch (e) {
      await this.commits.refusals.recordRefusal(p, e, { org: input.org, model: input.model, version: input.version, path }, meta);
      throw e;
    }
    const commit = await this.commits.createCommit(
      p,
      {
        org: input.org,
        model: input.model,
        version: input.version,
        files: [{ path, size: input.size, sha256: input.metadata?.sha256 }],
        metadata: input.metadata,
      },
      meta,
    );
    return toReservation(commit);
  }

  /** The caller's own pending one-file commit. */
  async findReservation(p: Principal, id: string): Promise<UploadReservation> {
    const c = await this.commits.getCommit(p, id).catch(() => {
      throw ERRORS.noSuchUpload();
    });
    if (c.files.length !== 1) throw ERRORS.noSuchUpload();
    return toReservation(c);
  }

  /** Streams the file and completes the version; any failure abandons it: nothing half-visible. */
  async completeUpload(
    p: Principal,
    r: UploadReservation,
    body: BlobBody | { file: string },
    opts: BytesOptions = {},
    meta: RequestMeta = {},
  ): Promise<ModelVersion> {
    try {
      await this.uploadFile(p, r.versionId, r.path, body, opts);
      return await this.commits.completeCommit(p, r.versionId, meta);
    } catch (e) {
      await this.commits.abandonCommit(p, r.versionId).catch(() => {});
      throw e;
    }
  }

  /** The client wrote the file straight to the store under the reserved key: verify, inspect, complete. */
  async completeStoredUpload(
    p: Principal,
    r: UploadReservation,
    opts: { expectedSize?: number } = {},
    meta: RequestMeta = {},
  ): Promise<ModelVersion> {
    try {
      await this.verifyStoredFile(p, r.versionId, r.path, opts);
      return await this.commits.completeCommit(p, r.versionId, meta);
    } catch (e) {
      await this.commits.abandonCommit(p, r.versionId).catch(() => {});
      throw e;
    }
  }

  async abandonUpload(p: Principal, r: Pick<UploadReservation, "versionId">): Promise<void> {
    await this.commits.abandonCommit(p, r.versionId);
  }

  async renewLease(p: Principal, id: string): Promise<boolean> {
    return this.commits.renewLease(p, id);
  }

  /** reserve + complete, for single-request uploads (PUT with the raw body). */
  async uploadVersion(
    p: Principal,
    input: ReserveInput & { body: BlobBody; contentLength?: number; signal?: AbortSignal },
    meta: RequestMeta = {},
  ): Promise<ModelVersion> {
    let r: UploadReservation;
    try {
      r = await this.reserveUpload(p, { ...input, size: input.contentLength }, meta);
    } catch (e) {
      discardBody(input.body);
      throw e;
    }
    return this.completeUpload(p, r, input.body, { contentLength: input.contentLength, signal: input.signal }, meta);
  }
}
