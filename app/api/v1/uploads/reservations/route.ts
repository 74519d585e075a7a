import { apiCaller, apiRoute, json } from "@/lib/http/api";
import { readJson } from "@/lib/http/body";
import { RESUMABLE_CHUNK_BYTES } from "@/lib/storage/limits";
import { reservationRequest } from "@/lib/validations/api";

/**
 * Reserves a one-file version before its bytes are sent, and says where to send them: our own tus
 * endpoint in every mode (in supabase mode it streams each chunk on to Storage's, hashing and
 * inspecting on the way) — then POST …/reservations/{id}/complete. Duplicates and viewers are refused
 * here, before any byte. (`object_key` remains for clients that write to Supabase Storage directly:
 * the storage policies allow exactly that key to the reserving user; complete then reads it back.)
 */
export const POST = apiRoute(async (req) => {
  const input = reservationRequest.parse(await readJson(req));
  const { principal, services, meta } = await apiCaller(req);
  const r = await services.uploads.reserveUpload(
    principal,
    { org: input.org, model: input.model, version: input.version, fileName: input.filename, size: input.size, metadata: input.metadata },
    meta,
  );
  const base = services.platform.config.appUrl ?? req.url;
  return json(
    {
      id: r.versionId,
      object_key: r.key,
      upload: {
        protocol: "tus",
        endpoint: new URL("/api/v1/uploads", base).toString(),
        chunk_size: RESUMABLE_CHUNK_BYTES,
        metadata: { commit: r.versionId, path: r.path },
        headers: {},
        complete_url: `/api/v1/uploads/reservations/${r.versionId}/complete`,
      },
    },
    { status: 201 },
  );
});
