import { apiCaller, apiRoute, json } from "@/lib/http/api";
import { readJson } from "@/lib/http/body";
import { serializeVersion } from "@/lib/storage/serialize";
import { completeReservationRequest } from "@/lib/validations/api";

type Ctx = { params: Promise<{ id: string }> };

/** Finalizes a direct-to-storage upload: the server streams the object once to verify size and SHA-256. */
export const POST = apiRoute(async (req, { params }: Ctx) => {
  const { id } = await params;
  const { size } = completeReservationRequest.parse(await readJson(req));
  const { principal, services, meta } = await apiCaller(req);
  const r = await services.uploads.findReservation(principal, id);
  const v = await services.uploads.completeStoredUpload(principal, r, { expectedSize: size }, meta);
  return json(serializeVersion(v), { status: 201 });
});
