import type { Queryable } from "../types";

// What an organization stores and serves, under the caller's claims (RLS decides which rows count).
// "Stored" = what the bucket holds for the organization, each blob once (what is billed); "logical" =
// what its live versions reference (ready or quarantined: a file shared by ten versions counts ten
// times); the difference is what deduplication saves. Soft-deleted versions still hold bytes until
// the retention purge and are counted apart. Analytics: plain SQL, typed results.

export interface UsageTotals {
  stored_bytes: number;
  object_count: number;
  logical_bytes: number;
  dedup_saved_bytes: number;
  version_count: number;
  deleted_bytes: number;
  deleted_count: number;
  model_count: number;
}

export interface UsageBucketRow {
  bytes: number;
  count: number;
}

export async function usageTotals(tx: Queryable, orgId: string): Promise<UsageTotals> {
  const { rows } = await tx.query<UsageTotals>(
    `with v as (
       select coalesce(sum(size_bytes) filter (where status in ('ready', 'quarantined')), 0)::bigint as logical_bytes,
              count(*) filter (where status in ('ready', 'quarantined'))::int as version_count,
              coalesce(sum(size_bytes) filter (where status = 'deleted' and purged_at is null), 0)::bigint as deleted_bytes,
              count(*) filter (where status = 'deleted' and purged_at is null)::int as deleted_count
       from public.model_versions where org_id = $1 and status <> 'pending'
     ), b as (
       select coalesce(sum(size_bytes), 0)::bigint as stored_bytes, count(*)::int as object_count
       from public.blobs where org_id = $1 and status = 'stored' and purged_at is null
     )
     select b.stored_bytes, b.object_count, v.logical_bytes, v.version_count, v.deleted_bytes, v.deleted_count,
            greatest(v.logical_bytes + v.deleted_bytes - b.stored_bytes, 0)::bigint as dedup_saved_bytes,
            (select count(*)::int from public.models where org_id = $1) as model_count
     from v, b`,
    [orgId],
  );
  return rows[0]!;
}

export type ModelUsageRow = UsageBucketRow & { model_id: string; slug: string; name: string; deleted_bytes: number; stored_bytes: number };

/**
 * Every model with its logical bytes (what its live versions reference), its stored bytes (each
 * blob its unpurged versions hold, once — a blob two models share counts in both) and its
 * soft-deleted bytes, largest first.
 */
export async function usageByModel(tx: Queryable, orgId: string): Promise<ModelUsageRow[]> {
  const { rows } = await tx.query<ModelUsageRow>(
    `select m.id as model_id, m.slug, m.name,
            coalesce(sum(v.size_bytes) filter (where v.status in ('ready', 'quarantined')), 0)::bigint as bytes,
            count(v.id) filter (where v.status in ('ready', 'quarantined'))::int as count,
            coalesce(sum(v.size_bytes) filter (where v.status = 'deleted' and v.purged_at is null), 0)::bigint as deleted_bytes,
            coalesce((select sum(b.size_bytes) from public.blobs b
                      where b.status = 'stored' and b.purged_at is null and b.id in (
                        select f.blob_id from public.version_files f join public.model_versions fv on fv.id = f.version_id
                        where fv.model_id = m.id and fv.purged_at is null)), 0)::bigint as stored_bytes
     from public.models m left join public.model_versions v on v.model_id = m.id and v.status <> 'pending'
     where m.org_id = $1
     group by m.id, m.slug, m.name
     order by bytes desc, deleted_bytes desc, m.slug`,
    [orgId],
  );
  return rows;
}

export async function usageByFramework(tx: Queryable, orgId: string): Promise<(UsageBucketRow & { framework: string })[]> {
  const { rows } = await tx.query<UsageBucketRow & { framework: string }>(
    `select coalesce(v.framework, m.framework, 'unknown') as framework, coalesce(sum(v.size_bytes), 0)::bigint as bytes, count(*)::int as count
     from public.model_versions v join public.models m on m.id = v.model_id
     where v.org_id = $1 and v.status in ('ready', 'quarantined')
     group by 1 order by bytes desc, framework`,
    [orgId],
  );
  return rows;
}

export async function usageByTaskType(tx: Queryable, orgId: string): Promise<(UsageBucketRow & { task_type: string })[]> {
  const { rows } = await tx.query<UsageBucketRow & { task_type: string }>(
    `select m.task_type, coalesce(sum(v.size_bytes), 0)::bigint as bytes, count(*)::int as count
     from public.model_versions v join public.models m on m.id = v.model_id
     where v.org_id = $1 and v.status in ('ready', 'quarantined')
     group by 1 order by bytes desc, task_type`,
    [orgId],
  );
  return rows;
}

