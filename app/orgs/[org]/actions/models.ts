"use server";

import { revalidatePath } from "next/cache";
import { aliasSchema, TASK_TYPES, updateModelSchema, versionSchema } from "@/lib/validations/models";
import type { FormState } from "@/lib/web/form-state";
import { z } from "zod";
import { actionCaller, failed, fieldErrors } from "./context";

const modelPath = (org: string, model: string) => `/orgs/${org}/models/${model}`;
const text = (form: FormData, key: string) => {
  const v = form.get(key);
  return typeof v === "string" ? v : undefined;
};
/** "a, b c" -> ["a", "b", "c"]: tags are typed as one comma- or space-separated field. */
function parseTags(raw: string | undefined): string[] {
  return (raw ?? "")
    .split(/[,\s]+/)
    .map((t) => t.trim().toLowerCase())
    .filter(Boolean);
}

/** Edits a model's name, type, framework, description and tags (writers). */
export async function updateModelAction(org: string, model: string, _prev: FormState, form: FormData): Promise<FormState> {
  const framework = text(form, "framework")?.trim();
  const parsed = updateModelSchema.safeParse({
    name: text(form, "name"),
    task_type: z.enum(TASK_TYPES).catch("other").parse(text(form, "task_type")),
    framework: framework ? framework : null,
    description: text(form, "description") ?? "",
    tags: parseTags(text(form, "tags")),
  });
  if (!parsed.success) return { status: "invalid", message: "Some fields need another look.", fieldErrors: fieldErrors(parsed.error) };
  // Only what changed goes to updateModel, so the audit trail names the fields that were edited.
  // ("original" is the form's starting point: it only narrows the patch, it authorizes nothing.)
  let original: Record<string, unknown> = {};
  try {
    original = JSON.parse(text(form, "original") ?? "{}");
  } catch {}
  const patch = Object.fromEntries(
    Object.entries(parsed.data).filter(([k, v]) => JSON.stringify(v ?? null) !== JSON.stringify(original[k] ?? null)),
  ) as typeof parsed.data;
  if (!Object.keys(patch).length) return { status: "success", message: "Nothing changed." };
  try {
    const { principal, storage, meta } = await actionCaller();
    await storage.updateModel(principal, org, model, patch, meta);
  } catch (e) {
    return failed(e);
  }
  revalidatePath(modelPath(org, model));
  return { status: "success", message: "Saved." };
}

/** Retires a version (admins, or the writer who uploaded it; RLS and the trigger decide). */
export async function deleteVersionAction(org: string, model: string, version: string, _prev: FormState): Promise<FormState> {
  try {
    const { principal, storage, meta } = await actionCaller();
    await storage.deleteVersion(principal, org, model, versionSchema.parse(version), meta);
  } catch (e) {
    return failed(e);
  }
  revalidatePath(modelPath(org, model));
  return { status: "success", message: `Version ${version} was deleted.` };
}

const aliasFormSchema = z.object({ alias: aliasSchema, version: versionSchema });

/** Points an alias (production, staging, …) at a ready version; the move is kept in its history. */
export async function setAliasAction(org: string, model: string, _prev: FormState, form: FormData): Promise<FormState> {
  const parsed = aliasFormSchema.safeParse({ alias: text(form, "alias")?.trim().toLowerCase(), version: text(form, "version") });
  if (!parsed.success) return { status: "invalid", message: "Check the alias and the version.", fieldErrors: fieldErrors(parsed.error) };
  let previous: string | null = null;
  try {
    const { principal, storage, meta } = await actionCaller();
    previous = (await storage.setAlias(principal, org, model, parsed.data.alias, parsed.data.version, meta)).previous;
  } catch (e) {
    return failed(e);
  }
  revalidatePath(modelPath(org, model));
  const { alias, version } = parsed.data;
  return {
    status: "success",
    message:
      previous === version
        ? `${alias} already pointed at ${version}.`
        : previous
          ? `${alias} moved from ${previous} to ${version}.`
          : `${alias} now points at ${version}.`,
  };
}
