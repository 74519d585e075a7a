// Dropped folders: which files belong together, under which paths. Pure (tested in the fast lane).

export interface FolderFile {
  /** The path inside the folder, "/"-separated, without the folder's own name. */
  path: string;
  file: File;
}

export interface DroppedFolder {
  /** The folder's own name (what was dropped). */
  name: string;
  files: FolderFile[];
  size: number;
}

/** Files the browser puts beside a user's files that no model needs. */
const NOISE = /(^|\/)(\.DS_Store|Thumbs\.db|desktop\.ini|\.git(\/|$)|__MACOSX\/|\._[^/]*$)/;

/**
 * The relative path a browser gives a file: react-dropzone's `path` ("/folder/a.json" for a dropped
 * folder, "./a.json" or "a.json" for a loose file) or `webkitRelativePath` ("folder/a.json") from a
 * folder picker. Empty segments and "." are dropped; the server checks every path again.
 */
export function relativePathOf(file: File): string {
  const f = file as File & { path?: string; relativePath?: string };
  const raw = f.webkitRelativePath || f.relativePath || f.path || file.name;
  return raw
    .split("/")
    .filter((s) => s !== "" && s !== ".")
    .join("/");
}

/**
 * Splits dropped files into folders (every file whose path has a directory, grouped by its first
 * segment) and loose files. A folder's files keep their paths below the folder's own name.
 */
export function groupDropped(files: File[]): { folders: DroppedFolder[]; loose: File[] } {
  const folders = new Map<string, DroppedFolder>();
  const loose: File[] = [];
  for (const file of files) {
    const path = relativePathOf(file);
    const slash = path.indexOf("/");
    if (slash < 0) {
      loose.push(file);
      continue;
    }
    const name = path.slice(0, slash);
    const inner = path.slice(slash + 1);
    if (NOISE.test(inner)) continue;
    const folder = folders.get(name) ?? { name, files: [], size: 0 };
    folder.files.push({ path: inner, file });
    folder.size += file.size;
    folders.set(name, folder);
  }
  for (const f of folders.values()) f.files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { folders: [...folders.values()], loose };
}

/** A stable key for a folder drop (same folder, same files, same sizes): resuming after a reload. */
export function folderFingerprint(f: DroppedFolder): string {
  let h = 2166136261;
  const text = `${f.name}|${f.files.map((x) => `${x.path}:${x.file.size}:${x.file.lastModified}`).join("|")}`;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619) >>> 0;
  return `${f.name}-${f.files.length}-${f.size}-${h.toString(16)}`;
}

/** "key=value" lines (or comma-separated pairs) into tags; the server validates keys and values. */
export function parseKeyValues(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of text.split(/[\n,]/)) {
    const eq = part.indexOf("=");
    if (eq <= 0) continue;
    const key = part.slice(0, eq).trim().toLowerCase();
    const value = part.slice(eq + 1).trim();
    if (key && value) out[key] = value;
  }
  return out;
}
