import "server-only";
import type { Principal } from "@/lib/auth/principal";
import type { FileRow } from "@/lib/db/queries/files";
import type { Platform } from "@/lib/platform/types";

/** What the folder of a version is, as far as its layout goes. */
export interface LayoutResult {
  layout: string;
  framework: string | null;
  /** Everything the layout said (shown on the model page). */
  details: Record<string, unknown>;
  /** The few values that go into the version's metadata (and so into search). */
  summary: Record<string, unknown>;
  problems: { path?: string; severity: "invalid" | "warning"; message: string }[];
}

/** The layout of a version's files; their headers are read from the store as the caller. */
export async function describeLayout(platform: Platform, p: Principal, files: FileRow[]): Promise<LayoutResult> {
  void platform;
  void p;
  if (files.length === 1) return { layout: "single-file", framework: null, details: {}, summary: {}, problems: [] };
  return { layout: "unknown", framework: null, details: {}, summary: {}, problems: [] };
}
