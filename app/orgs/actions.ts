"use server";

import { revalidatePath } from "next/cache";
import { redirect } from "next/navigation";
import { z } from "zod";
import { createOrgSchema, memberSchema, ORG_ROLES } from "@/lib/validations/models";
import { runAction } from "@/lib/web/action";
import type { FormState } from "@/lib/web/form-state";

export async function createOrgAction(_prev: FormState, form: FormData): Promise<FormState> {
  const state = await runAction(createOrgSchema, { name: form.get("name"), slug: form.get("slug") }, async (input, ctx) => {
    const { slug } = await ctx.services.orgs.createOrg(await ctx.principal(), input, ctx.meta);
    return { status: "success", data: { slug } };
  });
  if (state.status === "success") redirect(`/orgs/${state.data?.slug as string}`);
  return state;
}

export async function addMemberAction(orgSlug: string, _prev: FormState, form: FormData): Promise<FormState> {
  return runAction(memberSchema, { email: form.get("email"), role: form.get("role") }, async ({ email, role }, ctx) => {
    await ctx.services.orgs.addMember(await ctx.principal(), orgSlug, email, role, ctx.meta);
    revalidatePath(`/orgs/${orgSlug}/members`);
    return { status: "success", message: `${email} was added.` };
  });
}

const roleChangeSchema = z.object({ userId: z.uuid(), role: z.enum(ORG_ROLES, { message: "Pick a role." }) });

export async function changeRoleAction(orgSlug: string, userId: string, _prev: FormState, form: FormData): Promise<FormState> {
  return runAction(
    roleChangeSchema,
    { userId, role: form.get("role") },
    async (input, ctx) => {
      await ctx.services.orgs.changeMemberRole(await ctx.principal(), orgSlug, input.userId, input.role, ctx.meta);
      revalidatePath(`/orgs/${orgSlug}/members`);
      return { status: "success", message: `Now ${input.role === "admin" || input.role === "owner" ? "an" : "a"} ${input.role}.` };
    },
    { invalidMessage: "Pick a role." },
  );
}

/** Invites an e-mail address; the answer carries the link to send them (shown once). */
export async function inviteMemberAction(orgSlug: string, _prev: FormState, form: FormData): Promise<FormState> {
  return runAction(memberSchema, { email: form.get("email"), role: form.get("role") }, async ({ email, role }, ctx) => {
    const inv = await ctx.services.orgs.invite(await ctx.principal(), orgSlug, email, role, ctx.meta);
    revalidatePath(`/orgs/${orgSlug}/members`);
    return {
      status: "success",
      message: `Invitation for ${inv.email} (${inv.role}) created. Send them this link; it works once, until ${inv.expiresAt.toISOString().slice(0, 10)}.`,
      data: { path: `/invite/${inv.token}`, expiresAt: inv.expiresAt.toISOString() },
    };
  });
}

export async function revokeInvitationAction(orgSlug: string, id: string, _prev: FormState): Promise<FormState> {
  return runAction(z.object({ id: z.uuid() }), { id }, async (input, ctx) => {
    await ctx.services.orgs.revokeInvitation(await ctx.principal(), orgSlug, input.id, ctx.meta);
    revalidatePath(`/orgs/${orgSlug}/members`);
    return { status: "success", message: "Invitation withdrawn: its link no longer works." };
  });
}

/** The signed-in invitee joins; on to the organization. */
export async function acceptInvitationAction(token: string, _prev: FormState): Promise<FormState> {
  const state = await runAction(z.string().min(1).max(100), token, async (t, ctx) => {
    const joined = await ctx.services.orgs.acceptInvitation(await ctx.principal(), t, ctx.meta);
    return { status: "success", data: { org: joined.org } };
  });
  if (state.status === "success") redirect(`/orgs/${state.data?.org as string}`);
  return state;
}

export async function removeMemberAction(orgSlug: string, userId: string, _prev: FormState): Promise<FormState> {
  const state = await runAction(z.object({ userId: z.uuid() }), { userId }, async (input, ctx) => {
    const principal = await ctx.principal();
    await ctx.services.orgs.removeMember(principal, orgSlug, input.userId, ctx.meta);
    return { status: "success", message: "Member removed.", data: { self: principal.userId === input.userId } };
  });
  if (state.status === "success" && state.data?.self) redirect("/");
  if (state.status === "success") revalidatePath(`/orgs/${orgSlug}/members`);
  return state;
}
