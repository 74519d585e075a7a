import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import {
  ACCEPTED_FILE_TYPES,
  ALLOWED_EXTENSIONS,
  contentTypeFor,
  DEFAULT_MAX_UPLOAD_BYTES,
  isAllowedExtension,
  RESUMABLE_CHUNK_BYTES,
} from "./limits";
import { formatBytes } from "@/lib/format";
import { DECLARED_EXTENSIONS } from "@/lib/inspect/sniff";

describe("limits", () => {
  it("has the documented sizes", () => {
    expect(DEFAULT_MAX_UPLOAD_BYTES).toBe(5 * 1024 * 1024 * 1024);
    expect(RESUMABLE_CHUNK_BYTES).toBe(6 * 1024 * 1024);
  });

  it("lists every allowed extension exactly once in the dropzone's accept map", () => {
    const listed = Object.values(ACCEPTED_FILE_TYPES).flat();
    expect(listed.sort()).toEqual(ALLOWED_EXTENSIONS.map((e) => `.${e}`).sort());
    expect(ACCEPTED_FILE_TYPES["application/json"]).toEqual([".json"]);
    expect(ACCEPTED_FILE_TYPES["application/octet-stream"]).toContain(".pkl");
  });

  it("accepts what ML tools write and refuses clear non-models by name, as the inspector does by content", () => {
    for (const ext of [
      "bin",
      "pt",
      "pth",
      "ckpt",
      "pkl",
      "npy",
      "npz",
      "tflite",
      "pb",
      "mlmodel",
      "mar",
      "tar",
      "7z",
      "zip",
      "onnx",
      "gguf",
    ])
      expect(isAllowedExtension(ext), ext).toBe(true);
    for (const ext of ["png", "jpg", "jpeg", "gif", "webp", "pdf", "docx", "xlsx", "odt", "html", "exe", "dll", "mp4", "mp3", "wav"])
      expect(isAllowedExtension(ext), ext).toBe(false);
    // the names whose content the inspector checks against the name: all droppable except compressed
    // streams and rare pickle names, which object keys do not take yet
    expect(DECLARED_EXTENSIONS.filter((e) => !isAllowedExtension(e)).sort()).toEqual([
      "bz2",
      "dill",
      "gz",
      "jbl",
      "lz4",
      "lzma",
      "tgz",
      "xz",
    ]);
  });

  it("knows allowed extensions and their content types", () => {
    expect(isAllowedExtension("safetensors")).toBe(true);
    expect(isAllowedExtension("exe")).toBe(false);
    expect(isAllowedExtension("PKL")).toBe(false);
    expect(contentTypeFor("demo_org/m_v1.json")).toBe("application/json");
    expect(contentTypeFor("demo_org/m_v1.PKL")).toBe("application/octet-stream");
    expect(contentTypeFor("noext")).toBe("application/octet-stream");
  });

  it.each([
    [0, "0 B"],
    [1, "1 B"],
    [1023, "1023 B"],
    [1024, "1 KiB"],
    [1536, "1.5 KiB"],
    [1024 * 1024 - 1, "1 MiB"],
    [6 * 1024 * 1024, "6 MiB"],
    [123.4 * 1024 * 1024, "123 MiB"],
    [12.34 * 1024 * 1024, "12.3 MiB"],
    [5 * 1024 ** 3, "5 GiB"],
    [2.5 * 1024 ** 4, "2.5 TiB"],
    [-2048, "-2 KiB"],
    [Number.NaN, "—"],
  ])("formatBytes(%d) = %s", (n, s) => {
    expect(formatBytes(n)).toBe(s);
  });

  it("stays importable in the browser (no Node imports)", () => {
    const source = readFileSync(path.join(import.meta.dirname, "limits.ts"), "utf8");
    expect(source).not.toMatch(/from\s+["'](node:|fs|path|crypto|stream)/);
    expect(source).not.toMatch(/require\(/);
  });
});
