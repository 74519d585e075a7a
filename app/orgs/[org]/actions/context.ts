import "server-only";
import { headers } from "next/headers";
import type { z } from "zod";
import { principalFromCookies } from "@/lib/auth/principal";
import { AppError } from "@/lib/errors";
import { getModelStorageFor } from "@/lib/storage/service";
import type { FormState } from "@/lib/web/form-state";

/** The verified caller of a server action, its ModelStorage and request metadata for the audit trail. */
export async function actionCaller() {
  const principal = await principalFromCookies();
  if (!principal) throw new AppError("unauthorized", "Your session has ended. Sign in again.");
  const h = await headers();
  const meta = { ip: h.get("x-forwarded-for")?.split(",")[0]?.trim() || undefined, userAgent: h.get("user-agent") ?? undefined };
  return { principal, storage: await getModelStorageFor(principal), meta };
}

export const fieldErrors = (e: z.ZodError): Record<string, string> =>
  Object.fromEntries(e.issues.map((i) => [String(i.path[0] ?? "_"), i.message]));

/** AppErrors become a failed FormState with their safe message; anything else is a real bug (error boundary). */
export function failed(e: unknown): FormState {
  if (e instanceof AppError) {
    const fields = (e.details?.fields ?? undefined) as Record<string, string> | undefined;
    return { status: "failed", message: e.message, fieldErrors: fields };
  }
  throw e;
}
