import { revokeApiToken } from "@/lib/auth/api-tokens";
import { apiCaller, apiRoute } from "@/lib/http/api";
import { AppError } from "@/lib/errors";

type Ctx = { params: Promise<{ id: string }> };

export const DELETE = apiRoute(async (req, { params }: Ctx) => {
  const { id } = await params;
  if (!/^[0-9a-f-]{36}$/.test(id)) throw new AppError("not_found", "No such active token.");
  const { principal } = await apiCaller(req);
  await revokeApiToken(principal.claims, id);
  return new Response(null, { status: 204 });
});
