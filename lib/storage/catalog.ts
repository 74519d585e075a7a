import "server-only";
import type { Principal, RequestMeta } from "@/lib/auth/principal";
import { deleteAliasesOfModel, deleteAliasesOfVersion, listAliases } from "@/lib/db/queries/aliases";
import { recordAudit } from "@/lib/db/queries/audit";
import * as models from "@/lib/db/queries/models";
import { listCallerOrgs } from "@/lib/db/queries/orgs";
import { listVersions, retireVersion, retireVersionsOfModel } from "@/lib/db/queries/versions";
import { pgErrorToAppError } from "@/lib/db/errors";
import { ERRORS } from "@/lib/errors";
import { isCleanText } from "@/lib/validations/text";
import { raiseVersionDeleted } from "@/lib/webhooks/events";
import { Service } from "@/lib/services/base";
import { resolveModel, resolveOrg, resolveVersion } from "@/lib/services/resolve";
import {
  listModelsQuerySchema,
  modelSlugSchema,
  slugify,
  type CreateModelInput,
  type ListModelsQuery,
  type UpdateModelInput,
} from "@/lib/validations/models";
import type { ModelDetail, ModelSummary, ModelVersion, Org, Page } from "./types";

/** Turns free text into a prefix tsquery over simple words ("credit ris" -> "credit:* & ris:*"). */
function toTsQuery(q: string): string | undefined {
  const words =
    q
      .toLowerCase()
      .match(/[a-z0-9]+/g)
      ?.slice(0, 8) ?? [];
  return words.length ? words.map((w) => `${w}:*`).join(" & ") : undefined;
}

const encodeCursor = (v: unknown[]) => Buffer.from(JSON.stringify(v)).toString("base64url");

/** A timestamp exactly as toISOString() writes it (what our cursors hold): nothing Postgres could refuse. */
const isIsoInstant = (v: unknown) =>
  typeof v === "string" && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/.test(v) && new Date(v).toISOString() === v;

/** A models-list cursor: [sort value, model id]; anything else is a 400, never a database error. */
function decodeCursor(c: string, sort: models.ModelSort): [string | number, string] {
  try {
    const v = JSON.parse(Buffer.from(c, "base64url").toString("utf8"));
    const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
    if (Array.isArray(v) && v.length === 2 && typeof v[1] === "string" && uuid.test(v[1])) {
      const value = v[0] as unknown;
      const ok =
        sort === "size"
          ? Number.isSafeInteger(value) && (value as number) >= 0
          : sort === "name"
            ? typeof value === "string" && value.length <= 200 && isCleanText(value)
            : isIsoInstant(value);
      if (ok) return [value as string | number, v[1]];
    }
  } catch {}
  throw ERRORS.invalidCursor();
}

/** Organizations, models and versions: browsing and editing what an org holds. */
export class CatalogService extends Service {
  /** The caller's organizations with their (token-capped) role. */
  async listOrgs(p: Principal): Promise<Org[]> {
    return this.as(p, listCallerOrgs);
  }

  /** One organization by slug; not_found when it does not exist or the caller is not a member. */
  async getOrg(p: Principal, slug: string): Promise<Org> {
    return this.as(p, (tx) => resolveOrg(tx, slug));
  }

  /** Lists an org's models: search, filters, keyset pagination (stable and fast at any depth). */
  async listModels(p: Principal, orgSlug: string, query: Partial<ListModelsQuery> = {}): Promise<Page<ModelSummary>> {
    const q = listModelsQuerySchema.parse(query);
    const after = q.cursor ? decodeCursor(q.cursor, q.sort) : undefined;
    return this.as(p, async (tx) => {
      const org = await resolveOrg(tx, orgSlug);
      const filters = { tsquery: q.q ? toTsQuery(q.q) : undefined, framework: q.framework, type: q.type, tag: q.tag, verdict: q.verdict };
      const rows = await models.listModels(tx, org.id, filters, q.sort, after, q.limit + 1);
      const items = rows.slice(0, q.limit);
      const last = items.at(-1);
      const sortValue = (m: ModelSummary) =>
        q.sort === "name" ? m.name : q.sort === "size" ? m.total_bytes : (q.sort === "created" ? m.created_at : m.updated_at).toISOString();
      return { items, next_cursor: rows.length > q.limit && last ? encodeCursor([sortValue(last), last.id]) : null };
    });
  }

  /** The distinct frameworks and tags used in an org (filter choices). */
  async listFacets(p: Principal, orgSlug: string): Promise<{ frameworks: string[]; tags: string[] }> {
    return this.as(p, async (tx) => models.modelFacets(tx, (await resolveOrg(tx, orgSlug)).id));
  }

