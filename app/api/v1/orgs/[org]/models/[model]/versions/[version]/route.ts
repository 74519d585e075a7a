import { apiCaller, apiRoute, json } from "@/lib/http/api";
import { parseUploadHeaders, recordRefusedUpload } from "@/lib/http/upload";
import { serializeVersion } from "@/lib/storage/serialize";

type Ctx = { params: Promise<{ org: string; model: string; version: string }> };

export const GET = apiRoute(async (req, { params }: Ctx) => {
  const { org, model, version } = await params;
  const { principal, services } = await apiCaller(req);
  return json(serializeVersion(await services.catalog.getVersion(principal, org, model, version)));
});

/** Upload: the raw file is the body (streamed, never buffered), metadata in X-Model-Metadata. */
export const PUT = apiRoute(async (req, { params }: Ctx) => {
  const { org, model, version } = await params;
  // Refuse what the headers already tell (size, type) before reading a byte of the body.
  let upload: ReturnType<typeof parseUploadHeaders>;
  try {
    upload = parseUploadHeaders(req);
  } catch (e) {
    await recordRefusedUpload(req, { org, model, version }, e);
    throw e;
  }
  const { principal, services, meta } = await apiCaller(req);
  const v = await services.uploads.uploadVersion(
    principal,
    {
      org,
      model,
      version,
      fileName: upload.fileName,
      body: upload.body,
      contentLength: upload.contentLength,
      metadata: upload.metadata,
      signal: req.signal,
    },
    meta,
  );
  return json(serializeVersion(v), { status: 201, headers: { location: `/api/v1/orgs/${org}/models/${model}/versions/${v.version}` } });
});

export const DELETE = apiRoute(async (req, { params }: Ctx) => {
  const { org, model, version } = await params;
  const { principal, services, meta } = await apiCaller(req);
  await services.catalog.deleteVersion(principal, org, model, version, meta);
  return new Response(null, { status: 204 });
});
