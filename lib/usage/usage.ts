import "server-only";
import { withUser } from "@/lib/db/client";
import type { Claims, Database, Queryable } from "@/lib/db/types";
import { AppError } from "@/lib/errors";
import { orgSlugSchema } from "@/lib/validations/models";

// What an organization stores and serves, and what that costs. Every number comes from SQL run
// under the caller's claims (withUser), so RLS decides which rows count: another org's bytes never
// can. "Stored" = versions whose bytes are live (status ready or quarantined); soft-deleted
// versions still hold bytes until the retention purge and are reported separately.

/** Cloud storage is billed per GiB ("GB" in AWS/Supabase price lists means 2^30 bytes). */
export const BYTES_PER_GB = 1024 ** 3;

export interface CostRates {
  /** $ per GB-month stored (COST_STORAGE_PER_GB_MONTH, default 0.021). */
  storagePerGbMonth: number;
  /** $ per GB served (COST_EGRESS_PER_GB, default 0.09). */
  egressPerGb: number;
}

export interface UsageBucket {
  bytes: number;
  count: number;
}

export interface UsageReport {
  org: { id: string; slug: string };
  generated_at: Date;
  /** "YYYY-MM" (UTC) of generated_at: the month the cost estimate is for. */
  month: string;
  totals: { stored_bytes: number; object_count: number; deleted_bytes: number; deleted_count: number; model_count: number };
  by_model: (UsageBucket & { model_id: string; slug: string; name: string; deleted_bytes: number })[];
  /** Models beyond the `by_model` cut-off, summed. */
  other_models: UsageBucket & { models: number };
  by_framework: (UsageBucket & { framework: string })[];
  by_task_type: (UsageBucket & { task_type: string })[];
  /** Stored bytes at the end of each month (cumulative), with what was added and retired that month. */
  growth: { month: string; stored_bytes: number; added_bytes: number; removed_bytes: number }[];
  /** Downloads recorded in the audit trail (action version.download; bytes = bytes served). */
  egress: { month: string; downloads: number; bytes: number }[];
  downloads_total: UsageBucket;
  top_models: { model_id: string | null; slug: string | null; name: string | null; downloads: number; bytes: number }[];
  cost: {
    storage_per_gb_month: number;
    egress_per_gb: number;
    stored_gb: number;
    egress_gb: number;
    storage: number;
    egress: number;
    total: number;
  };
}

export interface UsageOptions {
  rates: CostRates;
  db?: Database;
  /** "Now" (tests); the current time otherwise. */
  now?: Date;
  /** Months of history in growth and egress (default 12). */
  months?: number;
  /** How many models by_model lists before summing the rest (default 25). */
  topModels?: number;
}

/** The org's id if the caller is a member (RLS hides the rest); not_found otherwise. */
export async function orgIdForSlug(tx: Queryable, slug: string): Promise<string> {
  if (!orgSlugSchema.safeParse(slug).success) throw new AppError("not_found", "No such organization.");
  const { rows } = await tx.query<{ id: string }>("select id from public.organizations where slug = $1 and public.is_org_member(id)", [
    slug,
  ]);
  if (!rows[0]) throw new AppError("not_found", "No such organization.");
  return rows[0].id;
}

const monthKey = (d: Date) => d.toISOString().slice(0, 7);

