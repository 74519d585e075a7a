import { apiCaller, apiRoute } from "@/lib/http/api";

type Ctx = { params: Promise<{ id: string }> };

export const DELETE = apiRoute(async (req, { params }: Ctx) => {
  const { id } = await params;
  const { principal, services, meta } = await apiCaller(req);
  await services.tokens.revoke(principal, id, meta);
  return new Response(null, { status: 204 });
});
