import { SNIFF_HEAD_BYTES, sniffFile } from "@/lib/inspect/sniff";
import { relativePathOf } from "./folder-files";

/** A dropped file refused for what its first bytes are, before any byte of it is sent. */
export interface ContentRefusal {
  file: File;
  /** What the content is ("a PNG image"). */
  what: string;
  message: string;
}

/**
 * Reads the first bytes of each loose file (File.slice: nothing else is read) and refuses what is
 * certainly not a model, with the server's own judgement (lib/inspect/sniff: the server refuses the
 * same files). Files inside a dropped folder pass: a model folder may hold images and documents.
 */
export async function refuseByContent(files: File[]): Promise<{ accepted: File[]; refused: ContentRefusal[] }> {
  const verdicts = await Promise.all(
    files.map(async (file) => {
      if (relativePathOf(file).includes("/")) return null;
      try {
        const head = new Uint8Array(await file.slice(0, SNIFF_HEAD_BYTES).arrayBuffer());
        const v = sniffFile(file.name, head, file.size);
        return v.kind === "not_a_model" ? { file, what: v.what, message: v.message } : null;
      } catch {
        // Unreadable here (a file moved since it was chosen): the upload itself will say so.
        return null;
      }
    }),
  );
  const refused = verdicts.filter((v): v is ContentRefusal => v !== null);
  const out = new Set(refused.map((r) => r.file));
  return { accepted: files.filter((f) => !out.has(f)), refused };
}
