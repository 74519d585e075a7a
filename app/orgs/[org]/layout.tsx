import Link from "next/link";
import type { ReactNode } from "react";
import { signOutAction } from "@/app/(auth)/actions";
import { Logo } from "@/components/logo";
import { NavLinks } from "@/components/shell/nav-links";
import { OrgSwitcher } from "@/components/shell/org-switcher";
import { checkHealth } from "@/lib/health";
import { canWrite, isAdmin, requireOrg } from "@/lib/web/page-auth";

export default async function OrgLayout({ children, params }: { children: ReactNode; params: Promise<{ org: string }> }) {
  const { org: slug } = await params;
  const { principal, services, org } = await requireOrg(slug);
  const [orgs, health] = await Promise.all([services.catalog.listOrgs(principal), checkHealth(services.platform)]);
  const base = `/orgs/${org.slug}`;
  const links = [
    { href: base, label: "Models", exact: true },
    ...(canWrite(org) ? [{ href: `${base}/upload`, label: "Upload" }] : []),
    { href: `${base}/usage`, label: "Usage & cost" },
    { href: `${base}/audit`, label: "Audit log" },
    { href: `${base}/members`, label: "Members" },
    { href: `${base}/tokens`, label: "API tokens" },
    ...(isAdmin(org) ? [{ href: `${base}/webhooks`, label: "Webhooks" }] : []),
  ];
  return (
    <div className="flex min-h-screen flex-col">
      <header className="border-b border-slate-200 bg-white">
        <div className="mx-auto flex max-w-7xl flex-wrap items-center gap-4 px-4 pt-3 sm:px-6">
          <Link href={base} aria-label="FairMind Model Storage home">
            <Logo />
          </Link>
          <OrgSwitcher current={org} orgs={orgs} />
          <div className="ml-auto flex items-center gap-3 text-sm">
            <span
              className="hidden rounded-full bg-slate-100 px-2 py-0.5 text-xs text-slate-600 md:inline"
              title={`Deployment mode · database ${health.database.ok ? "up" : "down"} · storage ${health.storage.ok ? "up" : "down"}`}
              data-testid="mode-badge"
            >
              <span
                aria-hidden
                className={`mr-1 inline-block h-2 w-2 rounded-full ${health.status === "ok" ? "bg-green-500" : "bg-red-500"}`}
              />
              {services.platform.label}
              {health.storage.encrypted ? (
                <span className="ml-1" data-testid="encryption-badge">
                  · encrypted at rest
                </span>
              ) : null}
            </span>
            <span className="text-slate-600" data-testid="user-email">
              {principal.email}
            </span>
            <form action={signOutAction}>
              <button type="submit" className="btn-secondary py-1.5" data-testid="sign-out">
                Sign out
              </button>
            </form>
          </div>
          <div className="w-full">
            <NavLinks links={links} />
          </div>
        </div>
      </header>
      {health.status !== "ok" ? (
        <div
          role="alert"
          className="border-b border-red-200 bg-red-50 px-4 py-2 text-center text-sm text-red-800"
          data-testid="health-banner"
        >
          {!health.database.ok ? `The database is not reachable: ${health.database.detail ?? "no answer"}. ` : null}
          {!health.storage.ok
            ? `Model storage (${health.storage.backend}) is not reachable: ${health.storage.detail ?? "no answer"}. Uploads and downloads will fail until it is back.`
            : null}
        </div>
      ) : null}
      <main className="mx-auto w-full max-w-7xl flex-1 px-4 py-6 sm:px-6" data-role={org.role} data-admin={isAdmin(org) ? "true" : "false"}>
        {children}
      </main>
    </div>
  );
}
