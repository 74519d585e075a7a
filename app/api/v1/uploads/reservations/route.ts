import { apiCaller, apiRoute, json } from "@/lib/http/api";
import { readJson } from "@/lib/http/body";
import { reservationRequest } from "@/lib/validations/api";

/**
 * Reserves a version before its bytes are sent, and says where to send them: our own tus endpoint in
 * the local modes, Supabase's resumable endpoint (bucket + object name) in supabase mode — then
 * POST …/reservations/{id}/complete there. Duplicates and viewers are refused here, before any byte.
 */
export const POST = apiRoute(async (req) => {
  const input = reservationRequest.parse(await readJson(req));
  const { principal, services, meta } = await apiCaller(req);
  const r = await services.uploads.reserveUpload(
    principal,
    { org: input.org, model: input.model, version: input.version, fileName: input.filename, size: input.size, metadata: input.metadata },
    meta,
  );
  return json({ id: r.versionId, object_key: r.key, upload: services.platform.uploads.directUploadTarget(r) }, { status: 201 });
});
