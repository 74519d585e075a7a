import Link from "next/link";
import type { Org } from "@/lib/storage/types";

/** A disclosure menu of the user's organizations; works without JavaScript. */
export function OrgSwitcher({ current, orgs }: { current: Org; orgs: Org[] }) {
  return (
    <details className="group relative" data-testid="org-switcher">
      <summary className="flex cursor-pointer list-none items-center gap-2 rounded-md border border-slate-200 bg-white px-3 py-1.5 text-sm font-medium hover:bg-slate-50">
        <span className="sr-only">Organization:</span>
        <span data-testid="current-org">{current.name}</span>
        <span className="rounded bg-slate-100 px-1.5 py-0.5 text-xs font-normal text-slate-600">{current.role}</span>
        <svg aria-hidden viewBox="0 0 20 20" className="h-4 w-4 text-slate-500 group-open:rotate-180">
          <path d="M5 8l5 5 5-5" stroke="currentColor" strokeWidth="2" fill="none" />
        </svg>
      </summary>
      <div className="absolute left-0 z-20 mt-1 w-64 max-w-[calc(100vw-2rem)] rounded-md border border-slate-200 bg-white py-1 shadow-lg">
        <p className="px-3 py-1 text-xs font-medium uppercase tracking-wide text-slate-500">Your organizations</p>
        <ul>
          {orgs.map((o) => (
            <li key={o.id}>
              <Link
                href={`/orgs/${o.slug}`}
                className="flex items-center justify-between px-3 py-2 text-sm hover:bg-slate-50"
                aria-current={o.id === current.id ? "true" : undefined}
                data-testid={`switch-org-${o.slug}`}
              >
                <span className={o.id === current.id ? "font-semibold" : ""}>{o.name}</span>
                <span className="text-xs text-slate-500">{o.role}</span>
              </Link>
            </li>
          ))}
        </ul>
        <div className="border-t border-slate-100 pt-1">
          <Link href="/orgs/new" className="block px-3 py-2 text-sm text-brand-700 hover:bg-slate-50">
            + Create organization
          </Link>
        </div>
      </div>
    </details>
  );
}
