import { apiCaller, apiRoute } from "@/lib/http/api";

type Ctx = { params: Promise<{ id: string }> };

/** Abandons a reservation (and whatever was uploaded under it). */
export const DELETE = apiRoute(async (req, { params }: Ctx) => {
  const { id } = await params;
  const { principal, services } = await apiCaller(req);
  await services.uploads.abandonUpload(principal, await services.uploads.findReservation(principal, id));
  return new Response(null, { status: 204 });
});
