import Link from "next/link";
import { signOutAction } from "@/app/(auth)/actions";
import { Logo } from "@/components/logo";
import { getServices } from "@/lib/services/services";

// An organization that does not exist and one the caller does not belong to get this same page
// (and the same 404): whether a slug exists never leaks. It lists the caller's own organizations.
export default async function OrgNotFound() {
  const services = await getServices();
  const principal = await services.platform.auth.principalFromCookies();
  const orgs = principal ? await services.catalog.listOrgs(principal) : [];
  return (
    <div className="flex min-h-screen flex-col">
      <header className="border-b border-slate-200 bg-white">
        <div className="mx-auto flex max-w-7xl flex-wrap items-center gap-4 px-4 py-3 sm:px-6">
          <Link href="/" aria-label="FairMind Model Storage home">
            <Logo />
          </Link>
          {principal ? (
            <div className="ml-auto flex items-center gap-3 text-sm">
              <span className="text-slate-600">{principal.email}</span>
              <form action={signOutAction}>
                <button type="submit" className="btn-secondary py-1.5">
                  Sign out
                </button>
              </form>
            </div>
          ) : null}
        </div>
      </header>
      <main className="mx-auto w-full max-w-xl flex-1 px-4 py-12 sm:px-6">
        <div className="card p-8" data-testid="org-not-found">
          <h1 className="text-lg font-semibold">Organization not found</h1>
          <p className="mt-2 text-sm text-slate-600">
            There is no organization at this address that you belong to. Check the link, or ask one of its admins to invite you.
          </p>
          {orgs.length ? (
            <>
              <h2 className="mt-6 text-sm font-medium">Your organizations</h2>
              <ul className="mt-2 space-y-1" data-testid="org-not-found-orgs">
                {orgs.map((o) => (
                  <li key={o.slug}>
                    <Link href={`/orgs/${o.slug}`} className="text-brand-700 underline">
                      {o.name}
                    </Link>{" "}
                    <span className="text-xs text-slate-500">({o.role})</span>
                  </li>
                ))}
              </ul>
            </>
          ) : null}
          <div className="mt-6 flex flex-wrap gap-2">
            {principal ? (
              <Link href="/orgs/new" className="btn-secondary">
                Create an organization
              </Link>
            ) : (
              <Link href="/sign-in" className="btn-primary">
                Sign in
              </Link>
            )}
          </div>
        </div>
      </main>
    </div>
  );
}