  /** A model with its versions (newest first, deleted ones included for the record) and aliases. */
  async getModel(p: Principal, orgSlug: string, modelSlug: string): Promise<ModelDetail> {
    return this.as(p, async (tx) => {
      const org = await resolveOrg(tx, orgSlug);
      const model = await resolveModel(tx, org, modelSlug);
      const [versions, aliases] = [await listVersions(tx, model.id), await listAliases(tx, model.id)];
      return { ...model, role: org.role, versions, aliases };
    });
  }

  /** Creates an empty model (versions come with uploads). */
  async createModel(p: Principal, orgSlug: string, input: CreateModelInput, meta: RequestMeta = {}): Promise<ModelSummary> {
    const slug = modelSlugSchema.parse(input.slug ?? slugify(input.name));
    try {
      return await this.as(p, async (tx) => {
        const org = await resolveOrg(tx, orgSlug, "member");
        await models.insertModel(tx, {
          orgId: org.id,
          slug,
          name: input.name,
          taskType: input.task_type,
          framework: input.framework,
          description: input.description,
          tags: input.tags,
        });
        const model = await resolveModel(tx, org, slug);
        await recordAudit(tx, {
          orgId: org.id,
          action: "model.create",
          modelId: model.id,
          target: ["model", model.id],
          details: { slug },
          meta,
        });
        return model;
      });
    } catch (e) {
      throw pgErrorToAppError(e, { conflict: ERRORS.modelTaken(slug).message });
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
      const org = await resolveOrg(tx, orgSlug, "member");
      const model = await resolveModel(tx, org, modelSlug);
      const fields = Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)) as models.ModelPatch;
      await models.updateModel(tx, model.id, fields);
      await recordAudit(tx, {
        orgId: org.id,
        action: "model.update",
        modelId: model.id,
        target: ["model", model.id],
        details: { fields: Object.keys(patch) },
        meta,
      });
      return resolveModel(tx, org, modelSlug);
    });
  }

  /**
   * Deletes a model (admins): every version is retired first (audited, bytes purged later by the
   * retention sweep), then the model row goes.
   */
  async deleteModel(p: Principal, orgSlug: string, modelSlug: string, meta: RequestMeta = {}): Promise<void> {
    await this.as(p, async (tx) => {
      const org = await resolveOrg(tx, orgSlug, "admin");
      const model = await resolveModel(tx, org, modelSlug);
      for (const v of await listVersions(tx, model.id))
        if (v.status !== "deleted") await raiseVersionDeleted(tx, p, org.id, { id: model.id, slug: model.slug }, v, "model_deleted");
      await deleteAliasesOfModel(tx, model.id);
      await retireVersionsOfModel(tx, model.id);
      await recordAudit(tx, {
        orgId: org.id,
        action: "model.delete",
        target: ["model", model.id],
        details: { slug: model.slug, versions: model.version_count },
        meta,
      });
      await models.deleteModel(tx, model.id);
    });
  }

  async listVersions(p: Principal, orgSlug: string, modelSlug: string): Promise<ModelVersion[]> {
    return this.as(p, async (tx) => listVersions(tx, (await resolveModel(tx, await resolveOrg(tx, orgSlug), modelSlug)).id));
  }

  async getVersion(p: Principal, orgSlug: string, modelSlug: string, version: string): Promise<ModelVersion> {
    return this.as(p, async (tx) => (await resolveVersion(tx, await resolveOrg(tx, orgSlug), modelSlug, version)).version);
  }

  /** Retires a version (soft delete: bytes kept until the retention purge). Aliases on it are removed. */
  async deleteVersion(p: Principal, orgSlug: string, modelSlug: string, version: string, meta: RequestMeta = {}): Promise<void> {
    try {
      await this.as(p, async (tx) => {
        const org = await resolveOrg(tx, orgSlug, "member");
        const { model, version: v } = await resolveVersion(tx, org, modelSlug, version);
        if (v.status === "deleted") throw ERRORS.versionAlreadyDeleted(version);
        await deleteAliasesOfVersion(tx, v.id);
        await retireVersion(tx, v.id);
        await recordAudit(tx, {
          orgId: org.id,
          action: "version.delete",
          modelId: model.id,
          versionId: v.id,
          target: ["model_version", v.id],
          details: { version },
          meta,
        });
        await raiseVersionDeleted(tx, p, org.id, { id: model.id, slug: model.slug }, v, "version_deleted");
      });
    } catch (e) {
      throw pgErrorToAppError(e, { forbidden: "Only an admin or the uploader can delete a version." });
    }
  }
}
