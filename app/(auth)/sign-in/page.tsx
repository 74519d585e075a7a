import type { Metadata } from "next";
import { AuthForm } from "@/components/auth-form";
import { getPlatform } from "@/lib/platform/platform";
import { signInAction } from "../actions";

export const metadata: Metadata = { title: "Sign in" };

export default async function SignInPage({ searchParams }: { searchParams: Promise<{ next?: string }> }) {
  const { next } = await searchParams;
  const demo = getPlatform().demo;
  return (
    <>
      <h1 className="mb-6 text-lg font-semibold">Sign in to your organization</h1>
      <AuthForm mode="sign-in" action={signInAction} next={next} />
      {demo ? (
        <p className="mt-6 rounded-md bg-slate-50 p-3 text-xs text-slate-600">
          Demo: <code>alice@demo.org</code> / <code>fairmind-demo</code> — the README lists every demo account.
        </p>
      ) : null}
    </>
  );
}
