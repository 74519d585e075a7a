import "server-only";
import type { z } from "zod";
import type { usageResponse } from "@/lib/validations/api";
import type { Principal } from "@/lib/auth/principal";
import * as q from "@/lib/db/queries/usage";
import { Service } from "@/lib/services/base";
import { resolveOrg } from "@/lib/services/resolve";

// What an organization stores and serves, and what that costs. Every number comes from SQL run
// under the caller's claims (withUser), so RLS decides which rows count: another org's bytes never
// can. "Stored" = what the bucket holds, each file's bytes once (what is billed); "logical" = what
// the live versions reference; the difference is what deduplication saved (lib/db/queries/usage.ts).

/** Cloud storage is billed per GiB ("GB" in AWS/Supabase price lists means 2^30 bytes). */
export const BYTES_PER_GB = 1024 ** 3;

/** What storing `bytes` for a month costs at `perGbMonth` dollars per GB-month (the page prices each model with it). */
export const storageCost = (bytes: number, perGbMonth: number) => (bytes / BYTES_PER_GB) * perGbMonth;

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
  totals: {
    stored_bytes: number;
    object_count: number;
    logical_bytes: number;
    dedup_saved_bytes: number;
    version_count: number;
    deleted_bytes: number;
    deleted_count: number;
    model_count: number;
  };
  by_model: (UsageBucket & { model_id: string; slug: string; name: string; deleted_bytes: number; stored_bytes: number })[];
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
  /** The configured rates (COST_*) unless given. */
  rates?: CostRates;
  /** "Now" (tests); the current time otherwise. */
  now?: Date;
  /** Months of history in growth and egress (default 12). */
  months?: number;
  /** How many models by_model lists before summing the rest (default 25). */
  topModels?: number;
}

const monthKey = (d: Date) => d.toISOString().slice(0, 7);

/** Storage, growth, egress and cost of an organization, as the caller is allowed to see them. */
export class UsageService extends Service {
  async getUsage(p: Principal, orgSlug: string, opts: UsageOptions = {}): Promise<UsageReport> {
    const rates = opts.rates ?? this.config.cost;
    const now = opts.now ?? new Date();
    const months = Math.min(Math.max(opts.months ?? 12, 1), 120);
    const top = Math.min(Math.max(opts.topModels ?? 25, 1), 500);
    return this.as(p, async (tx) => {
      const org = await resolveOrg(tx, orgSlug);
      const totals = await q.usageTotals(tx, org.id);
      const byModel = await q.usageByModel(tx, org.id);
      const rest = byModel.slice(top);
      const other_models = {
        models: rest.length,
        bytes: rest.reduce((s, r) => s + r.bytes, 0),
        count: rest.reduce((s, r) => s + r.count, 0),
      };
      const byFramework = await q.usageByFramework(tx, org.id);
      const byTask = await q.usageByTaskType(tx, org.id);
      const growth = await q.usageGrowth(tx, org.id, now, months);
      const egress = await q.usageEgress(tx, org.id, now, months);
      const downloads = await q.downloadTotals(tx, org.id);
      const topModels = await q.mostDownloaded(tx, org.id);

      const month = monthKey(now);
      const egressThisMonth = egress.find((e) => e.month === month)?.bytes ?? 0;
      const stored_gb = totals.stored_bytes / BYTES_PER_GB;
      const egress_gb = egressThisMonth / BYTES_PER_GB;
      const storage = storageCost(totals.stored_bytes, rates.storagePerGbMonth);
      const egressCost = egress_gb * rates.egressPerGb;
      return {
        org: { id: org.id, slug: org.slug },
        generated_at: now,
        month,
        totals,
        by_model: byModel.slice(0, top),
        other_models,
        by_framework: byFramework,
        by_task_type: byTask,
        growth: growth.slice(-months),
        egress,
        downloads_total: downloads,
        top_models: topModels,
        cost: {
          storage_per_gb_month: rates.storagePerGbMonth,
          egress_per_gb: rates.egressPerGb,
          stored_gb,
          egress_gb,
          storage,
          egress: egressCost,
          total: storage + egressCost,
        },
      };
    });
  }
}

/** The REST shape of a usage report (ISO dates). */
export function serializeUsage(r: UsageReport): z.infer<typeof usageResponse> {
  return { ...r, generated_at: r.generated_at.toISOString() };
}
