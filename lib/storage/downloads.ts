import "server-only";
import { Readable, Transform } from "node:stream";
import type { Principal, RequestMeta } from "@/lib/auth/principal";
import { recordAudit } from "@/lib/db/queries/audit";
import { findVersionFile, listVersionFiles, type FileRow } from "@/lib/db/queries/files";
import { canReadModelObject } from "@/lib/db/queries/versions";
import type { Queryable } from "@/lib/db/types";
import { ERRORS, isAppError } from "@/lib/errors";
import { Service } from "@/lib/services/base";
import { resolveOrg, resolveVersion } from "@/lib/services/resolve";
import { createArchive, type ArchiveFormat } from "./archive";
import type { ModelSummary, ModelVersion, Org } from "./types";

export interface Download {
  version: ModelVersion;
  /** The file served (its path in the version), or undefined for an archive of the whole version. */
  file?: FileRow;
  fileName: string;
  contentType: string;
  /** The ETag: the file's SHA-256, or the version's with the archive format. */
  etag: string;
  /** The bytes; counted as they leave, and audited (with the count) when the stream ends or breaks. */
  stream: Readable;
  size: number;
  start: number;
  end: number;
  /** Settles once the download's audit event is recorded (after the stream closed). */
  recorded: Promise<void>;
}

export interface DownloadOptions {
  range?: { start: number; end: number };
  acknowledgeRisk?: boolean;
  via?: "link";
}

/** What a download serves: one file by path (or the only file of a one-file version), or the whole version as an archive. */
export type DownloadTarget = { path?: string; format?: undefined } | { path?: undefined; format: ArchiveFormat };

/** How much the byte-counting stage may hold: one store read (lib/storage/adapters read 1 MiB at a time). */
const COUNT_BUFFER_BYTES = 1024 * 1024;

const isAdmin = (org: Pick<Org, "role">) => org.role === "owner" || org.role === "admin";

/** Deleted versions serve nothing; quarantined ones only to an owner or admin who acknowledges the risk. */
export function assertDownloadable(org: Pick<Org, "role">, v: Pick<ModelVersion, "status" | "version">, acknowledgeRisk?: boolean) {
  if (v.status === "deleted") throw ERRORS.versionDeleted(v.version);
  if (v.status === "quarantined") {
    if (!isAdmin(org)) throw ERRORS.quarantinedForRole();
    if (!acknowledgeRisk) throw ERRORS.quarantinedNeedsAck();
  }
}

/** A store's integrity failure (tampered or corrupted bytes) as the error clients see. */
const damaged = (e: unknown) => (isAppError(e) && e.details?.reason === "integrity" ? ERRORS.storedFileDamaged() : e);

/**
 * Waits for the first chunk before the response starts, so what can be checked before the headers go
 * out is (a tampered encrypted object fails here: a clear error instead of an empty reply). The chunk
 * stays buffered in the stream.
 */
async function firstChunkReadable(source: Readable): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const settle = (e?: unknown) => {
      source.off("readable", onReady).off("end", onReady).off("error", settle);
      if (e === undefined) return resolve();
      source.destroy();
      reject(damaged(e));
    };
    const onReady = () => settle();
    source.once("readable", onReady).once("end", onReady).once("error", settle);
  });
}

/** Downloads and signed links: authorized under RLS, audited with the bytes actually sent. */
export class DownloadService extends Service {
  /**
   * Everything a download checks, without reading or recording anything: the version row and the
   * file under RLS, deleted and quarantined versions. HEAD and conditional requests use it. Without a
   * path, a one-file version's file; an archive lists every file.
   */
  async authorizeDownload(
    p: Principal,
    orgSlug: string,
    modelSlug: string,
    version: string,
    opts: { acknowledgeRisk?: boolean } & DownloadTarget = {},
  ): Promise<{ org: Org; model: ModelSummary; version: ModelVersion; files: FileRow[] }> {
    return this.as(p, async (tx) => {
      const org = await resolveOrg(tx, orgSlug);
      const { model, version: v } = await resolveVersion(tx, org, modelSlug, version);
      assertDownloadable(org, v, opts.acknowledgeRisk);
      let files: FileRow[];
      if (opts.format) files = await listVersionFiles(tx, v.id);
      else if (opts.path !== undefined) {
        const f = await findVersionFile(tx, v.id, opts.path);
        if (!f) throw ERRORS.noSuchFile(opts.path);
        files = [f];
      } else {
        if (v.file_count !== 1) throw ERRORS.singleFileOnly(v.file_count);
        files = await listVersionFiles(tx, v.id);
      }
      for (const f of files) await this.mayRead(tx, f);
      return { org, model, version: v, files };
    });
  }

