import { apiCaller, apiRoute, json } from "@/lib/http/api";
import { parseFileBody } from "@/lib/http/upload";
import { serializeCommitFile } from "@/lib/storage/serialize";

type Ctx = { params: Promise<{ org: string; model: string; id: string; path: string[] }> };

/**
 * One file of a commit, as the raw body (streamed, never buffered): checked against the size and
 * SHA-256 the commit announced, inspected, stored. A file already stored answers at once.
 */
export const PUT = apiRoute(async (req, { params }: Ctx) => {
  const { org, model, id, path } = await params;
  // Refuse what the headers already tell (size) before reading a byte of the body.
  const file = parseFileBody(req);
  const { principal, services } = await apiCaller(req);
  await services.uploads.commits.getCommitAt(principal, org, model, id);
  const f = await services.uploads.uploadFile(principal, id, path.join("/"), file.body, {
    contentLength: file.contentLength,
    signal: req.signal,
  });
  return json(serializeCommitFile(f));
});
