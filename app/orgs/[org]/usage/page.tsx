import type { Metadata } from "next";
import Link from "next/link";
import type { ReactNode } from "react";
import { BreakdownChart, EgressChart, GrowthChart } from "@/components/usage/usage-charts";
import { formatBytes } from "@/lib/format";
import { BYTES_PER_GB, storageCost } from "@/lib/usage/usage";
import { TASK_TYPE_LABELS } from "@/lib/validations/models";
import { formatDateTime, formatMoney } from "@/lib/web/format";
import { requireOrg } from "@/lib/web/page-auth";

export const metadata: Metadata = { title: "Usage & cost" };

const monthName = (m: string) => new Date(`${m}-01T00:00:00Z`).toLocaleString("en-US", { month: "long", year: "numeric", timeZone: "UTC" });
const gb = (bytes: number) => (bytes / BYTES_PER_GB).toLocaleString("en-US", { maximumFractionDigits: bytes / BYTES_PER_GB < 1 ? 6 : 2 });
const rate = (n: number) => `$${n.toLocaleString("en-US", { minimumFractionDigits: 3, maximumFractionDigits: 4 })}`;

export default async function UsagePage({ params }: { params: Promise<{ org: string }> }) {
  const { org: slug } = await params;
  const { principal, services, org } = await requireOrg(slug);
  const u = await services.usage.getUsage(principal, slug);
  const thisMonth = u.egress.at(-1) ?? { month: u.month, downloads: 0, bytes: 0 };
  const empty = u.totals.object_count === 0 && u.totals.deleted_count === 0;

  return (
    <div className="space-y-6">
      <div className="flex flex-wrap items-end justify-between gap-3">
        <div>
          <h1 className="text-2xl font-semibold tracking-tight">Usage &amp; cost</h1>
          <p className="text-sm text-slate-600">
            What {org.name} stores and serves, and what that costs at cloud storage prices. As of {formatDateTime(u.generated_at)}.
          </p>
        </div>
        <a href={`/api/v1/orgs/${slug}/usage`} className="btn-secondary" data-testid="usage-json">
          JSON
        </a>
      </div>

      <section aria-label="Totals" className="grid gap-4 sm:grid-cols-2 xl:grid-cols-4">
        <Stat
          label="Stored (billed)"
          testId="usage-total-bytes"
          data={{ "data-bytes": u.totals.stored_bytes }}
          value={formatBytes(u.totals.stored_bytes)}
        >
          {u.totals.object_count.toLocaleString("en-US")} file{u.totals.object_count === 1 ? "" : "s"} in the bucket, each stored once
        </Stat>
        <Stat
          label="Referenced by versions"
          testId="usage-logical-bytes"
          data={{ "data-bytes": u.totals.logical_bytes, "data-count": u.totals.version_count }}
          value={formatBytes(u.totals.logical_bytes)}
        >
          {u.totals.version_count.toLocaleString("en-US")} version{u.totals.version_count === 1 ? "" : "s"} across {u.totals.model_count}{" "}
          model
          {u.totals.model_count === 1 ? "" : "s"}
          {u.totals.dedup_saved_bytes > 0 ? (
            <>
              {" "}
              ·{" "}
              <span data-testid="usage-dedup-saved" data-bytes={u.totals.dedup_saved_bytes}>
                deduplication saved {formatBytes(u.totals.dedup_saved_bytes)}
              </span>
            </>
          ) : null}
        </Stat>
        <Stat
          label={`Egress in ${monthName(u.month)}`}
          testId="usage-egress-bytes"
          data={{ "data-bytes": thisMonth.bytes }}
          value={formatBytes(thisMonth.bytes)}
        >
          {thisMonth.downloads.toLocaleString("en-US")} download{thisMonth.downloads === 1 ? "" : "s"} this month ·{" "}
          {u.downloads_total.count.toLocaleString("en-US")} in all
        </Stat>
        <Stat
          label="Estimated cost this month"
          testId="usage-monthly-cost"
          data={{ "data-usd": u.cost.total.toFixed(6) }}
          value={formatMoney(u.cost.total)}
          accent
        >
          {formatMoney(u.cost.storage)} storage + {formatMoney(u.cost.egress)} egress
        </Stat>
      </section>

      {u.totals.deleted_count ? (
        <p
          className="rounded-md border border-amber-200 bg-amber-50 px-3 py-2 text-sm text-amber-900"
          data-testid="usage-deleted-bytes"
          data-bytes={u.totals.deleted_bytes}
        >
          <strong>{formatBytes(u.totals.deleted_bytes)}</strong> belong to {u.totals.deleted_count} deleted version
          {u.totals.deleted_count === 1 ? "" : "s"}, kept until the retention purge. Files no other version uses are still in the bucket
          (counted in Stored) until then.
        </p>
      ) : null}

      {empty ? (
        <div className="card p-10 text-center" data-testid="usage-empty">
          <p className="font-medium">Nothing stored yet.</p>
          <p className="mt-1 text-sm text-slate-600">Charts appear once {org.name} has uploaded a model.</p>
        </div>
      ) : (
        <>
          <div className="grid gap-6 xl:grid-cols-2">
            <Panel
              title="Storage growth"
              note="Stored bytes at the end of each month (UTC), cumulative. The table lists the months that changed."
            >
              <GrowthChart data={u.growth} />
              <MonthTable
                testId="usage-growth-table"
                head={["Month", "Stored", "Added", "Removed"]}
                rows={[...u.growth]
                  .reverse()
                  .filter((g, i) => i === 0 || g.added_bytes > 0 || g.removed_bytes > 0)
                  .map((g) => [
                    monthName(g.month),
                    formatBytes(g.stored_bytes),
                    g.added_bytes ? `+${formatBytes(g.added_bytes)}` : "—",
                    g.removed_bytes ? `−${formatBytes(g.removed_bytes)}` : "—",
                  ])}
              />
            </Panel>
            <Panel title="Downloads and egress" note="Bytes served per month (ranged downloads count what was sent).">
              {u.egress.some((e) => e.bytes > 0) ? (
                <EgressChart data={u.egress} />
              ) : (
                <p className="rounded border border-dashed border-slate-200 p-6 text-center text-sm text-slate-600">
                  No downloads in the last 12 months.
                </p>
              )}
              <MonthTable
                testId="usage-egress-table"
                head={["Month", "Downloads", "Egress"]}
                rows={[...u.egress]
                  .reverse()
                  .filter((e, i) => i === 0 || e.downloads > 0)
                  .map((e) => [monthName(e.month), e.downloads.toLocaleString("en-US"), formatBytes(e.bytes)])}
              />
            </Panel>
          </div>

          <div className="grid gap-6 xl:grid-cols-2">
            <Panel title="By framework" note="Bytes the versions of each detected framework reference.">
              <BreakdownChart label="Stored bytes by framework" data={u.by_framework.map((f) => ({ name: f.framework, bytes: f.bytes }))} />
              <BreakdownTable
                testId="usage-by-framework"
                rows={u.by_framework.map((f) => ({ key: f.framework, label: f.framework, bytes: f.bytes, count: f.count }))}
                total={u.totals.logical_bytes}
              />
            </Panel>
            <Panel title="By task type" note="Bytes referenced, by the model's declared type.">
              <BreakdownChart
                label="Stored bytes by task type"
                data={u.by_task_type.map((t) => ({
                  name: TASK_TYPE_LABELS[t.task_type as keyof typeof TASK_TYPE_LABELS] ?? t.task_type,
                  bytes: t.bytes,
                }))}
              />
              <BreakdownTable
                testId="usage-by-task"
                rows={u.by_task_type.map((t) => ({
                  key: t.task_type,
                  label: TASK_TYPE_LABELS[t.task_type as keyof typeof TASK_TYPE_LABELS] ?? t.task_type,
                  bytes: t.bytes,
                  count: t.count,
                }))}
                total={u.totals.logical_bytes}
              />
            </Panel>
          </div>

          <div className="grid gap-6 xl:grid-cols-2">
            <Panel
              title="By model"
              note={`Largest first; cost is each model's stored bytes at the storage rate${u.other_models.models ? `; ${u.other_models.models} more models hold ${formatBytes(u.other_models.bytes)}` : ""}.`}
            >
              <div className="overflow-x-auto">
                <table className="w-full text-left text-sm" data-testid="usage-by-model">
                  <thead className="border-b border-slate-200 text-xs uppercase tracking-wide text-slate-500">
                    <tr>
                      <th scope="col" className="py-2 pr-3 font-medium">
                        Model
                      </th>
                      <th scope="col" className="py-2 pr-3 text-right font-medium">
                        Versions
                      </th>
                      <th scope="col" className="py-2 pr-3 text-right font-medium">
                        Referenced
                      </th>
                      <th
                        scope="col"
                        className="py-2 pr-3 text-right font-medium"
                        title="Each file once; a file two models share counts in both"
                      >
                        Stored
                      </th>
                      <th scope="col" className="py-2 pr-3 text-right font-medium">
                        Deleted, held
                      </th>
                      <th scope="col" className="py-2 text-right font-medium" title="What the model's stored bytes cost per month">
                        Cost / month
                      </th>
                    </tr>
                  </thead>
                  <tbody className="divide-y divide-slate-100">
                    {u.by_model.map((m) => (
                      <tr
                        key={m.model_id}
                        data-testid="usage-model-row"
                        data-model={m.slug}
                        data-bytes={m.bytes}
                        data-stored-bytes={m.stored_bytes}
                      >
                        <td className="py-2 pr-3">
                          <Link href={`/orgs/${slug}/models/${m.slug}`} className="text-brand-700 hover:underline">
                            {m.name}
                          </Link>
                        </td>
                        <td className="py-2 pr-3 text-right tabular-nums">{m.count}</td>
                        <td className="py-2 pr-3 text-right tabular-nums">{formatBytes(m.bytes)}</td>
                        <td className="py-2 pr-3 text-right tabular-nums">{formatBytes(m.stored_bytes)}</td>
                        <td className="py-2 pr-3 text-right tabular-nums text-slate-600">
                          {m.deleted_bytes ? formatBytes(m.deleted_bytes) : "—"}
                        </td>
                        <td className="py-2 text-right tabular-nums" data-testid="usage-model-cost">
                          {formatMoney(storageCost(m.stored_bytes, u.cost.storage_per_gb_month))}
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            </Panel>
            <Panel title="Most downloaded" note="All time, from the audit log.">
              {u.top_models.length ? (
                <table className="w-full text-left text-sm" data-testid="usage-top-models">
                  <thead className="border-b border-slate-200 text-xs uppercase tracking-wide text-slate-500">
                    <tr>
                      <th scope="col" className="py-2 pr-3 font-medium">
                        Model
                      </th>
                      <th scope="col" className="py-2 pr-3 text-right font-medium">
                        Downloads
                      </th>
                      <th scope="col" className="py-2 text-right font-medium">
                        Egress
                      </th>
                    </tr>
                  </thead>
                  <tbody className="divide-y divide-slate-100">
                    {u.top_models.map((m, i) => (
                      <tr key={m.model_id ?? `gone-${i}`} data-testid="usage-top-row" data-model={m.slug ?? ""}>
                        <td className="py-2 pr-3">
                          {m.slug ? (
                            <Link href={`/orgs/${slug}/models/${m.slug}`} className="text-brand-700 hover:underline">
                              {m.name}
                            </Link>
                          ) : (
                            <span className="text-slate-500">(deleted model)</span>
                          )}
                        </td>
                        <td className="py-2 pr-3 text-right tabular-nums">{m.downloads.toLocaleString("en-US")}</td>
                        <td className="py-2 text-right tabular-nums">{formatBytes(m.bytes)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              ) : (
                <p className="text-sm text-slate-600">No downloads yet.</p>
              )}
            </Panel>
          </div>
        </>
      )}

      <section className="card p-4 text-sm text-slate-700" aria-labelledby="cost-model" data-testid="usage-cost-model">
        <h2 id="cost-model" className="mb-2 font-medium text-slate-900">
          How the estimate is computed
        </h2>
        <dl className="grid gap-x-4 gap-y-1 sm:grid-cols-[14rem_1fr]">
          <dt className="text-slate-500">Storage</dt>
          <dd className="tabular-nums">
            {gb(u.totals.stored_bytes)} GB × {rate(u.cost.storage_per_gb_month)} per GB-month = {formatMoney(u.cost.storage)}
          </dd>
          <dt className="text-slate-500">Egress ({monthName(u.month)})</dt>
          <dd className="tabular-nums">
            {gb(thisMonth.bytes)} GB × {rate(u.cost.egress_per_gb)} per GB = {formatMoney(u.cost.egress)}
          </dd>
          <dt className="text-slate-500">Total</dt>
          <dd className="font-medium tabular-nums">
            {formatMoney(u.cost.total)} <span className="font-normal text-slate-500">(${u.cost.total.toFixed(6)})</span>
          </dd>
        </dl>
        <p className="mt-3 text-xs text-slate-500">
          1 GB = 2<sup>30</sup> bytes, as cloud storage bills it. Rates default to Supabase Storage&apos;s $0.021 per GB-month and $0.09 per
          GB egress; set <code>COST_STORAGE_PER_GB_MONTH</code> and <code>COST_EGRESS_PER_GB</code> in the server&apos;s environment (read
          by <code>lib/config.ts</code>) to use your own. Deleted versions still held are not priced.
        </p>
      </section>
    </div>
  );
}

function Stat({
  label,
  value,
  children,
  testId,
  data,
  accent,
}: {
  label: string;
  value: string;
  children: ReactNode;
  testId: string;
  data: Record<string, string | number>;
  accent?: boolean;
}) {
  return (
    <div className={`card p-4 ${accent ? "border-brand-100 bg-brand-50/50" : ""}`}>
      <p className="text-sm text-slate-600">{label}</p>
      <p className="mt-1 text-2xl font-semibold tabular-nums tracking-tight" data-testid={testId} {...data}>
        {value}
      </p>
      <p className="mt-1 text-xs text-slate-600">{children}</p>
    </div>
  );
}

function Panel({ title, note, children }: { title: string; note: string; children: ReactNode }) {
  return (
    <section className="card min-w-0 p-4" aria-label={title}>
      <h2 className="font-medium">{title}</h2>
      <p className="mb-3 text-xs text-slate-500">{note}</p>
      <div className="space-y-3">{children}</div>
    </section>
  );
}

function MonthTable({ head, rows, testId }: { head: string[]; rows: string[][]; testId: string }) {
  return (
    <div className="max-h-56 overflow-auto rounded border border-slate-100">
      <table className="w-full text-left text-xs" data-testid={testId}>
        <thead className="sticky top-0 bg-slate-50 text-slate-500">
          <tr>
            {head.map((h, i) => (
              <th key={h} scope="col" className={`px-2 py-1.5 font-medium ${i ? "text-right" : ""}`}>
                {h}
              </th>
            ))}
          </tr>
        </thead>
        <tbody className="divide-y divide-slate-100 tabular-nums">
          {rows.map((r) => (
            <tr key={r[0]}>
              {r.map((c, i) => (
                <td key={i} className={`px-2 py-1 ${i ? "text-right" : ""}`}>
                  {c}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function BreakdownTable({
  rows,
  total,
  testId,
}: {
  rows: { key: string; label: string; bytes: number; count: number }[];
  total: number;
  testId: string;
}) {
  return (
    <table className="w-full text-left text-xs" data-testid={testId}>
      <thead className="border-b border-slate-200 text-slate-500">
        <tr>
          <th scope="col" className="py-1.5 pr-2 font-medium">
            Name
          </th>
          <th scope="col" className="py-1.5 pr-2 text-right font-medium">
            Versions
          </th>
          <th scope="col" className="py-1.5 pr-2 text-right font-medium">
            Stored
          </th>
          <th scope="col" className="py-1.5 text-right font-medium">
            Share
          </th>
        </tr>
      </thead>
      <tbody className="divide-y divide-slate-100 tabular-nums">
        {rows.map((r) => (
          <tr key={r.key} data-key={r.key} data-bytes={r.bytes}>
            <td className="py-1 pr-2">{r.label}</td>
            <td className="py-1 pr-2 text-right">{r.count}</td>
            <td className="py-1 pr-2 text-right">{formatBytes(r.bytes)}</td>
            <td className="py-1 text-right">{total ? `${((r.bytes / total) * 100).toFixed(1)}%` : "—"}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
