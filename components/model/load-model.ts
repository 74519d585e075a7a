import "server-only";
import { cache } from "react";
import { orNotFound, requireOrg } from "@/lib/web/page-auth";

/**
 * The model of a /models/[model] request, loaded once per request (React cache): the segment's
 * layout calls it so an unknown or foreign model is a real 404 before loading.tsx starts streaming
 * (a streamed response is already a 200), and the page reuses the same result.
 */
export const loadModel = cache(async (orgSlug: string, modelSlug: string) => {
  const ctx = await requireOrg(orgSlug);
  const model = await orNotFound(ctx.services.catalog.getModel(ctx.principal, orgSlug, modelSlug));
  return { ...ctx, model };
});
