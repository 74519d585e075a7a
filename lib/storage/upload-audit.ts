import "server-only";
import type { Principal, RequestMeta } from "@/lib/auth/principal";
import { recordAudit } from "@/lib/db/queries/audit";
import type { Queryable } from "@/lib/db/types";
import { isAppError } from "@/lib/errors";
import { Service } from "@/lib/services/base";
import { resolveOrg } from "@/lib/services/resolve";

export interface RefusedUpload {
  org: string;
  model: string;
  version: string;
  path?: string;
}

/** A model an upload creates is recorded like one made on its own (if the upload fails, both events stay). */
export function recordModelCreatedByUpload(
  tx: Queryable,
  m: { orgId: string; modelId: string; slug: string; name: string; version: string },
  meta: RequestMeta,
) {
  return recordAudit(tx, {
    orgId: m.orgId,
    action: "model.create",
    modelId: m.modelId,
    target: ["model", m.modelId],
    details: { slug: m.slug, name: m.name, via: "upload", version: m.version },
    meta,
  });
}

/** The audit trail of refused uploads. */
export class UploadAuditService extends Service {
  /**
   * Records a refused upload (409 taken version, 415 unsupported type, 422 not a model or bad
   * checksum) in the organization's audit trail, in its own transaction: the refusal rolled back the
   * upload's. Never fails the request it describes.
   */
  async recordRefusal(p: Principal, e: unknown, where: RefusedUpload, meta: RequestMeta = {}): Promise<void> {
    if (!isAppError(e) || ![409, 415, 422].includes(e.status)) return;
    try {
      await this.as(p, async (tx) => {
        const org = await resolveOrg(tx, where.org);
        await recordAudit(tx, {
          orgId: org.id,
          action: "upload.refused",
          target: ["model", where.model],
          details: { ...where, status: e.status, code: e.code, reason: e.message.slice(0, 1000) },
          meta,
        });
      });
    } catch (x) {
      // An unknown organization or a stranger (404) has no trail to write to; anything else is logged.
      if (!isAppError(x)) console.error(`[upload] could not record a refused upload: ${(x as Error).message}`);
    }
  }
}
