import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { createInspector, inspectFile } from "./inspect";
import { SNIFF_BYTES, SNIFF_HEAD_BYTES, sniffFile } from "./sniff";
import { bytes, concat, fixture, FIXTURES, inspectBytes, prng, readManifest } from "./test-support";
import type { EarlyVerdict } from "./types";

/**
 * sniffFile (the browser's verdict before sending) and the streaming inspector's early() (the
 * server's verdict after the first chunk) refuse exactly the same files, and never a file the full
 * inspection would accept.
 */

const ROOT = path.resolve(process.cwd(), "test/fixtures");
const FORMATS = path.join(ROOT, "formats");
const formats = JSON.parse(fs.readFileSync(path.join(FORMATS, "MANIFEST.json"), "utf8")) as Array<{
  file: string;
  expected_verdict: string;
  format: string;
  refused_early: boolean;
}>;
const corpus: Array<{ file: string; full: string }> = [
  ...readManifest().map((e) => ({ file: e.file, full: path.join(FIXTURES, e.file) })),
  ...fs.readdirSync(path.join(ROOT, "adversarial/files")).map((f) => ({ file: f, full: path.join(ROOT, "adversarial/files", f) })),
  ...formats.map((e) => ({ file: e.file, full: path.join(FORMATS, "files", e.file) })),
];
const te = new TextEncoder();

/** A dangerous file whose zip hides behind other content (a polyglot): the only thing refused early that the full inspection stores (quarantined). */
function hidesZip(verdict: string, findings: Array<{ code: string }>): boolean {
  return verdict === "dangerous" && findings.some((f) => f.code === "zip-prepended-data" || f.code === "zip-polyglot");
}

function sniffBytes(name: string, b: Uint8Array) {
  return sniffFile(name, b.subarray(0, SNIFF_HEAD_BYTES), b.length);
}

/** Streams `b` in `chunk`-byte writes and records early() after each one. */
function feed(name: string, b: Uint8Array, chunk: number, size?: number) {
  const calls: EarlyVerdict[] = [];
  const ins = createInspector({ fileName: name, size, onEarlyVerdict: (v) => calls.push(v) });
  const seen: Array<EarlyVerdict | null> = [];
  for (let i = 0; i < b.length; i += chunk) {
    ins.write(b.subarray(i, i + chunk));
    seen.push(ins.early());
  }
  return { ins, seen, calls };
}

