import { describe, expect, it } from "vitest";
import { AppError } from "@/lib/errors";
import {
  buildObjectKey,
  extensionFromFileName,
  isValidKey,
  modelSlugSchema,
  mustBeValidKey,
  mustBeValidPrefix,
  orgSlugSchema,
  versionSchema,
} from "./object-key";

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (e) {
    return e instanceof AppError ? e.code : "not an AppError";
  }
}

describe("mustBeValidKey", () => {
  it.each([
    "demo_org/credit_risk_v2.1.pkl",
    "demo_org/llm-7b_v1.0.0-rc.1.gguf",
    "a/b/c/d.bin",
    "x",
    "org/model_v0.json",
    `a/${"x".repeat(255)}`,
  ])("accepts %j", (key) => {
    expect(() => mustBeValidKey(key)).not.toThrow();
  });

  // Hostile inputs: traversal, encodings, control characters and Unicode look-alikes.
  it.each<[string, string]>([
    ["empty", ""],
    ["dot-dot", ".."],
    ["dot-dot segment", "org/../other/x.pkl"],
    ["leading dot-dot", "../x.pkl"],
    ["dot segment", "org/./x.pkl"],
    ["lone slash", "/"],
    ["absolute", "/etc/passwd"],
    ["empty segment", "org//x.pkl"],
    ["trailing slash", "org/"],
    ["backslash", "org\\x.pkl"],
    ["backslash traversal", "..\\..\\x.pkl"],
    ["NUL", "org/x\u0000.pkl"],
    ["C0 control (newline)", "org/x\n.pkl"],
    ["DEL", "org/x\u007f.pkl"],
    ["C1 control", "org/x\u0085.pkl"],
    ["percent-encoded dots", "%2e%2e/x.pkl"],
    ["percent-encoded slash", "org%2fx.pkl"],
    ["double-encoded", "%252e%252e/x.pkl"],
    ["one-dot leaders (U+2024)", "\u2024\u2024/x.pkl"],
    ["fullwidth full stops", "\uff0e\uff0e/x.pkl"],
    ["fullwidth solidus", "org\uff0fx.pkl"],
    ["division slash (U+2215)", "org\u2215..\u2215x.pkl"],
    ["fraction slash (U+2044)", "org\u2044x.pkl"],
    ["RTL override", "org/\u202elkp.exe"],
    ["zero-width space", "org/x\u200b.pkl"],
    ["not NFC (e + combining acute)", "org/cafe\u0301.pkl"],
    ["NFC but non-ASCII", "org/caf\u00e9.pkl"],
    ["space", "org/my model.pkl"],
    ["colon", "org/c:x.pkl"],
    ["hidden file", "org/.env"],
    ["temp dir", ".tmp/123"],
    ["trailing dot", "org/x.pkl."],
    ["segment trailing dot", "org./x.pkl"],
    ["too long (bytes)", `org/${"x".repeat(1030)}`],
    ["segment over 255", `org/${"x".repeat(256)}`],
  ])("rejects %s", (_label, key) => {
    expect(codeOf(() => mustBeValidKey(key))).toBe("bad_request");
    expect(isValidKey(key)).toBe(false);
  });

  it("allows exactly 1024 bytes", () => {
    const key = `${Array.from({ length: 5 }, () => "x".repeat(200)).join("/")}/${"y".repeat(19)}`;
    expect(key.length).toBe(1024);
    expect(isValidKey(key)).toBe(true);
    expect(isValidKey(`${key}y`)).toBe(false);
  });

  it("says why in the error details", () => {
    try {
      mustBeValidKey("a/../b");
    } catch (e) {
      expect((e as AppError).details).toEqual({ reason: "relative path segment" });
    }
  });
});

describe("mustBeValidPrefix", () => {
  it.each(["", "demo_org/", "demo_org/credit", "demo_org/credit_risk_v2."])("accepts %j", (p) => {
    expect(() => mustBeValidPrefix(p)).not.toThrow();
  });
  it.each(["/", "../", "a//", ".tmp/", "\uff0e\uff0e/", "a\\"])("rejects %j", (p) => {
    expect(codeOf(() => mustBeValidPrefix(p))).toBe("bad_request");
  });
});

