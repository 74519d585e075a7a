import "server-only";
import { Readable, Transform } from "node:stream";
import type { Principal, RequestMeta } from "@/lib/auth/principal";
import { recordAudit } from "@/lib/db/queries/audit";
import { canReadModelObject } from "@/lib/db/queries/versions";
import { ERRORS, isAppError } from "@/lib/errors";
import { Service } from "@/lib/services/base";
import { resolveOrg, resolveVersion } from "@/lib/services/resolve";
import type { ModelSummary, ModelVersion, Org } from "./types";

export interface Download {
  version: ModelVersion;
  fileName: string;
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
   * Everything a download checks, without reading or recording anything: the version row and its
   * storage object under RLS, deleted and quarantined versions. HEAD and conditional requests use it.
   */
  async authorizeDownload(
    p: Principal,
    orgSlug: string,
    modelSlug: string,
    version: string,
    opts: { acknowledgeRisk?: boolean } = {},
  ): Promise<{ org: Org; model: ModelSummary; version: ModelVersion }> {
    return this.as(p, async (tx) => {
      const org = await resolveOrg(tx, orgSlug);
      const { model, version: v } = await resolveVersion(tx, org, modelSlug, version);
      assertDownloadable(org, v, opts.acknowledgeRisk);
      // Supabase Storage checks its storage.objects policies itself; for bytes on local disk the app
      // asks the same rule (can_read_model_object) as the caller before serving them.
      if (v.storage_backend === "local" && !(await canReadModelObject(tx, v.object_key))) throw ERRORS.objectNotVisible();
      return { org, model, version: v };
    });
  }

  /**
   * Authorizes and opens a download. The audit event (egress) is recorded when the stream closes,
   * with the bytes that actually left — a client that hangs up halfway is counted for what it got.
   * Quarantined versions need an admin who acknowledges the risk.
   */
  async openDownload(
    p: Principal,
    orgSlug: string,
    modelSlug: string,
    version: string,
    opts: DownloadOptions = {},
    meta: RequestMeta = {},
  ): Promise<Download> {
    const { org, model, version: v } = await this.authorizeDownload(p, orgSlug, modelSlug, version, opts);
    const store = await this.deps.platform.blobs.forVersion(p, v.storage_backend);
    const got = await store.get(v.object_key, opts.range ? { range: opts.range } : {}).catch((e) => {
      throw damaged(e);
    });
    const source = got.stream;
    await firstChunkReadable(source);
    let sent = 0;
    const counted = source.pipe(
      new Transform({
        transform(chunk: Buffer, _enc, cb) {
          sent += chunk.length;
          cb(null, chunk);
        },
      }),
    );
    source.once("error", (e) => counted.destroy(e));
    const expected = got.end - got.start + 1;
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
              ...(opts.range ? { range: [opts.range.start, opts.range.end] } : {}),
              ...(sent < expected ? { incomplete: true, expected_bytes: expected } : {}),
              ...(opts.acknowledgeRisk && v.status === "quarantined" ? { acknowledged_risk: true } : {}),
              ...(opts.via ? { via: opts.via } : {}),
            },
            meta,
          }),
        )
          .catch((e: Error) => console.error(`[download] could not record the download of ${v.object_key}: ${e.message}`))
          .finally(resolve);
      });
    });
    return {
      version: v,
      fileName: v.object_key.split("/").pop()!,
      stream: counted,
      size: got.size,
      start: got.start,
      end: got.end,
      recorded,
    };
  }

  /** Records that a signed link was issued (audited); the caller turns it into a URL. */
  async authorizeLink(p: Principal, orgSlug: string, modelSlug: string, version: string, ttlSeconds: number, meta: RequestMeta = {}) {
    return this.as(p, async (tx) => {
      const org = await resolveOrg(tx, orgSlug);
      const { model, version: v } = await resolveVersion(tx, org, modelSlug, version);
      assertDownloadable(org, v, false);
      await recordAudit(tx, {
        orgId: org.id,
        action: "link.create",
        modelId: model.id,
        versionId: v.id,
        target: ["model_version", v.id],
        details: { version, ttl_seconds: ttlSeconds },
        meta,
      });
      return { org, model, version: v };
    });
  }
}
