"use server";

import { redirect } from "next/navigation";
import { getServices } from "@/lib/services/services";
import { signInSchema, signUpSchema } from "@/lib/validations/auth";
import { runAction } from "@/lib/web/action";
import type { FormState } from "@/lib/web/form-state";

const safeNext = (next: FormDataEntryValue | null) =>
  typeof next === "string" && /^\/[A-Za-z0-9/_\-.?=&%]*$/.test(next) && !next.startsWith("//") ? next : "/";

export async function signInAction(_prev: FormState, form: FormData): Promise<FormState> {
  const state = await runAction(
    signInSchema,
    { email: form.get("email"), password: form.get("password") },
    async (input, { services, meta }) => {
      await services.platform.auth.signInBrowser(input, meta);
      return { status: "success" };
    },
  );
  if (state.status !== "success") return state;
  redirect(safeNext(form.get("next")));
}

export async function signUpAction(_prev: FormState, form: FormData): Promise<FormState> {
  const input = { email: form.get("email"), password: form.get("password"), displayName: form.get("displayName") };
  const state = await runAction(signUpSchema, input, async (data, { services, meta }) => {
    const outcome = await services.platform.auth.signUpBrowser(data, meta);
    return outcome === "confirm_email"
      ? { status: "success", message: "Check your e-mail to confirm your account, then sign in." }
      : { status: "success", data: { signedIn: true } };
  });
  // A sign-up that came from an invitation link goes back to it; otherwise on to the first organization.
  if (state.status === "success" && state.data?.signedIn) redirect(form.get("next") ? safeNext(form.get("next")) : "/orgs/new");
  return state;
}

export async function signOutAction(): Promise<void> {
  await (await getServices()).platform.auth.signOutBrowser();
  redirect("/sign-in");
}
