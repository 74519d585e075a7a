"use server";

import { revalidatePath } from "next/cache";
import { z } from "zod";
import { createApiToken, revokeApiToken } from "@/lib/auth/api-tokens";
import { createTokenSchema } from "@/lib/validations/models";
import type { FormState } from "@/lib/web/form-state";
import { actionCaller, failed, fieldErrors } from "./context";

/** Creates an API token (role up to the caller's own; RLS enforces it). The secret is returned once. */
export async function createTokenAction(org: string, _prev: FormState, form: FormData): Promise<FormState> {
  const expiry = form.get("expires_in_days");
  const parsed = createTokenSchema.safeParse({
    org,
    name: form.get("name"),
    role: form.get("role"),
    expires_in_days: typeof expiry === "string" && expiry !== "" && expiry !== "never" ? expiry : null,
  });
  if (!parsed.success) return { status: "invalid", message: "Check the highlighted fields.", fieldErrors: fieldErrors(parsed.error) };
  let created: Awaited<ReturnType<typeof createApiToken>>;
  try {
    const { principal, storage } = await actionCaller();
    const o = await storage.getOrg(principal, org);
    const { name, role, expires_in_days } = parsed.data;
    created = await createApiToken(principal.claims, {
      orgId: o.id,
      name,
      role,
      expiresAt: expires_in_days ? new Date(Date.now() + expires_in_days * 86_400_000) : null,
    });
  } catch (e) {
    return failed(e);
  }
  revalidatePath(`/orgs/${org}/tokens`);
  return {
    status: "success",
    message: `Token "${created.record.name}" created.`,
    data: { token: created.token, name: created.record.name, prefix: created.record.token_prefix, role: created.record.role },
  };
}

/** Revokes a token (its owner, or an org admin). */
export async function revokeTokenAction(org: string, tokenId: string, _prev: FormState): Promise<FormState> {
  const id = z.uuid().safeParse(tokenId);
  if (!id.success) return { status: "failed", message: "No such token." };
  try {
    const { principal, storage } = await actionCaller();
    await storage.getOrg(principal, org);
    await revokeApiToken(principal.claims, id.data);
  } catch (e) {
    return failed(e);
  }
  revalidatePath(`/orgs/${org}/tokens`);
  return { status: "success", message: "Revoked." };
}
