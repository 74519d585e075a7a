"use server";

import { revalidatePath } from "next/cache";
import { z } from "zod";
import { createTokenSchema } from "@/lib/validations/models";
import { runAction } from "@/lib/web/action";
import type { FormState } from "@/lib/web/form-state";

/** Creates an API token (role up to the caller's own; RLS enforces it). The secret is returned once. */
export async function createTokenAction(org: string, _prev: FormState, form: FormData): Promise<FormState> {
  const expiry = form.get("expires_in_days");
  const input = {
    org,
    name: form.get("name"),
    role: form.get("role"),
    expires_in_days: typeof expiry === "string" && expiry !== "" && expiry !== "never" ? expiry : null,
  };
  return runAction(
    createTokenSchema,
    input,
    async ({ name, role, expires_in_days }, ctx) => {
      const expiresAt = expires_in_days ? new Date(Date.now() + expires_in_days * 86_400_000) : null;
      const { token, record } = await ctx.services.tokens.create(await ctx.principal(), { org, name, role, expiresAt }, ctx.meta);
      revalidatePath(`/orgs/${org}/tokens`);
      return {
        status: "success",
        message: `Token "${record.name}" created.`,
        data: { token, name: record.name, prefix: record.token_prefix, role: record.role },
      };
    },
    { invalidMessage: "Check the highlighted fields." },
  );
}

/** Revokes a token (its owner, or an org admin). */
export async function revokeTokenAction(org: string, tokenId: string, _prev: FormState): Promise<FormState> {
  return runAction(z.uuid(), tokenId, async (id, ctx) => {
    const principal = await ctx.principal();
    await ctx.services.catalog.getOrg(principal, org);
    await ctx.services.tokens.revoke(principal, id, ctx.meta);
    revalidatePath(`/orgs/${org}/tokens`);
    return { status: "success", message: "Revoked." };
  });
}
