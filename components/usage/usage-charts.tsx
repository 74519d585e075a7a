"use client";

import { Area, AreaChart, Bar, BarChart, CartesianGrid, LabelList, Tooltip, XAxis, YAxis } from "recharts";
import { formatBytes } from "@/lib/format";

// Chart leaves of the usage page (the only client code there). Every chart prints its values on
// the marks; the page shows the same numbers in a table beside it.

const BRAND = "#4f46e5";
const AXIS = { fontSize: 11, fill: "#475569" };
const shortMonth = (m: string) => {
  const [y, mo] = m.split("-");
  return `${["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"][Number(mo) - 1]} ${y?.slice(2)}`;
};
/** Label every month when they fit, else every 2nd, 3rd… month, always the same step (recharts' own skipping is irregular). */
const monthInterval = (n: number) => Math.max(0, Math.ceil(n / 6) - 1);
const bytesLabel = (v: unknown) => (typeof v === "number" && v > 0 ? formatBytes(v) : "");

/** Stored bytes at the end of each month (cumulative). */
export function GrowthChart({ data }: { data: { month: string; stored_bytes: number }[] }) {
  return (
    <figure aria-label="Stored bytes at the end of each month" data-testid="usage-growth-chart">
      <AreaChart responsive data={data} margin={{ top: 22, right: 24, bottom: 0, left: 8 }} style={{ width: "100%", height: 240 }}>
        <defs>
          <linearGradient id="growthFill" x1="0" y1="0" x2="0" y2="1">
            <stop offset="0%" stopColor={BRAND} stopOpacity={0.3} />
            <stop offset="100%" stopColor={BRAND} stopOpacity={0.03} />
          </linearGradient>
        </defs>
        <CartesianGrid stroke="#e2e8f0" vertical={false} />
        <XAxis
          dataKey="month"
          tickFormatter={shortMonth}
          interval={monthInterval(data.length)}
          tick={AXIS}
          tickLine={false}
          axisLine={{ stroke: "#cbd5e1" }}
        />
        <YAxis tickFormatter={(v: number) => formatBytes(v)} tick={AXIS} tickLine={false} axisLine={false} width={72} />
        <Tooltip formatter={(v) => [formatBytes(Number(v)), "Stored"]} labelFormatter={(l) => shortMonth(String(l))} />
        <Area type="linear" dataKey="stored_bytes" stroke={BRAND} strokeWidth={2} fill="url(#growthFill)" isAnimationActive={false}>
          <LabelList dataKey="stored_bytes" position="top" formatter={bytesLabel} style={{ fontSize: 10, fill: "#334155" }} />
        </Area>
      </AreaChart>
    </figure>
  );
}

/** Egress (bytes served) per month. */
export function EgressChart({ data }: { data: { month: string; bytes: number; downloads: number }[] }) {
  return (
    <figure aria-label="Bytes downloaded per month" data-testid="usage-egress-chart">
      <BarChart responsive data={data} margin={{ top: 22, right: 16, bottom: 0, left: 8 }} style={{ width: "100%", height: 240 }}>
        <CartesianGrid stroke="#e2e8f0" vertical={false} />
        <XAxis
          dataKey="month"
          tickFormatter={shortMonth}
          interval={monthInterval(data.length)}
          tick={AXIS}
          tickLine={false}
          axisLine={{ stroke: "#cbd5e1" }}
        />
        <YAxis tickFormatter={(v: number) => formatBytes(v)} tick={AXIS} tickLine={false} axisLine={false} width={72} />
        <Tooltip formatter={(v) => [formatBytes(Number(v)), "Egress"]} labelFormatter={(l) => shortMonth(String(l))} />
        <Bar dataKey="bytes" fill="#0d9488" radius={[3, 3, 0, 0]} isAnimationActive={false}>
          <LabelList dataKey="bytes" position="top" formatter={bytesLabel} style={{ fontSize: 10, fill: "#334155" }} />
        </Bar>
      </BarChart>
    </figure>
  );
}

/** Horizontal bars of stored bytes per category (framework, task type, model). */
export function BreakdownChart({ data, label }: { data: { name: string; bytes: number }[]; label: string }) {
  const height = Math.max(80, data.length * 30 + 16);
  return (
    <figure aria-label={label} data-testid="usage-breakdown-chart">
      <BarChart
        responsive
        layout="vertical"
        data={data}
        margin={{ top: 4, right: 72, bottom: 4, left: 4 }}
        style={{ width: "100%", height }}
      >
        <XAxis type="number" hide />
        <YAxis type="category" dataKey="name" width={120} tick={AXIS} tickLine={false} axisLine={false} />
        <Tooltip formatter={(v) => [formatBytes(Number(v)), "Stored"]} />
        <Bar dataKey="bytes" fill={BRAND} radius={[0, 3, 3, 0]} barSize={18} isAnimationActive={false}>
          <LabelList dataKey="bytes" position="right" formatter={bytesLabel} style={{ fontSize: 11, fill: "#334155" }} />
        </Bar>
      </BarChart>
    </figure>
  );
}
