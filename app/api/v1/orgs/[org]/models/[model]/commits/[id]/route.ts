import { apiCaller, apiRoute, json } from "@/lib/http/api";
import { serializeCommit } from "@/lib/storage/serialize";

type Ctx = { params: Promise<{ org: string; model: string; id: string }> };

/** The caller's own pending commit: which files are stored, which still to send (resuming). */
export const GET = apiRoute(async (req, { params }: Ctx) => {
  const { org, model, id } = await params;
  const { principal, services } = await apiCaller(req);
  return json(serializeCommit(await services.uploads.commits.getCommitAt(principal, org, model, id)));
});

/** Abandons the commit: the version number is free again, nothing it uploaded stays visible. */
export const DELETE = apiRoute(async (req, { params }: Ctx) => {
  const { org, model, id } = await params;
  const { principal, services } = await apiCaller(req);
  await services.uploads.commits.getCommitAt(principal, org, model, id);
  await services.uploads.commits.abandonCommit(principal, id);
  return new Response(null, { status: 204 });
});
