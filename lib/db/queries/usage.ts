import type { Queryable } from "../types";

// What an organization stores and serves, under the caller's claims (RLS decides which rows count).
// "Stored" = versions whose bytes are live (ready or quarantined); soft-deleted versions still hold
// bytes until the retention purge and are counted apart. Analytics: plain SQL, typed results.

export interface UsageTotals {
  stored_bytes: number;
  object_count: number;
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
    `select coalesce(sum(size_bytes) filter (where status in ('ready', 'quarantined')), 0)::bigint as stored_bytes,
            count(*) filter (where status in ('ready', 'quarantined'))::int as object_count,
            coalesce(sum(size_bytes) filter (where status = 'deleted'), 0)::bigint as deleted_bytes,
            count(*) filter (where status = 'deleted')::int as deleted_count,
            (select count(*)::int from public.models where org_id = $1) as model_count
     from public.model_versions where org_id = $1 and status <> 'pending'`,
    [orgId],
  );
  return rows[0]!;
}

export type ModelUsageRow = UsageBucketRow & { model_id: string; slug: string; name: string; deleted_bytes: number };

/** Every model with its stored and soft-deleted bytes, largest first. */
export async function usageByModel(tx: Queryable, orgId: string): Promise<ModelUsageRow[]> {
  const { rows } = await tx.query<ModelUsageRow>(
    `select m.id as model_id, m.slug, m.name,
            coalesce(sum(v.size_bytes) filter (where v.status in ('ready', 'quarantined')), 0)::bigint as bytes,
            count(v.id) filter (where v.status in ('ready', 'quarantined'))::int as count,
            coalesce(sum(v.size_bytes) filter (where v.status = 'deleted'), 0)::bigint as deleted_bytes
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
 * Stored bytes at the end of each month (UTC): +size in the month a version was created, -size in
 * the month it was retired; the running sum over all history. At least the last `months` months.
 */
export async function usageGrowth(tx: Queryable, orgId: string, now: Date, months: number): Promise<GrowthRow[]> {
  const { rows } = await tx.query<GrowthRow>(
    `with ev as (
       select date_trunc('month', created_at at time zone 'UTC') as m, size_bytes as added, 0::bigint as removed
       from public.model_versions where org_id = $1 and status in ('ready', 'quarantined', 'deleted')
       union all
       select date_trunc('month', deleted_at at time zone 'UTC'), 0, size_bytes
       from public.model_versions where org_id = $1 and status = 'deleted' and deleted_at is not null
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
