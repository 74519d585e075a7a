import "server-only";
import type { Principal, RequestMeta } from "@/lib/auth/principal";
import { aliasHistory, aliasTarget, lockAlias, upsertAlias } from "@/lib/db/queries/aliases";
import { recordAudit } from "@/lib/db/queries/audit";
import { pgErrorToAppError } from "@/lib/db/errors";
import { ERRORS } from "@/lib/errors";
import { Service } from "@/lib/services/base";
import { resolveModel, resolveOrg, resolveVersion } from "@/lib/services/resolve";
import { aliasSchema } from "@/lib/validations/models";
import { raiseAliasMoved } from "@/lib/webhooks/events";
import type { AliasMove } from "./types";

/** Aliases (production, staging, …): moved by writers, every move kept in an append-only history. */
export class AliasService extends Service {
  /** Points an alias at a ready version; every move is kept in history. */
  async setAlias(p: Principal, orgSlug: string, modelSlug: string, alias: string, version: string, meta: RequestMeta = {}) {
    const a = aliasSchema.safeParse(alias);
    if (!a.success) throw ERRORS.invalidField("alias", a.error.issues[0]?.message ?? "Invalid.", "Invalid alias.");
    try {
      return await this.as(p, async (tx) => {
        const org = await resolveOrg(tx, orgSlug, "member");
        const { model, version: v } = await resolveVersion(tx, org, modelSlug, version);
        if (v.status !== "ready") throw ERRORS.aliasNeedsReadyVersion(version, v.status);
        await lockAlias(tx, model.id, a.data);
        const previous = (await aliasTarget(tx, model.id, a.data)) ?? null;
        await upsertAlias(tx, { modelId: model.id, orgId: org.id, alias: a.data, versionId: v.id });
        await recordAudit(tx, {
          orgId: org.id,
          action: "alias.move",
          modelId: model.id,
          versionId: v.id,
          target: ["model_alias", `${model.slug}:${a.data}`],
          details: { alias: a.data, from: previous, to: version },
          meta,
        });
        if (previous !== version)
          await raiseAliasMoved(
            tx,
            p,
            org.id,
            { id: model.id, slug: model.slug },
            { alias: a.data, from: previous, to: version, versionId: v.id },
          );
        return { alias: a.data, version, previous };
      });
    } catch (e) {
      throw pgErrorToAppError(e);
    }
  }

  async aliasHistory(p: Principal, orgSlug: string, modelSlug: string): Promise<AliasMove[]> {
    return this.as(p, async (tx) => aliasHistory(tx, (await resolveModel(tx, await resolveOrg(tx, orgSlug), modelSlug)).id));
  }
}