describe("sniffFile", () => {
  it("says what a clear non-model is", () => {
    expect(sniffBytes("model.h5", fixture("not_a_model.h5"))).toEqual({
      kind: "not_a_model",
      what: "a PNG image",
      message: "This is a PNG image, not a model file.",
    });
    expect(sniffBytes("x.bin", te.encode("<!doctype html><html><body>hi</body></html>"))).toMatchObject({ what: "an HTML page" });
    expect(sniffBytes("x.pt", new Uint8Array(0))).toMatchObject({ kind: "not_a_model", what: "an empty file" });
    expect(sniffBytes("x.joblib", bytes([0x28, 0xb5, 0x2f, 0xfd], new Uint8Array(64)))).toMatchObject({
      kind: "not_a_model",
      what: "a zstd-compressed file",
    });
  });

  it("refuses unidentified bytes only under a name that promises a format", () => {
    const rnd = prng(7);
    const junk = Uint8Array.from({ length: 8192 }, () => Math.floor(rnd() * 256));
    junk[0] = 0xf7; // no signature starts with it
    for (const name of ["m.pt", "m.pth", "m.ckpt", "m.pkl", "m.safetensors", "m.onnx", "m.gguf", "m.npy", "m.tflite", "m.zip"])
      expect(sniffBytes(name, junk).kind, name).toBe("not_a_model");
    for (const name of ["pytorch_model.bin", "saved_model.pb", "m.mlmodel", "m.model", "weights.dat", "noext"])
      expect(sniffBytes(name, junk), name).toEqual({ kind: "unknown", label: "binary data" });
    expect(sniffBytes("m.pt", junk)).toMatchObject({ message: expect.stringContaining("The name says .pt, a PyTorch checkpoint") });
  });

  it("names model formats from their first bytes", () => {
    expect(sniffBytes("a.bin", fixture("sentiment_analysis_v1.2.1.pt"))).toMatchObject({
      kind: "model",
      format: "zip",
      label: "a PyTorch checkpoint (zip)",
    });
    expect(sniffBytes("a.bin", fixture("credit_risk_v2.1.pkl"))).toMatchObject({ kind: "model", format: "pickle" });
    expect(sniffBytes("a", fixture("tiny_llama.gguf"))).toMatchObject({ kind: "model", format: "gguf" });
    const f = (n: string) => new Uint8Array(fs.readFileSync(path.join(FORMATS, "files", n)));
    expect(sniffBytes("a", f("tiny_classifier.tflite"))).toMatchObject({ kind: "model", format: "tflite" });
    expect(sniffBytes("a", f("tiny_regressor.mlmodel"))).toMatchObject({ kind: "model", format: "coreml" });
    expect(sniffBytes("a", f("saved_model.pb"))).toMatchObject({ kind: "model", format: "tf-savedmodel" });
    expect(sniffBytes("a", f("frozen_graph.pb"))).toMatchObject({ kind: "model", format: "tf-graphdef" });
    expect(sniffBytes("a", fixture("churn_model_v1.onnx"))).toMatchObject({ kind: "model", format: "onnx" });
  });

  it("reads only the first SNIFF_BYTES, so a longer head cannot change the answer", () => {
    for (const { file, full } of corpus) {
      const b = new Uint8Array(fs.readFileSync(full));
      expect(sniffFile(file, b.subarray(0, SNIFF_HEAD_BYTES), b.length), file).toEqual(
        sniffFile(file, b.subarray(0, SNIFF_BYTES), b.length),
      );
    }
  });

  it("imports nothing a browser lacks (no node: modules, no Buffer, no process)", () => {
    const seen = new Set<string>();
    const visit = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      const src = fs.readFileSync(file, "utf8");
      expect(src, file).not.toMatch(/from\s+["'](node:|fs|path|crypto|stream|zlib|buffer)["']/);
      expect(src.replace(/\/\/.*$|\/\*[\s\S]*?\*\//gm, ""), file).not.toMatch(/(?<![\w."'])(Buffer\.|process\.|require\()/);
      for (const m of src.matchAll(/^import\s+(?!type\b)[^;]*?from\s+["'](\.[^"']+)["']/gm))
        visit(path.resolve(path.dirname(file), `${m[1]}.ts`));
    };
    visit(path.join(import.meta.dirname, "sniff.ts"));
    expect(seen.size).toBeGreaterThan(3);
  });
});

describe("sniffFile agrees with the full inspection", () => {
  it.each(corpus.map((c) => [c.file, c] as const))("%s", async (_n, { file, full }) => {
    const b = new Uint8Array(fs.readFileSync(full));
    const s = sniffBytes(file, b);
    const r = await inspectFile(full, file);
    // nothing refused early is accepted in full, and nothing accepted in full is refused early; the one
    // exception is stricter, not looser: a zip hidden behind a non-model start, which the full
    // inspection calls dangerous (stored quarantined) and the first bytes refuse outright
    if (s.kind === "not_a_model" && r.verdict !== "invalid") expect(hidesZip(r.verdict, r.findings)).toBe(true);
    if (r.verdict === "safe" || r.verdict === "suspicious") expect(s.kind).not.toBe("not_a_model");
    const e = formats.find((f) => f.file === file);
    if (e) expect(s.kind === "not_a_model").toBe(e.refused_early);
  });

  it("on random and signature-prefixed junk under model names (property)", async () => {
    const rnd = prng(1515);
    const prefixes = [
      [0x80, 0x02],
      [0x89, 0x50, 0x4e, 0x47],
      [0x50, 0x4b, 0x03, 0x04],
      [0x08, 0x01, 0x12],
      [0x0a, 0x08],
      [0x7b],
      [0x28],
      [0xff, 0xd8, 0xff],
      [0x25, 0x50, 0x44, 0x46],
      [],
      [],
      [],
    ];
    const names = ["m.pt", "m.bin", "m.pkl", "m.onnx", "m.json", "m.pb", "m.mlmodel", "m.zip", "m", "m.safetensors"];
    for (let k = 0; k < 150; k++) {
      const len = 1 + Math.floor(rnd() * 6000);
      const junk = Uint8Array.from({ length: len }, () => Math.floor(rnd() * 256));
      const b = concat(Uint8Array.from(prefixes[Math.floor(rnd() * prefixes.length)]!), junk);
      const name = names[Math.floor(rnd() * names.length)]!;
      const s = sniffBytes(name, b);
      const r = await inspectBytes(b, name, 997, b.length);
      if (s.kind === "not_a_model" && r.verdict !== "invalid") expect(hidesZip(r.verdict, r.findings), `${name} #${k}`).toBe(true);
    }
  });
});

describe("createInspector().early()", () => {
  const junk = new Uint8Array(fs.readFileSync(path.join(FORMATS, "files/random_bytes.pt")));

  it("refuses random bytes named .pt once the first 4 KiB are in, and says so once", () => {
    const { seen, calls, ins } = feed("model.pt", junk, 1024);
    expect(seen.slice(0, 3)).toEqual([null, null, null]);
    expect(seen[3]).toMatchObject({ verdict: "invalid", code: "not-a-model", what: "unrecognised binary data" });
    expect(seen.slice(4).every((v) => v === seen[3])).toBe(true);
    expect(calls).toHaveLength(1);
    expect(ins.early()).toBe(calls[0]);
  });

  it("refuses an image after the first chunk, and end() agrees", async () => {
    const png = fixture("not_a_model.h5");
    const { seen, ins } = feed("model.h5", png, 64 * 1024, png.length);
    expect(seen[0]).toEqual({
      verdict: "invalid",
      code: "not-a-model",
      what: "a PNG image",
      message: "This is a PNG image, not a model file.",
    });
    const r = await ins.end();
    expect(r.verdict).toBe("invalid");
    expect(r.findings.map((f) => f.message)).toContain("This is a PNG image, not a model file.");
  });

  it("stays silent for models, archives and unknown-but-acceptable content", async () => {
    for (const [name, b] of [
      ["credit_risk_v2.1.pkl", fixture("credit_risk_v2.1.pkl")],
      ["sentiment.pt", fixture("sentiment_analysis_v1.2.1.pt")],
      ["weights.bin", junk],
    ] as const) {
      const { seen, calls, ins } = feed(name, b, 1000, b.length);
      expect(
        seen.every((v) => v === null),
        name,
      ).toBe(true);
      expect(calls).toEqual([]);
      expect((await ins.end()).verdict, name).not.toBe("invalid");
    }
  });

  it("decides a file smaller than 4 KiB from its only chunk when the size is known, and an empty one before any", () => {
    const html = te.encode("<html><body>hello</body></html>");
    expect(feed("m.onnx", html, 4096, html.length).seen).toEqual([expect.objectContaining({ what: "an HTML page" })]);
    expect(feed("m.onnx", html, 4096).seen).toEqual([null]);
    expect(createInspector({ fileName: "m.pkl", size: 0 }).early()).toMatchObject({ what: "an empty file" });
  });

  it("answers what sniffFile answers, for every file of the corpora", () => {
    for (const { file, full } of corpus) {
      const b = new Uint8Array(fs.readFileSync(full));
      const { ins } = feed(file, b, 64 * 1024, b.length);
      const s = sniffBytes(file, b);
      expect(ins.early(), file).toEqual(
        s.kind === "not_a_model" ? { verdict: "invalid", code: "not-a-model", what: s.what, message: s.message } : null,
      );
    }
  });
});
