import "server-only";
import { findCallerOrg, type OrgRow } from "@/lib/db/queries/orgs";
import { findModel, type ModelRow } from "@/lib/db/queries/models";
import { findVersion, type VersionRow } from "@/lib/db/queries/versions";
import type { OrgRole } from "@/lib/db/schema.gen";
import type { Queryable } from "@/lib/db/types";
import { ERRORS } from "@/lib/errors";
import { modelSlugSchema, orgSlugSchema, versionSchema } from "@/lib/validations/models";

// The one way a slug from a URL becomes a row the caller may act on. Unknown and invisible look the
// same (404): another organization's ids never leak. Role checks use the database's own ranks.

/** The org by slug with the caller's role; 404 for strangers, 403 below `min`. */
export async function resolveOrg(tx: Queryable, slug: string, min?: OrgRole): Promise<OrgRow> {
  if (!orgSlugSchema.safeParse(slug).success) throw ERRORS.noSuchOrg();
  const org = await findCallerOrg(tx, slug, min);
  if (!org) throw ERRORS.noSuchOrg();
  if (min && !org.allowed) throw min === "member" ? ERRORS.readOnlyRole() : ERRORS.needsRole(min);
  return org;
}

export async function resolveModel(tx: Queryable, org: Pick<OrgRow, "id">, slug: string): Promise<ModelRow> {
  if (!modelSlugSchema.safeParse(slug).success) throw ERRORS.noSuchModel();
  const model = await findModel(tx, org.id, slug);
  if (!model) throw ERRORS.noSuchModel();
  return model;
}

/** A finished (or deleted) version of a model. */
export async function resolveVersion(
  tx: Queryable,
  org: Pick<OrgRow, "id">,
  modelSlug: string,
  version: string,
): Promise<{ model: ModelRow; version: VersionRow }> {
  const model = await resolveModel(tx, org, modelSlug);
  if (!versionSchema.safeParse(version).success) throw ERRORS.noSuchVersion();
  const v = await findVersion(tx, model.id, version);
  if (!v) throw ERRORS.noSuchVersion(modelSlug, version);
  return { model, version: v };
}
