import { sql, type Expression, type ExpressionBuilder, type InferResult, type Selectable, type SqlBool } from "kysely";
import { all, first, qb, run } from "../query";
import type { DB, Models } from "../schema.gen";
import type { Queryable } from "../types";

export type TaskType = Selectable<Models>["task_type"];

const latestAliases = (eb: ExpressionBuilder<DB & { m: Models }, "m">) =>
  eb.fn.coalesce(
    eb
      .selectFrom("model_aliases as a")
      .select(sql<string[]>`array_agg(a.alias order by a.alias)`.as("aliases"))
      .whereRef("a.version_id", "=", "m.latest_version_id"),
    sql<string[]>`'{}'`,
  );

const models = () =>
  qb
    .selectFrom("models as m")
    .leftJoin("profiles as lp", "lp.id", "m.latest_created_by")
    .select((eb) => [
      "m.id",
      "m.org_id",
      "m.slug",
      "m.name",
      "m.task_type",
      "m.framework",
      "m.description",
      "m.tags",
      "m.latest_version",
      "m.latest_size_bytes",
      "m.latest_scan_verdict",
      "m.latest_created_at",
      "lp.email as latest_created_by_email",
      latestAliases(eb).as("latest_aliases"),
      "m.version_count",
      "m.total_bytes",
      "m.created_at",
      "m.updated_at",
    ]);

/** A model as lists and pages show it (typed from the select above, i.e. from the schema). */
export type ModelRow = InferResult<ReturnType<typeof models>>[number];

export const MODEL_SORTS = {
  updated: { column: "m.updated_at", dir: "desc" },
  created: { column: "m.created_at", dir: "desc" },
  name: { column: "m.name", dir: "asc" },
  size: { column: "m.total_bytes", dir: "desc" },
} as const;
export type ModelSort = keyof typeof MODEL_SORTS;
export type SortDir = "asc" | "desc";

export interface ModelFilters {
  /** A prefix tsquery over the model's search document ("credit:* & ris:*"). */
  tsquery?: string;
  framework?: string;
  type?: string;
  tag?: string;
  verdict?: string;
}

/** The WHERE of the list and its count: the org, then each filter that is set. */
const matching = (orgId: string, f: ModelFilters) => (eb: ExpressionBuilder<DB & { m: Models }, "m">) => {
  const c: Expression<SqlBool>[] = [eb("m.org_id", "=", orgId)];
  if (f.tsquery) c.push(sql<boolean>`m.search @@ to_tsquery('simple', ${f.tsquery})`);
  if (f.framework) c.push(eb("m.framework", "=", f.framework));
  if (f.type) c.push(eb("m.task_type", "=", f.type as TaskType));
  if (f.tag) c.push(sql<boolean>`m.tags @> array[${f.tag}]::text[]`);
  if (f.verdict) c.push(eb("m.latest_scan_verdict", "=", f.verdict));
  return eb.and(c);
};

/** One keyset page of an org's models; `after` is the last row's (sort value, id). */
export async function listModels(
  tx: Queryable,
  orgId: string,
  f: ModelFilters,
  sort: ModelSort,
  after: [value: string | number, id: string] | undefined,
  limit: number,
  dir: SortDir = MODEL_SORTS[sort].dir,
): Promise<ModelRow[]> {
  let q = models().where(matching(orgId, f));
  const s = MODEL_SORTS[sort];
  if (after) {
    const cmp = dir === "desc" ? sql.raw("<") : sql.raw(">");
    q = q.where(sql<boolean>`(${sql.ref(s.column)}, m.id) ${cmp} (${after[0]}, ${after[1]}::uuid)`);
  }
  return all(tx, q.orderBy(s.column, dir).orderBy("m.id", dir).limit(limit));
}

/** How many of an org's models match the filters (the list's total). */
export async function countModels(tx: Queryable, orgId: string, f: ModelFilters): Promise<number> {
  const q = qb
    .selectFrom("models as m")
    .select(sql<string>`count(*)`.as("n"))
    .where(matching(orgId, f));
  return Number((await first(tx, q))?.n ?? 0);
}

/** The distinct frameworks and tags used in an org (filter choices). */
export async function modelFacets(tx: Queryable, orgId: string): Promise<{ frameworks: string[]; tags: string[] }> {
  const row = await first(
    tx,
    qb.selectNoFrom([
      sql<
        string[] | null
      >`(select array_agg(distinct framework order by framework) from public.models where org_id = ${orgId} and framework is not null)`.as(
        "frameworks",
      ),
      sql<
        string[] | null
      >`(select array_agg(distinct t order by t) from (select unnest(tags) t from public.models where org_id = ${orgId}) x)`.as("tags"),
    ]),
  );
  return { frameworks: row?.frameworks ?? [], tags: (row?.tags ?? []).slice(0, 200) };
}

export async function findModel(tx: Queryable, orgId: string, slug: string): Promise<ModelRow | undefined> {
  return first(tx, models().where("m.org_id", "=", orgId).where("m.slug", "=", slug));
}

export interface NewModel {
  orgId: string;
  slug: string;
  name: string;
  taskType: TaskType;
  framework?: string | null;
  description?: string;
  tags?: string[];
}

const modelValues = (m: NewModel) => ({
  org_id: m.orgId,
  slug: m.slug,
  name: m.name,
  task_type: m.taskType,
  framework: m.framework ?? null,
  description: m.description ?? "",
  tags: m.tags ?? [],
  created_by: sql<string>`auth.uid()`,
});

/** Creates a model (a taken slug is a unique violation). */
export async function insertModel(tx: Queryable, m: NewModel): Promise<void> {
  await run(tx, qb.insertInto("models").values(modelValues(m)));
}

/** The model's id, creating it first when the org has none with this slug. */
export async function ensureModel(tx: Queryable, m: NewModel): Promise<{ id: string; created: boolean }> {
  const inserted = await first(
    tx,
    qb
      .insertInto("models")
      .values(modelValues(m))
      .onConflict((oc) => oc.columns(["org_id", "slug"]).doNothing())
      .returning("id"),
  );
  if (inserted) return { id: inserted.id, created: true };
  const row = await first(tx, qb.selectFrom("models").select("id").where("org_id", "=", m.orgId).where("slug", "=", m.slug));
  return { id: row!.id, created: false };
}

export type ModelPatch = Partial<{ name: string; task_type: TaskType; framework: string | null; description: string; tags: string[] }>;

export async function updateModel(tx: Queryable, id: string, patch: ModelPatch): Promise<void> {
  if (!Object.keys(patch).length) return;
  await run(
    tx,
    qb
      .updateTable("models")
      .set({ ...patch, updated_at: sql`now()` })
      .where("id", "=", id),
  );
}

/** Records the framework the inspector found, unless the model already names one. */
export async function fillModelFramework(tx: Queryable, id: string, framework: string): Promise<void> {
  await run(
    tx,
    qb
      .updateTable("models")
      .set({ framework: sql`coalesce(framework, ${framework})` })
      .where("id", "=", id),
  );
}

export async function deleteModel(tx: Queryable, id: string): Promise<void> {
  await run(tx, qb.deleteFrom("models").where("id", "=", id));
}

/**
 * Deletes a model created by an upload that was then abandoned: only one created around the upload's
 * reservation (RLS: only by its creator, only while it holds no version).
 */
export async function deleteModelCreatedWith(tx: Queryable, id: string, reservedAt: Date): Promise<void> {
  await run(
    tx,
    qb
      .deleteFrom("models")
      .where("id", "=", id)
      .where("created_at", ">=", sql<Date>`${reservedAt}::timestamptz - interval '2 seconds'`),
  );
}
