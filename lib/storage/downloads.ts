import "server-only";
import type { Readable } from "node:stream";
import type { Principal, RequestMeta } from "@/lib/auth/principal";
import { recordAudit } from "@/lib/db/queries/audit";
import { objectRowVisible } from "@/lib/db/queries/versions";
import { ERRORS } from "@/lib/errors";
import { Service } from "@/lib/services/base";
import { resolveOrg, resolveVersion } from "@/lib/services/resolve";
import type { Org } from "./types";
import type { ModelVersion } from "./types";

export interface Download {
  version: ModelVersion;
  fileName: string;
  stream: Readable;
  size: number;
  start: number;
  end: number;
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

/** Downloads and signed links: authorized under RLS, audited, counted as egress. */
export class DownloadService extends Service {
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
    const { recordsObjectRows } = this.deps.platform.uploads;
    const v = await this.as(p, async (tx) => {
      const org = await resolveOrg(tx, orgSlug);
      const { model, version: v } = await resolveVersion(tx, org, modelSlug, version);
      assertDownloadable(org, v, opts.acknowledgeRisk);
      if (recordsObjectRows && !(await objectRowVisible(tx, this.config.bucket, v.object_key))) throw ERRORS.objectNotVisible();
      const bytes = opts.range ? opts.range.end - opts.range.start + 1 : (v.size_bytes ?? 0);
      await recordAudit(tx, {
        orgId: org.id,
        action: "version.download",
        modelId: model.id,
        versionId: v.id,
        bytes,
        target: ["model_version", v.id],
        details: {
          version,
          ...(opts.range ? { range: [opts.range.start, opts.range.end] } : {}),
          ...(opts.acknowledgeRisk && v.status === "quarantined" ? { acknowledged_risk: true } : {}),
          ...(opts.via ? { via: opts.via } : {}),
        },
        meta,
      });
      return v;
    });
    const store = await this.deps.platform.blobs.forVersion(p, v.storage_backend);
    const got = await store.get(v.object_key, opts.range ? { range: opts.range } : {});
    return { version: v, fileName: v.object_key.split("/").pop()!, stream: got.stream, size: got.size, start: got.start, end: got.end };
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
