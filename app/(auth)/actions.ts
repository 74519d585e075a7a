"use server";

import { headers } from "next/headers";
import { redirect } from "next/navigation";
import { signInLocal, signUpLocal } from "@/lib/auth/local";
import { clearSessionCookie, setSessionCookie } from "@/lib/auth/session-cookie";
import { getConfig } from "@/lib/config";
import { isAppError } from "@/lib/errors";
import { signInSchema, signUpSchema } from "@/lib/validations/auth";
import type { FormState } from "@/lib/web/form-state";

const safeNext = (next: FormDataEntryValue | null) =>
  typeof next === "string" && /^\/[A-Za-z0-9/_\-.?=&%]*$/.test(next) && !next.startsWith("//") ? next : "/";

async function clientMeta() {
  const h = await headers();
  return { ip: h.get("x-forwarded-for")?.split(",")[0]?.trim() || undefined, userAgent: h.get("user-agent") ?? undefined };
}

export async function signInAction(_prev: FormState, form: FormData): Promise<FormState> {
  const parsed = signInSchema.safeParse({ email: form.get("email"), password: form.get("password") });
  if (!parsed.success)
    return { status: "invalid", fieldErrors: Object.fromEntries(parsed.error.issues.map((i) => [String(i.path[0]), i.message])) };
  try {
    if (getConfig().mode === "supabase") {
      const { createClient } = await import("@/lib/supabase/server");
      const { error } = await (await createClient()).auth.signInWithPassword(parsed.data);
      if (error) return { status: "failed", message: "Wrong e-mail address or password." };
    } else {
      const { accessToken } = await signInLocal({ ...parsed.data, ...(await clientMeta()) });
      await setSessionCookie(accessToken);
    }
  } catch (e) {
    if (isAppError(e)) return { status: "failed", message: e.message };
    throw e;
  }
  redirect(safeNext(form.get("next")));
}

export async function signUpAction(_prev: FormState, form: FormData): Promise<FormState> {
  const parsed = signUpSchema.safeParse({ email: form.get("email"), password: form.get("password"), displayName: form.get("displayName") });
  if (!parsed.success)
    return { status: "invalid", fieldErrors: Object.fromEntries(parsed.error.issues.map((i) => [String(i.path[0]), i.message])) };
  try {
    if (getConfig().mode === "supabase") {
      const { createClient } = await import("@/lib/supabase/server");
      const { error } = await (
        await createClient()
      ).auth.signUp({
        email: parsed.data.email,
        password: parsed.data.password,
        options: { data: { display_name: parsed.data.displayName } },
      });
      if (error) return { status: "failed", message: error.message };
      return { status: "success", message: "Check your e-mail to confirm your account, then sign in." };
    }
    await signUpLocal(parsed.data);
    const { accessToken } = await signInLocal({ email: parsed.data.email, password: parsed.data.password, ...(await clientMeta()) });
    await setSessionCookie(accessToken);
  } catch (e) {
    if (isAppError(e))
      return {
        status: e.code === "conflict" ? "invalid" : "failed",
        message: e.message,
        fieldErrors: e.details?.fields as Record<string, string> | undefined,
      };
    throw e;
  }
  redirect("/orgs/new");
}

export async function signOutAction(): Promise<void> {
  if (getConfig().mode === "supabase") {
    const { createClient } = await import("@/lib/supabase/server");
    await (await createClient()).auth.signOut();
  } else {
    await clearSessionCookie();
  }
  redirect("/sign-in");
}