export interface GrowthRow {
  month: string;
  stored_bytes: number;
  added_bytes: number;
  removed_bytes: number;
}

/**
 * Stored (billed) bytes at the end of each month (UTC): +size in the month a blob was stored, -size
 * in the month retention purged it; the running sum over all history. At least the last `months` months.
 */
export async function usageGrowth(tx: Queryable, orgId: string, now: Date, months: number): Promise<GrowthRow[]> {
  const { rows } = await tx.query<GrowthRow>(
    `with ev as (
       select date_trunc('month', stored_at at time zone 'UTC') as m, size_bytes as added, 0::bigint as removed
       from public.blobs where org_id = $1 and status = 'stored' and stored_at is not null
       union all
       select date_trunc('month', purged_at at time zone 'UTC'), 0, size_bytes
       from public.blobs where org_id = $1 and status = 'stored' and purged_at is not null
     ), d as (
       select m, sum(added)::bigint as added, sum(removed)::bigint as removed from ev group by m
     ), months as (
       -- At least the last $3 months, so a young org's chart still has a line (least() skips nulls).
       select generate_series(least((select min(m) from d), date_trunc('month', $2::timestamptz at time zone 'UTC') - make_interval(months => $3::int - 1)),
                              date_trunc('month', $2::timestamptz at time zone 'UTC'), interval '1 month') as m
     )
     select to_char(months.m, 'YYYY-MM') as month,
            coalesce(d.added, 0)::bigint as added_bytes,
            coalesce(d.removed, 0)::bigint as removed_bytes,
            (sum(coalesce(d.added, 0) - coalesce(d.removed, 0)) over (order by months.m))::bigint as stored_bytes
     from months left join d on d.m = months.m
     where months.m <= date_trunc('month', $2::timestamptz at time zone 'UTC')
     order by months.m`,
    [orgId, now.toISOString(), months],
  );
  return rows;
}

export interface EgressRow {
  month: string;
  downloads: number;
  bytes: number;
}

/** Downloads per month (the audit trail's version.download events; bytes = bytes served). */
export async function usageEgress(tx: Queryable, orgId: string, now: Date, months: number): Promise<EgressRow[]> {
  // Month boundaries are converted back to timestamptz so the (org_id, action, created_at) index applies.
  const { rows } = await tx.query<EgressRow>(
    `with months as (
       select generate_series(date_trunc('month', $2::timestamptz at time zone 'UTC') - make_interval(months => $3::int - 1),
                              date_trunc('month', $2::timestamptz at time zone 'UTC'), interval '1 month') as m
     )
     select to_char(months.m, 'YYYY-MM') as month, count(e.id)::int as downloads, coalesce(sum(e.bytes), 0)::bigint as bytes
     from months left join public.audit_events e
       on e.org_id = $1 and e.action = 'version.download'
      and e.created_at >= (months.m at time zone 'UTC') and e.created_at < ((months.m + interval '1 month') at time zone 'UTC')
     group by months.m order by months.m`,
    [orgId, now.toISOString(), months],
  );
  return rows;
}

export async function downloadTotals(tx: Queryable, orgId: string): Promise<UsageBucketRow> {
  const { rows } = await tx.query<UsageBucketRow>(
    `select count(*)::int as count, coalesce(sum(bytes), 0)::bigint as bytes
     from public.audit_events where org_id = $1 and action = 'version.download'`,
    [orgId],
  );
  return rows[0] ?? { count: 0, bytes: 0 };
}

export interface TopModelRow {
  model_id: string | null;
  slug: string | null;
  name: string | null;
  downloads: number;
  bytes: number;
}

export async function mostDownloaded(tx: Queryable, orgId: string, limit = 10): Promise<TopModelRow[]> {
  const { rows } = await tx.query<TopModelRow>(
    `select e.model_id, m.slug, m.name, count(*)::int as downloads, coalesce(sum(e.bytes), 0)::bigint as bytes
     from public.audit_events e left join public.models m on m.id = e.model_id
     where e.org_id = $1 and e.action = 'version.download'
     group by e.model_id, m.slug, m.name
     order by downloads desc, bytes desc, m.slug nulls last limit $2`,
    [orgId, limit],
  );
  return rows;
}
