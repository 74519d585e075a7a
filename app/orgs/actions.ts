"use server";

import { headers } from "next/headers";
import { redirect } from "next/navigation";
import { revalidatePath } from "next/cache";
import { principalFromCookies } from "@/lib/auth/principal";
import { AppError, isAppError } from "@/lib/errors";
import { addMember, changeMemberRole, createOrg, removeMember } from "@/lib/orgs/orgs";
import { getModelStorageFor } from "@/lib/storage/service";
import { createOrgSchema, memberSchema, ORG_ROLES } from "@/lib/validations/models";
import type { FormState } from "@/lib/web/form-state";
import { z } from "zod";

async function caller() {
  const principal = await principalFromCookies();
  if (!principal) throw new AppError("unauthorized", "Your session has ended. Sign in again.");
  const h = await headers();
  return {
    principal,
    meta: { ip: h.get("x-forwarded-for")?.split(",")[0]?.trim() || undefined, userAgent: h.get("user-agent") ?? undefined },
  };
}

const fieldErrors = (e: z.ZodError) => Object.fromEntries(e.issues.map((i) => [String(i.path[0]), i.message]));
const failed = (e: unknown): FormState => {
  if (isAppError(e)) return { status: "failed", message: e.message };
  throw e;
};

export async function createOrgAction(_prev: FormState, form: FormData): Promise<FormState> {
  const parsed = createOrgSchema.safeParse({ name: form.get("name"), slug: form.get("slug") });
  if (!parsed.success) return { status: "invalid", fieldErrors: fieldErrors(parsed.error) };
  let slug: string;
  try {
    const { principal, meta } = await caller();
    slug = (await createOrg(principal, parsed.data, meta)).slug;
  } catch (e) {
    return failed(e);
  }
  redirect(`/orgs/${slug}`);
}

async function orgFor(slug: string) {
  const { principal, meta } = await caller();
  const org = await (await getModelStorageFor(principal)).getOrg(principal, slug);
  return { principal, meta, org };
}

export async function addMemberAction(orgSlug: string, _prev: FormState, form: FormData): Promise<FormState> {
  const parsed = memberSchema.safeParse({ email: form.get("email"), role: form.get("role") });
  if (!parsed.success) return { status: "invalid", fieldErrors: fieldErrors(parsed.error) };
  try {
    const { principal, meta, org } = await orgFor(orgSlug);
    await addMember(principal, org.id, parsed.data.email, parsed.data.role, meta);
  } catch (e) {
    return failed(e);
  }
  revalidatePath(`/orgs/${orgSlug}/members`);
  return { status: "success", message: `${parsed.data.email} was added.` };
}

export async function changeRoleAction(orgSlug: string, userId: string, _prev: FormState, form: FormData): Promise<FormState> {
  const role = z.enum(ORG_ROLES).safeParse(form.get("role"));
  if (!role.success) return { status: "invalid", message: "Pick a role." };
  try {
    const { principal, meta, org } = await orgFor(orgSlug);
    await changeMemberRole(principal, org.id, z.uuid().parse(userId), role.data, meta);
  } catch (e) {
    return failed(e);
  }
  revalidatePath(`/orgs/${orgSlug}/members`);
  return { status: "success", message: "Role changed." };
}

export async function removeMemberAction(orgSlug: string, userId: string, _prev: FormState): Promise<FormState> {
  let self = false;
  try {
    const { principal, meta, org } = await orgFor(orgSlug);
    self = principal.userId === userId;
    await removeMember(principal, org.id, z.uuid().parse(userId), meta);
  } catch (e) {
    return failed(e);
  }
  if (self) redirect("/");
  revalidatePath(`/orgs/${orgSlug}/members`);
  return { status: "success", message: "Member removed." };
}
