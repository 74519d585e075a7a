import { ERRORS } from "@/lib/errors";
import { apiCaller, apiRoute, json } from "@/lib/http/api";
import { readJson } from "@/lib/http/body";
import { serializeToken } from "@/lib/storage/serialize";
import { createTokenSchema, orgSlugSchema } from "@/lib/validations/models";

/** GET /api/v1/tokens?org=<slug>: your tokens (all of the org's for admins). */
export const GET = apiRoute(async (req) => {
  const slug = orgSlugSchema.safeParse(new URL(req.url).searchParams.get("org"));
  if (!slug.success) throw ERRORS.invalidField("org", "Required.", "Pass ?org=<organization slug>.");
  const { principal, services } = await apiCaller(req);
  return json({ items: (await services.tokens.list(principal, slug.data)).map((t) => serializeToken(t)) });
});

/** POST {org, name, role, expires_in_days}: the token secret is in the answer, once. */
export const POST = apiRoute(async (req) => {
  const input = createTokenSchema.parse(await readJson(req));
  const { principal, services, meta } = await apiCaller(req);
  const expiresAt = input.expires_in_days ? new Date(Date.now() + input.expires_in_days * 86400_000) : null;
  const { token, record } = await services.tokens.create(
    principal,
    { org: input.org, name: input.name, role: input.role, expiresAt },
    meta,
  );
  return json(serializeToken(record, token), { status: 201 });
});
