"use server";

import { revalidatePath } from "next/cache";
import { z } from "zod";
import { runAction } from "@/lib/web/action";
import type { FormState } from "@/lib/web/form-state";
import { createWebhookSchema } from "@/lib/validations/webhooks";

// The Webhooks page's actions (admins; the service and RLS refuse anyone else).

/** Registers an endpoint; the secret (generated here) comes back once. */
export async function createWebhookAction(org: string, _prev: FormState, form: FormData): Promise<FormState> {
  const input = { url: form.get("url"), description: form.get("description") ?? "", events: form.getAll("events") };
  return runAction(
    createWebhookSchema,
    input,
    async (data, ctx) => {
      const created = await ctx.services.webhooks.createEndpoint(await ctx.principal(), org, data, ctx.meta);
      revalidatePath(`/orgs/${org}/webhooks`);
      return { status: "success", message: "Webhook added.", data: { secret: created.secret, url: created.url } };
    },
    { invalidMessage: "Check the highlighted fields." },
  );
}

export async function deleteWebhookAction(org: string, id: string, _prev: FormState): Promise<FormState> {
  return runAction(z.uuid(), id, async (endpoint, ctx) => {
    await ctx.services.webhooks.deleteEndpoint(await ctx.principal(), org, endpoint, ctx.meta);
    revalidatePath(`/orgs/${org}/webhooks`);
    return { status: "success", message: "Removed." };
  });
}

export async function pingWebhookAction(org: string, id: string, _prev: FormState): Promise<FormState> {
  return runAction(z.uuid(), id, async (endpoint, ctx) => {
    await ctx.services.webhooks.ping(await ctx.principal(), org, endpoint);
    revalidatePath(`/orgs/${org}/webhooks`);
    return { status: "success", message: "Ping queued." };
  });
}

export async function redeliverWebhookAction(org: string, id: string, _prev: FormState): Promise<FormState> {
  return runAction(z.uuid(), id, async (delivery, ctx) => {
    await ctx.services.webhooks.redeliver(await ctx.principal(), org, delivery);
    revalidatePath(`/orgs/${org}/webhooks`);
    return { status: "success", message: "Queued again." };
  });
}
