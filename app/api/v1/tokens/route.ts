import { createApiToken, listApiTokens } from "@/lib/auth/api-tokens";
import { apiCaller, apiRoute, json, readJson } from "@/lib/http/api";
import { AppError } from "@/lib/errors";
import { createTokenSchema, orgSlugSchema } from "@/lib/validations/models";

const serialize = (t: Awaited<ReturnType<typeof listApiTokens>>[number]) => ({
  id: t.id,
  name: t.name,
  prefix: t.token_prefix,
  role: t.role,
  expires_at: t.expires_at,
  last_used_at: t.last_used_at,
  revoked_at: t.revoked_at,
  created_at: t.created_at,
  user_id: t.user_id,
});

/** GET /api/v1/tokens?org=<slug>: your tokens (all of the org's for admins). */
export const GET = apiRoute(async (req) => {
  const slug = orgSlugSchema.safeParse(new URL(req.url).searchParams.get("org"));
  if (!slug.success) throw new AppError("invalid_input", "Pass ?org=<organization slug>.", { fields: { org: "Required." } });
  const { principal, storage } = await apiCaller(req);
  const org = await storage.getOrg(principal, slug.data);
  return json({ items: (await listApiTokens(principal.claims, org.id)).map(serialize) });
});

/** POST {org, name, role, expires_in_days}: the token secret is in the answer, once. */
export const POST = apiRoute(async (req) => {
  const input = createTokenSchema.parse(await readJson(req));
  const { principal, storage } = await apiCaller(req);
  const org = await storage.getOrg(principal, input.org);
  const expiresAt = input.expires_in_days ? new Date(Date.now() + input.expires_in_days * 86400_000) : null;
  const { token, record } = await createApiToken(principal.claims, { orgId: org.id, name: input.name, role: input.role, expiresAt });
  return json({ ...serialize(record), token }, { status: 201 });
});
