import { apiCaller, apiRoute, json } from "@/lib/http/api";
import { readJson } from "@/lib/http/body";
import { serializeCommit } from "@/lib/storage/serialize";
import { COMMIT_JSON_LIMIT, createCommitSchema } from "@/lib/validations/files";

type Ctx = { params: Promise<{ org: string; model: string }> };

/**
 * Starts a version of several files (or one): announce every file's path, size and SHA-256; the
 * answer says which the organization already stores (nothing to send) and where to send the others.
 * Then upload them (PUT or tus, each resumable) and POST …/complete: all files or none.
 */
export const POST = apiRoute(async (req, { params }: Ctx) => {
  const { org, model } = await params;
  // Who is asking before reading a big body: a commit of thousands of files is larger than other JSON.
  const { principal, services, meta } = await apiCaller(req);
  const input = createCommitSchema.parse(await readJson(req, COMMIT_JSON_LIMIT));
  const commit = await services.uploads.commits.createCommit(principal, { org, model, ...input }, meta);
  return json(serializeCommit(commit), { status: 201, headers: { location: `/api/v1/orgs/${org}/models/${model}/commits/${commit.id}` } });
});
