import { apiCaller, apiRoute } from "@/lib/http/api";

type Ctx = { params: Promise<{ org: string; id: string }> };

/** DELETE: removes an endpoint and its delivery log (admins). */
export const DELETE = apiRoute(async (req, { params }: Ctx) => {
  const { org, id } = await params;
  const { principal, services, meta } = await apiCaller(req);
  await services.webhooks.deleteEndpoint(principal, org, id, meta);
  return new Response(null, { status: 204 });
});
