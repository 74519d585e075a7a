"use server";

import { revalidatePath } from "next/cache";
import { z } from "zod";
import { aliasSchema, parseTags, TASK_TYPES, updateModelSchema, versionSchema } from "@/lib/validations/models";
import { runAction } from "@/lib/web/action";
import type { FormState } from "@/lib/web/form-state";

const modelPath = (org: string, model: string) => `/orgs/${org}/models/${model}`;
const text = (form: FormData, key: string) => {
  const v = form.get(key);
  return typeof v === "string" ? v : undefined;
};

/** Edits a model's name, type, framework, description and tags (writers). */
export async function updateModelAction(org: string, model: string, _prev: FormState, form: FormData): Promise<FormState> {
  const framework = text(form, "framework")?.trim();
  const input = {
    name: text(form, "name"),
    task_type: z.enum(TASK_TYPES).catch("other").parse(text(form, "task_type")),
    framework: framework ? framework : null,
    description: text(form, "description") ?? "",
    tags: parseTags(text(form, "tags") ?? ""),
  };
  return runAction(
    updateModelSchema,
    input,
    async (data, ctx) => {
      // Only what changed goes to updateModel, so the audit trail names the fields that were edited.
      // ("original" is the form's starting point: it only narrows the patch, it authorizes nothing.)
      let original: Record<string, unknown> = {};
      try {
        original = JSON.parse(text(form, "original") ?? "{}");
      } catch {}
      const patch = Object.fromEntries(
        Object.entries(data).filter(([k, v]) => JSON.stringify(v ?? null) !== JSON.stringify(original[k] ?? null)),
      ) as typeof data;
      if (!Object.keys(patch).length) return { status: "success", message: "Nothing changed." };
      await ctx.services.catalog.updateModel(await ctx.principal(), org, model, patch, ctx.meta);
      revalidatePath(modelPath(org, model));
      return { status: "success", message: "Saved." };
    },
    { invalidMessage: "Some fields need another look." },
  );
}

/** Retires a version (admins, or the writer who uploaded it; RLS and the trigger decide). */
export async function deleteVersionAction(org: string, model: string, version: string, _prev: FormState): Promise<FormState> {
  return runAction(versionSchema, version, async (v, ctx) => {
    await ctx.services.catalog.deleteVersion(await ctx.principal(), org, model, v, ctx.meta);
    revalidatePath(modelPath(org, model));
    return { status: "success", message: `Version ${v} was deleted.` };
  });
}

const aliasFormSchema = z.object({ alias: aliasSchema, version: versionSchema });

/** Points an alias (production, staging, …) at a ready version; the move is kept in its history. */
export async function setAliasAction(org: string, model: string, _prev: FormState, form: FormData): Promise<FormState> {
  const input = { alias: text(form, "alias")?.trim().toLowerCase(), version: text(form, "version") };
  return runAction(
    aliasFormSchema,
    input,
    async ({ alias, version }, ctx) => {
      const { previous } = await ctx.services.aliases.setAlias(await ctx.principal(), org, model, alias, version, ctx.meta);
      revalidatePath(modelPath(org, model));
      return {
        status: "success",
        message:
          previous === version
            ? `${alias} already pointed at ${version}.`
            : previous
              ? `${alias} moved from ${previous} to ${version}.`
              : `${alias} now points at ${version}.`,
      };
    },
    { invalidMessage: "Check the alias and the version." },
  );
}

const protectFormSchema = z.object({ alias: aliasSchema, on: z.boolean() });

/** Protects an alias name in every model of the organization, or lifts it (owners and admins). */
export async function setProtectedAliasAction(org: string, _prev: FormState, form: FormData): Promise<FormState> {
  const input = { alias: text(form, "alias")?.trim().toLowerCase(), on: text(form, "on") === "1" };
  return runAction(
    protectFormSchema,
    input,
    async ({ alias, on }, ctx) => {
      await ctx.services.aliases.setProtected(await ctx.principal(), org, alias, on, ctx.meta);
      revalidatePath(`/orgs/${org}`, "layout");
      return {
        status: "success",
        message: on ? `${alias} is protected: only owners and admins can move it.` : `${alias} is no longer protected.`,
      };
    },
    { invalidMessage: "Check the alias name." },
  );
}