  /**
   * Supabase Storage checks its storage.objects policies itself; for bytes on local disk the app asks
   * the same rule (can_read_model_object) as the caller before serving them.
   */
  private async mayRead(tx: Queryable, f: FileRow) {
    if (f.purged_at) throw ERRORS.objectNotVisible();
    if (f.storage_backend === "local" && !(await canReadModelObject(tx, f.object_key))) throw ERRORS.objectNotVisible();
  }

  /**
   * Authorizes and opens a download: one file (Range, ETag) or the whole version as a zip or tar. The
   * audit event (egress) is recorded when the stream closes, with the bytes that actually left — a
   * client that hangs up halfway is counted for what it got. Quarantined versions need an admin who
   * acknowledges the risk.
   */
  async openDownload(
    p: Principal,
    orgSlug: string,
    modelSlug: string,
    version: string,
    opts: DownloadOptions & DownloadTarget = {},
    meta: RequestMeta = {},
  ): Promise<Download> {
    const { org, model, version: v, files } = await this.authorizeDownload(p, orgSlug, modelSlug, version, opts);
    const open = async (f: FileRow, range?: { start: number; end: number }) => {
      const store = await this.deps.platform.blobs.forVersion(p, f.storage_backend);
      return store.get(f.object_key, range ? { range } : {}).catch((e) => {
        throw damaged(e);
      });
    };
    let source: Readable;
    let size: number;
    let start = 0;
    let end: number;
    let file: FileRow | undefined;
    let fileName: string;
    let contentType = "application/octet-stream";
    let etag: string;
    if (opts.format) {
      const byPath = new Map(files.map((f) => [f.path, f]));
      const root = `${model.slug}-${v.version}`;
      const archive = await createArchive(
        opts.format,
        root,
        files.map((f) => ({ path: f.path, size: Number(f.size_bytes) })),
        async (e) => (await open(byPath.get(e.path)!)).stream,
        v.created_at,
      );
      ({ stream: source, size, contentType } = archive);
      end = size - 1;
      fileName = `${root}.${opts.format}`;
      etag = `${v.sha256}-${opts.format}`;
    } else {
      file = files[0]!;
      const got = await open(file, opts.range);
      ({ stream: source, size, start, end } = got);
      fileName = file.path.slice(file.path.lastIndexOf("/") + 1);
      etag = file.sha256!;
    }
    await firstChunkReadable(source);
    let sent = 0;
    const counted = source.pipe(
      new Transform({
        // As much as a store reads at once (1 MiB): the default 16 KiB would stop the source after every chunk.
        highWaterMark: COUNT_BUFFER_BYTES,
        transform(chunk: Buffer, _enc, cb) {
          sent += chunk.length;
          cb(null, chunk);
        },
      }),
    );
    source.once("error", (e) => counted.destroy(e));
    const expected = end - start + 1;
    const what = opts.format ? { format: opts.format, files: files.length } : { path: file!.path };
    const recorded = new Promise<void>((resolve) => {
      counted.once("close", () => {
        source.destroy();
        this.as(p, (tx) =>
          recordAudit(tx, {
            orgId: org.id,
            action: "version.download",
            modelId: model.id,
            versionId: v.id,
            bytes: sent,
            target: ["model_version", v.id],
            details: {
              version,
              ...what,
              ...(opts.range ? { range: [opts.range.start, opts.range.end] } : {}),
              ...(sent < expected ? { incomplete: true, expected_bytes: expected } : {}),
              ...(opts.acknowledgeRisk && v.status === "quarantined" ? { acknowledged_risk: true } : {}),
              ...(opts.via ? { via: opts.via } : {}),
            },
            meta,
          }),
        )
          .catch((e: Error) => console.error(`[download] could not record the download of ${model.slug}@${v.version}: ${e.message}`))
          .finally(resolve);
      });
    });
    return { version: v, file, fileName, contentType, etag, stream: counted, size, start, end, recorded };
  }

  /** Records that a signed link was issued (audited); the caller turns it into a URL. */
  async authorizeLink(
    p: Principal,
    orgSlug: string,
    modelSlug: string,
    version: string,
    ttlSeconds: number,
    meta: RequestMeta = {},
    target: DownloadTarget = {},
  ) {
    const { org, model, version: v } = await this.authorizeDownload(p, orgSlug, modelSlug, version, target);
    await this.as(p, (tx) =>
      recordAudit(tx, {
        orgId: org.id,
        action: "link.create",
        modelId: model.id,
        versionId: v.id,
        target: ["model_version", v.id],
        details: {
          version,
          ttl_seconds: ttlSeconds,
          ...(target.path ? { path: target.path } : {}),
          ...(target.format ? { format: target.format } : {}),
        },
        meta,
      }),
    );
    return { org, model, version: v };
  }
}
