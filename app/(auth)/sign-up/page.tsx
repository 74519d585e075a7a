import type { Metadata } from "next";
import { AuthForm } from "@/components/auth-form";
import { signUpAction } from "../actions";

export const metadata: Metadata = { title: "Create an account" };

export default async function SignUpPage({ searchParams }: { searchParams: Promise<{ next?: string }> }) {
  const { next } = await searchParams;
  return (
    <>
      <h1 className="mb-6 text-lg font-semibold">Create your account</h1>
      <AuthForm mode="sign-up" action={signUpAction} next={next} />
    </>
  );
}