describe("key parts", () => {
  it.each([
    ["demo_org", true],
    ["a1", true],
    ["org-2_x", true],
    ["a", false],
    ["Demo", false],
    ["_org", false],
    ["-org", false],
    ["x".repeat(64), false],
    ["org/other", false],
  ])("orgSlugSchema %j -> %s", (v, ok) => {
    expect(orgSlugSchema.safeParse(v).success).toBe(ok);
  });

  it.each([
    ["credit_risk", true],
    ["m", true],
    ["x".repeat(100), true],
    ["x".repeat(101), false],
    ["Model", false],
    ["m.v1", false],
    ["../m", false],
  ])("modelSlugSchema %j -> %s", (v, ok) => {
    expect(modelSlugSchema.safeParse(v).success).toBe(ok);
  });

  it.each([
    ["1", true],
    ["2.1", true],
    ["0.0.1", true],
    ["1.0.0-rc.1", true],
    ["2-beta", true],
    ["1.2.3-alpha-2.x", true],
    ["10.20.30", true],
    ["01", false],
    ["1.02", false],
    ["1.2.3.4", false],
    ["v1", false],
    ["1.", false],
    ["1.0-rc.", false],
    ["1.0-rc..1", false],
    ["1.0-", false],
    ["1.0_rc", false],
    ["1.0-rc/1", false],
    [`1.0-${"x".repeat(61)}`, false],
    ["", false],
  ])("versionSchema %j -> %s", (v, ok) => {
    expect(versionSchema.safeParse(v).success).toBe(ok);
  });
});

describe("buildObjectKey", () => {
  it("builds <org>/<model>_v<version>.<ext>", () => {
    expect(buildObjectKey({ orgSlug: "demo_org", modelSlug: "credit_risk", version: "2.1", ext: "pkl" })).toBe(
      "demo_org/credit_risk_v2.1.pkl",
    );
    expect(buildObjectKey({ orgSlug: "acme", modelSlug: "llm", version: "1.0.0-rc.1", ext: "gguf" })).toBe("acme/llm_v1.0.0-rc.1.gguf");
  });

  it.each([
    [{ orgSlug: "../x", modelSlug: "m", version: "1", ext: "pkl" }, "orgSlug"],
    [{ orgSlug: "demo_org", modelSlug: "m/../../x", version: "1", ext: "pkl" }, "modelSlug"],
    [{ orgSlug: "demo_org", modelSlug: "m", version: "1/../../x", ext: "pkl" }, "version"],
    [{ orgSlug: "demo_org", modelSlug: "m", version: "1", ext: "exe" }, "ext"],
    [{ orgSlug: "demo_org", modelSlug: "m", version: "1", ext: "PKL" }, "ext"],
  ])("refuses invalid parts with field errors (%j)", (parts, field) => {
    try {
      buildObjectKey(parts);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(AppError);
      expect((e as AppError).code).toBe("invalid_input");
      expect(Object.keys((e as AppError).details?.fields as object)).toEqual([field]);
    }
  });
});

describe("extensionFromFileName", () => {
  it.each([
    ["model.pkl", "pkl"],
    ["MODEL.PKL", "pkl"],
    ["weights.tar.safetensors", "safetensors"],
    ["config.json", "json"],
    ["llama-7b.Q4_K_M.gguf", "gguf"],
    [" spaced.onnx ", "onnx"],
  ])("%j -> %s", (name, ext) => {
    expect(extensionFromFileName(name)).toBe(ext);
  });

  it.each(["model", "model.exe", "model.pkl.exe", "model.", ".", "", "model.tar.gz", "model.pkl\u0000.exe"])("rejects %j", (name) => {
    expect(codeOf(() => extensionFromFileName(name))).toBe("unsupported_media_type");
  });
});