/** Storage, growth, egress and cost of one organization, as the caller is allowed to see them. */
export async function getUsage(claims: Claims, orgSlug: string, opts: UsageOptions): Promise<UsageReport> {
  const now = opts.now ?? new Date();
  const months = Math.min(Math.max(opts.months ?? 12, 1), 120);
  const top = Math.min(Math.max(opts.topModels ?? 25, 1), 500);
  return withUser(
    claims,
    async (tx) => {
      const orgId = await orgIdForSlug(tx, orgSlug);
      const p = [orgId];

      const { rows: totals } = await tx.query<UsageReport["totals"]>(
        `select coalesce(sum(size_bytes) filter (where status in ('ready', 'quarantined')), 0)::bigint as stored_bytes,
                count(*) filter (where status in ('ready', 'quarantined'))::int as object_count,
                coalesce(sum(size_bytes) filter (where status = 'deleted'), 0)::bigint as deleted_bytes,
                count(*) filter (where status = 'deleted')::int as deleted_count,
                (select count(*)::int from public.models where org_id = $1) as model_count
         from public.model_versions where org_id = $1 and status <> 'pending'`,
        p,
      );

      const { rows: byModel } = await tx.query<UsageReport["by_model"][number]>(
        `select m.id as model_id, m.slug, m.name,
                coalesce(sum(v.size_bytes) filter (where v.status in ('ready', 'quarantined')), 0)::bigint as bytes,
                count(v.id) filter (where v.status in ('ready', 'quarantined'))::int as count,
                coalesce(sum(v.size_bytes) filter (where v.status = 'deleted'), 0)::bigint as deleted_bytes
         from public.models m left join public.model_versions v on v.model_id = m.id and v.status <> 'pending'
         where m.org_id = $1
         group by m.id, m.slug, m.name
         order by bytes desc, deleted_bytes desc, m.slug`,
        p,
      );
      const rest = byModel.slice(top);
      const other_models = {
        models: rest.length,
        bytes: rest.reduce((s, r) => s + r.bytes, 0),
        count: rest.reduce((s, r) => s + r.count, 0),
      };

      const { rows: byFramework } = await tx.query<UsageReport["by_framework"][number]>(
        `select coalesce(v.framework, m.framework, 'unknown') as framework, coalesce(sum(v.size_bytes), 0)::bigint as bytes, count(*)::int as count
         from public.model_versions v join public.models m on m.id = v.model_id
         where v.org_id = $1 and v.status in ('ready', 'quarantined')
         group by 1 order by bytes desc, framework`,
        p,
      );
      const { rows: byTask } = await tx.query<UsageReport["by_task_type"][number]>(
        `select m.task_type, coalesce(sum(v.size_bytes), 0)::bigint as bytes, count(*)::int as count
         from public.model_versions v join public.models m on m.id = v.model_id
         where v.org_id = $1 and v.status in ('ready', 'quarantined')
         group by 1 order by bytes desc, task_type`,
        p,
      );

      // Growth: +size in the month a version was created, -size in the month it was retired; the
      // running sum over all history is what was stored at the end of each month (UTC).
      const { rows: growthAll } = await tx.query<{ month: string; stored_bytes: number; added_bytes: number; removed_bytes: number }>(
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

      // Month boundaries are converted back to timestamptz so the (org_id, action, created_at) index applies.
      const { rows: egress } = await tx.query<UsageReport["egress"][number]>(
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

      const { rows: dl } = await tx.query<UsageBucket>(
        `select count(*)::int as count, coalesce(sum(bytes), 0)::bigint as bytes
         from public.audit_events where org_id = $1 and action = 'version.download'`,
        p,
      );

      const { rows: topModels } = await tx.query<UsageReport["top_models"][number]>(
        `select e.model_id, m.slug, m.name, count(*)::int as downloads, coalesce(sum(e.bytes), 0)::bigint as bytes
         from public.audit_events e left join public.models m on m.id = e.model_id
         where e.org_id = $1 and e.action = 'version.download'
         group by e.model_id, m.slug, m.name
         order by downloads desc, bytes desc, m.slug nulls last limit 10`,
        p,
      );

      const t = totals[0]!;
      const month = monthKey(now);
      const egressThisMonth = egress.find((e) => e.month === month)?.bytes ?? 0;
      const stored_gb = t.stored_bytes / BYTES_PER_GB;
      const egress_gb = egressThisMonth / BYTES_PER_GB;
      const storage = stored_gb * opts.rates.storagePerGbMonth;
      const egressCost = egress_gb * opts.rates.egressPerGb;
      return {
        org: { id: orgId, slug: orgSlug },
        generated_at: now,
        month,
        totals: t,
        by_model: byModel.slice(0, top),
        other_models,
        by_framework: byFramework,
        by_task_type: byTask,
        growth: growthAll.slice(-months),
        egress,
        downloads_total: dl[0] ?? { count: 0, bytes: 0 },
        top_models: topModels,
        cost: {
          storage_per_gb_month: opts.rates.storagePerGbMonth,
          egress_per_gb: opts.rates.egressPerGb,
          stored_gb,
          egress_gb,
          storage,
          egress: egressCost,
          total: storage + egressCost,
        },
      };
    },
    opts.db,
  );
}

/** The REST shape of a usage report (ISO dates). */
export function serializeUsage(r: UsageReport) {
  return { ...r, generated_at: r.generated_at.toISOString() };
}
