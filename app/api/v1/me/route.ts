import { apiCaller, apiRoute, json } from "@/lib/http/api";
import { serializeOrg } from "@/lib/storage/serialize";

/** Who the credentials belong to (`fairmind whoami`): the user, how they signed in, an API token's org and role. */
export const GET = apiRoute(async (req) => {
  const { principal, services } = await apiCaller(req);
  const orgs = (await services.catalog.listOrgs(principal)).map(serializeOrg);
  const t = principal.claims.fm_token;
  const tokenOrg = t ? orgs.find((o) => o.id === t.org_id) : undefined;
  return json({
    user: { id: principal.userId, email: principal.email ?? null },
    via: principal.via,
    token: t ? { id: t.id, org: tokenOrg?.slug ?? null, role: t.role } : null,
    orgs,
  });
});
