import "server-only";
import type { Principal, RequestMeta } from "@/lib/auth/principal";
import {
  aliasHistory,
  aliasTarget,
  deleteProtectedAlias,
  insertProtectedAlias,
  listProtectedAliases,
  lockAlias,
  upsertAlias,
} from "@/lib/db/queries/aliases";
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
      throw pgErrorToAppError(e, { forbidden: ERRORS.protectedAlias(a.data).message });
    }
  }

  /** Alias names only owners and admins may move in this organization (visible to every member). */
  async listProtected(p: Principal, orgSlug: string): Promise<string[]> {
    return this.as(p, async (tx) => listProtectedAliases(tx, (await resolveOrg(tx, orgSlug)).id));
  }

  /** Protects an alias name (or lifts the protection) in every model of the organization (admins). */
  async setProtected(p: Principal, orgSlug: string, alias: string, on: boolean, meta: RequestMeta = {}) {
    const a = aliasSchema.safeParse(alias);
    if (!a.success) throw ERRORS.invalidField("alias", a.error.issues[0]?.message ?? "Invalid.", "Invalid alias.");
    try {
      return await this.as(p, async (tx) => {
        const org = await resolveOrg(tx, orgSlug, "admin");
        if (on) await insertProtectedAlias(tx, org.id, a.data);
        else await deleteProtectedAlias(tx, org.id, a.data);
        await recordAudit(tx, {
          orgId: org.id,
          action: on ? "alias.protect" : "alias.unprotect",
          target: ["protected_alias", a.data],
          details: { alias: a.data },
          meta,
        });
        return listProtectedAliases(tx, org.id);
      });
    } catch (e) {
      throw pgErrorToAppError(e, { forbidden: "Only owners and admins can protect aliases." });
    }
  }

  async aliasHistory(p: Principal, orgSlug: string, modelSlug: string): Promise<AliasMove[]> {
    return this.as(p, async (tx) => aliasHistory(tx, (await resolveModel(tx, await resolveOrg(tx, orgSlug), modelSlug)).id));
  }
}
