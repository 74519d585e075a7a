import { sql } from "kysely";
import { all, first, qb, run } from "../query";
import type { OrgRole } from "../schema.gen";
import type { Queryable } from "../types";

// Organizations as the caller sees them: current_org_role() is the caller's role (capped by an API
// token), null for strangers — RLS hides their rows anyway.

export interface OrgRow {
  id: string;
  slug: string;
  name: string;
  role: OrgRole;
  created_at: Date;
}

const role = sql<OrgRole | null>`public.current_org_role(o.id)`;

const orgs = () => qb.selectFrom("organizations as o").select(["o.id", "o.slug", "o.name", role.as("role"), "o.created_at"]);

/** The caller's organizations, by name. */
export async function listCallerOrgs(tx: Queryable): Promise<OrgRow[]> {
  return (await all(tx, orgs().where(role, "is not", null).orderBy("o.name"))) as OrgRow[];
}

/** One organization with the caller's role and whether it reaches `min`; undefined when unknown or hidden. */
export async function findCallerOrg(tx: Queryable, slug: string, min: OrgRole = "viewer") {
  const row = await first(
    tx,
    orgs()
      .select(
        sql<boolean>`coalesce(public.role_rank(public.current_org_role(o.id)) >= public.role_rank(${min}::public.org_role), false)`.as(
          "allowed",
        ),
      )
      .where("o.slug", "=", slug),
  );
  return row?.role ? (row as OrgRow & { allowed: boolean }) : undefined;
}

/** Creates an organization (its creator becomes the owner by trigger); its id. */
export async function insertOrg(tx: Queryable, input: { slug: string; name: string }): Promise<string> {
  // No RETURNING: the row becomes visible to its creator only once the owner trigger has run.
  await run(tx, qb.insertInto("organizations").values({ slug: input.slug, name: input.name, created_by: sql`auth.uid()` }));
  const row = await first(tx, qb.selectFrom("organizations").select("id").where("slug", "=", input.slug));
  return row!.id;
}
