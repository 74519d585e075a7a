import { parse as parseYamlText } from "yaml";

/** What a layout reader gets: the version's files, and ranged reads of them. */

export interface LayoutFile {
  /** Path inside the version, "/"-separated, no leading "/". */
  path: string;
  size: number;
}

/** Reads bytes [start, end) of one file of the version (a short read means end of file). */
export type ReadFileRange = (path: string, start: number, end: number) => Promise<Uint8Array>;

export interface LayoutProblem {
  path?: string;
  /** "invalid": the version cannot be loaded as this layout (a missing shard); "warning": worth a look. */
  severity: "invalid" | "warning";
  message: string;
}

/** Files beyond this make the listing itself suspect; nothing is recognised. */
export const MAX_FILES = 10_000;
/** Configuration files (JSON, YAML) are parsed only up to this size. */
export const MAX_CONFIG_BYTES = 1024 * 1024;
/** A safetensors index may list every tensor of a large model. */
export const MAX_INDEX_BYTES = 8 * 1024 * 1024;
/** A safetensors header beyond this is refused (the format allows 100 MB; real ones are KBs to a few MBs). */
export const MAX_HEADER_BYTES = 16 * 1024 * 1024;
/** Header bytes read across all shards of one version. */
export const MAX_TOTAL_HEADER_BYTES = 64 * 1024 * 1024;

/** The files of a version with their reads, bounded, and the problems found so far. */
export class VersionFiles {
  readonly problems: LayoutProblem[] = [];
  private readonly byPath = new Map<string, LayoutFile>();
  private readonly byLower = new Map<string, LayoutFile>();
  headerBytesRead = 0;

  constructor(
    readonly files: LayoutFile[],
    private readonly reader: ReadFileRange,
    /** Prefix stripped from every path (a dropped folder's own name), "" when none. */
    readonly root: string,
  ) {
    for (const f of files) {
      this.byPath.set(f.path, f);
      if (!this.byLower.has(f.path.toLowerCase())) this.byLower.set(f.path.toLowerCase(), f);
    }
  }

  get(path: string): LayoutFile | undefined {
    return this.byPath.get(path);
  }

  has(path: string): boolean {
    return this.byPath.has(path);
  }

  getIgnoringCase(path: string): LayoutFile | undefined {
    return this.byPath.get(path) ?? this.byLower.get(path.toLowerCase());
  }

  /** Files directly in `dir` ("" for the root) or below it. */
  under(dir: string): LayoutFile[] {
    const prefix = dir ? `${dir}/` : "";
    return this.files.filter((f) => f.path.startsWith(prefix));
  }

  problem(severity: LayoutProblem["severity"], message: string, path?: string): void {
    if (this.problems.length >= 200) return;
    this.problems.push(path === undefined ? { severity, message } : { path: this.shown(path), severity, message });
  }

  /** The path as the uploader named it (with the stripped folder). */
  shown(path: string): string {
    return this.root ? `${this.root}/${path}` : path;
  }

  /** Reads [start, end) of a file; null (and a warning) when the read fails. */
  async read(path: string, start: number, end: number): Promise<Uint8Array | null> {
    try {
      const b = await this.reader(this.shown(path), start, end);
      if (!(b instanceof Uint8Array)) throw new Error("the reader returned no bytes");
      return b.length > end - start ? b.subarray(0, end - start) : b;
    } catch (e) {
      this.problem("warning", `could not be read: ${String((e as Error)?.message ?? e).slice(0, 200)}`, path);
      return null;
    }
  }

  /** Reads a whole small text file (≤ max bytes); null with a problem when it is larger, unreadable or not UTF-8. */
  async text(path: string, max = MAX_CONFIG_BYTES): Promise<string | null> {
    const f = this.get(path);
    if (!f) return null;
    if (f.size > max) {
      this.problem("warning", `${f.size} bytes: larger than the ${max} bytes read for a configuration file, so it was not read`, path);
      return null;
    }
    const b = await this.read(path, 0, f.size);
    if (!b) return null;
    try {
      return new TextDecoder("utf-8", { fatal: true }).decode(b);
    } catch {
      this.problem("warning", "not UTF-8 text", path);
      return null;
    }
  }

  /** Parses a small JSON file; null with a problem of `severity` when it cannot be read or parsed. */
  async json(path: string, severity: LayoutProblem["severity"] = "warning", max = MAX_CONFIG_BYTES): Promise<unknown> {
    const text = await this.text(path, max);
    if (text === null) return null;
    try {
      return JSON.parse(text) as unknown;
    } catch (e) {
      this.problem(severity, `not valid JSON: ${(e as Error).message.slice(0, 200)}`, path);
      return null;
    }
  }

  /** Parses a small YAML file with the core schema (no custom tags, bounded aliases); null with a problem when it cannot be. */
  async yaml(path: string, severity: LayoutProblem["severity"] = "warning"): Promise<unknown> {
    const text = await this.text(path);
    if (text === null) return null;
    return parseYaml(text, (message) => this.problem(severity, message, path));
  }
}

/** YAML with the core schema only: no custom tags, at most 100 alias expansions (no "billion laughs"), unique keys. */
export function parseYaml(text: string, onError: (message: string) => void): unknown {
  try {
    return parseYamlText(text, {
      schema: "core",
      maxAliasCount: 100,
      uniqueKeys: true,
      prettyErrors: false,
      strict: true,
      logLevel: "error",
    });
  } catch (e) {
    onError(`not valid YAML: ${String((e as Error)?.message ?? e).slice(0, 200)}`);
    return null;
  }
}

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
export type JsonObject = { [k: string]: unknown };

export const isObject = (v: unknown): v is JsonObject => typeof v === "object" && v !== null && !Array.isArray(v);
export const asString = (v: unknown, max = 256): string | null => (typeof v === "string" ? v.slice(0, max) : null);
export const asNumber = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null);

/** "a/b/../c" style paths: the problem with a path, or null when it is a clean relative path. */
export function pathProblem(path: string): string | null {
  if (typeof path !== "string" || path.length === 0) return "empty path";
  if (path.length > 1024) return "path longer than 1024 characters";
  if (/[\u0000-\u001f\u007f]/.test(path)) return "control character in the path";
  if (path.includes("\\")) return "backslash in the path";
  if (path.startsWith("/") || /^[A-Za-z]:/.test(path)) return "absolute path";
  const parts = path.split("/");
  if (parts.some((p) => p === "" || p === "." || p === "..")) return "empty, '.' or '..' path segment";
  return null;
}

/** Joins a path relative to the directory of `from` (both version paths); null when it leaves the version. */
export function resolveRelative(from: string, ref: string): string | null {
  if (pathProblem(ref.replace(/^\.\//, "")) !== null) return null;
  const dir = from.includes("/") ? from.slice(0, from.lastIndexOf("/")) : "";
  return dir ? `${dir}/${ref.replace(/^\.\//, "")}` : ref.replace(/^\.\//, "");
}
