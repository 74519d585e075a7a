import "server-only";
import { headers } from "next/headers";
import type { z } from "zod";
import type { Principal, RequestMeta } from "@/lib/auth/principal";
import { ERRORS, isAppError } from "@/lib/errors";
import { requestMetaFrom } from "@/lib/http/caller";
import { getServices, type Services } from "@/lib/services/services";
import type { FormState } from "./form-state";

export interface ActionContext {
  services: Services;
  meta: RequestMeta;
  /** The verified user of this browser session; an ended session fails the action with a clear message. */
  principal(): Promise<Principal>;
}

export const fieldErrors = (e: z.ZodError): Record<string, string> =>
  Object.fromEntries(e.issues.map((i) => [String(i.path[0] ?? "_"), i.message]));

/**
 * The one way a server action runs (STYLE 12): parse the form with `schema` (field errors come back
 * as an "invalid" state), resolve the caller lazily, run `fn`. An AppError becomes a failed (or, with
 * field errors, invalid) state with its safe message; anything else is a real bug for the error
 * boundary. redirect() and notFound() inside `fn` pass through untouched.
 */
export async function runAction<S extends z.ZodType>(
  schema: S,
  input: unknown,
  fn: (data: z.output<S>, ctx: ActionContext) => Promise<FormState>,
  opts: { invalidMessage?: string } = {},
): Promise<FormState> {
  const parsed = schema.safeParse(input);
  if (!parsed.success) return { status: "invalid", message: opts.invalidMessage, fieldErrors: fieldErrors(parsed.error) };
  try {
    const services = await getServices();
    const ctx: ActionContext = {
      services,
      meta: requestMetaFrom(await headers()),
      async principal() {
        const p = await services.platform.auth.principalFromCookies();
        if (!p) throw ERRORS.sessionEnded();
        return p;
      },
    };
    return await fn(parsed.data, ctx);
  } catch (e) {
    if (!isAppError(e)) throw e;
    const fields = e.details?.fields as Record<string, string> | undefined;
    return fields ? { status: "invalid", message: e.message, fieldErrors: fields } : { status: "failed", message: e.message };
  }
}
