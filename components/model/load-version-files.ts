import "server-only";
import type { Principal } from "@/lib/auth/principal";
import type { Services } from "@/lib/services/services";
import type { ModelVersion } from "@/lib/storage/types";
import type { FileView } from "./version-files";

/** Small text files shown opened on the model page besides the card (configs, MLmodel, YAML). */
const PREVIEW = /(^|\/)(config\.json|MLmodel|[^/]+\.ya?ml|requirements\.txt|generation_config\.json|modules\.json|model_index\.json)$/i;
const MAX_PREVIEWS = 6;
const PREVIEW_BYTES = 64 * 1024;

/** A version's files for the model page: the tree, its card (README.md) and a few previews. */
export async function loadVersionFiles(services: Services, principal: Principal, org: string, model: string, v: ModelVersion) {
  const { files } = await services.files.listFiles(principal, org, model, v.version);
  const view: FileView[] = files.map((f) => ({
    path: f.path,
    size: Number(f.size_bytes ?? 0),
    sha256: f.sha256 ?? "",
    format: f.format,
    role: (f.metadata as { role?: string }).role === "asset" ? "asset" : "model",
    verdict: f.scan_verdict,
  }));
  const readable = v.status === "ready" || v.status === "quarantined";
  const cardPath =
    typeof v.layout_details?.card === "string" ? v.layout_details.card : files.find((f) => /^readme\.md$/i.test(f.path))?.path;
  const card =
    readable && cardPath
      ? await services.files
          .preview(principal, org, model, v.version, cardPath)
          .then((markdown) => (markdown ? { path: cardPath, markdown } : null))
      : null;
  const previews: { path: string; text: string }[] = [];
  if (readable) {
    for (const f of files.filter((x) => PREVIEW.test(x.path) && Number(x.size_bytes) <= PREVIEW_BYTES).slice(0, MAX_PREVIEWS)) {
      const text = await services.files.preview(principal, org, model, v.version, f.path).catch(() => null);
      if (text !== null) previews.push({ path: f.path, text });
    }
  }
  return { files: view, card, previews };
}
