import { z } from "zod";
import { getConfig } from "@/lib/config";
import { apiCaller, apiRoute, json, readJson } from "@/lib/http/api";
import { uploadMetadataSchema } from "@/lib/validations/models";

const reservationSchema = z.object({
  org: z.string(),
  model: z.string(),
  version: z.string(),
  filename: z.string().min(1).max(255),
  size: z.number().int().positive(),
  metadata: uploadMetadataSchema.optional(),
});

/**
 * Reserves a version before its bytes are sent, and says where to send them: our own tus endpoint in
 * the local modes, Supabase's resumable endpoint (bucket + object name) in supabase mode — then
 * POST …/reservations/{id}/complete there. Duplicates and viewers are refused here, before any byte.
 */
export const POST = apiRoute(async (req) => {
  const input = reservationSchema.parse(await readJson(req));
  const { principal, storage, meta } = await apiCaller(req);
  const config = getConfig();
  const r = await storage.reserveUpload(
    principal,
    { org: input.org, model: input.model, version: input.version, fileName: input.filename, size: input.size, metadata: input.metadata },
    meta,
  );
  const upload =
    config.mode === "supabase"
      ? {
          protocol: "tus",
          endpoint: `${config.supabase!.url.replace(/\/$/, "")}/storage/v1/upload/resumable`,
          chunk_size: 6 * 1024 * 1024,
          metadata: { bucketName: config.bucket, objectName: r.key, contentType: "application/octet-stream", cacheControl: "3600" },
          headers: { "x-upsert": "false" },
          complete_url: `/api/v1/uploads/reservations/${r.versionId}/complete`,
        }
      : {
          protocol: "put",
          url: `/api/v1/orgs/${r.orgSlug}/models/${r.modelSlug}/versions/${r.version}?filename=${encodeURIComponent(r.fileName)}`,
          note: "Local modes: release this reservation (DELETE) and PUT the file, or use the tus endpoint /api/v1/uploads directly.",
        };
  return json({ id: r.versionId, object_key: r.key, upload }, { status: 201 });
});
