import { apiCaller, apiRoute, json } from "@/lib/http/api";
import { serializeVersion } from "@/lib/storage/serialize";

type Ctx = { params: Promise<{ org: string; model: string; id: string }> };

/** Makes the version visible with all its files (201), or says what is missing (409) or wrong (422). */
export const POST = apiRoute(async (req, { params }: Ctx) => {
  const { org, model, id } = await params;
  const { principal, services, meta } = await apiCaller(req);
  await services.uploads.commits.getCommitAt(principal, org, model, id);
  const v = await services.uploads.commits.completeCommit(principal, id, meta);
  return json(serializeVersion(v), { status: 201, headers: { location: `/api/v1/orgs/${org}/models/${model}/versions/${v.version}` } });
});
