import type { Metadata } from "next";
import Link from "next/link";
import { Logo } from "@/components/logo";
import { CreateOrgForm } from "@/components/create-org-form";
import { requireUser } from "@/lib/web/page-auth";

export const metadata: Metadata = { title: "Create an organization" };

export default async function NewOrgPage() {
  await requireUser("/orgs/new");
  return (
    <main id="main" tabIndex={-1} className="flex min-h-screen flex-col items-center justify-center px-4 py-12">
      <Link href="/">
        <Logo className="mb-8 text-xl" />
      </Link>
      <div className="card w-full max-w-md p-6">
        <h1 className="text-lg font-semibold">Create an organization</h1>
        <p className="mb-5 mt-1 text-sm text-slate-600">Models are kept per organization. You become its owner and can invite your team.</p>
        <CreateOrgForm />
      </div>
    </main>
  );
}
