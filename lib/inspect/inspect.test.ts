import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { createInspector, inspectFile } from "./inspect";
import { FIXTURES, fixture, inspectBytes, readManifest, type ManifestEntry } from "./test-support";
import type { InspectionResult } from "./types";

const manifest = readManifest();
const expectedVerdict = (e: ManifestEntry) => (e.expected_scan === "n/a" ? "invalid" : e.expected_scan);

/** "pickle globals: a, b" (or the truncated/malicious phrasings) from a manifest note. */
function notedGlobals(notes: string): string[] | null {
  const m = /(?:pickle globals:|Globals visible before the cut:|Opcode walk finds:)\s*(.*)$/.exec(notes);
  return m
    ? m[1]!
        .replace(/\.$/, "")
        .split(", ")
        .map((s) => s.trim())
    : null;
}

function checkAgainstManifest(r: InspectionResult, e: ManifestEntry) {
  expect({ format: r.format, framework: r.framework, verdict: r.verdict }).toEqual({
    format: e.format,
    framework: e.framework,
    verdict: expectedVerdict(e),
  });
  for (const g of e.dangerous_globals) {
    expect(r.globals).toContainEqual({ name: g, verdict: "dangerous" });
  }
  if (e.dangerous_globals.length === 0) expect(r.globals.filter((g) => g.verdict === "dangerous")).toEqual([]);
}

describe("inspectFile over every fixture in MANIFEST.json", () => {
  it.each(manifest.map((e) => [e.file, e] as const))("%s", async (_name, e) => {
    const r = await inspectFile(path.join(FIXTURES, e.file));
    checkAgainstManifest(r, e);
    const noted = notedGlobals(e.notes);
    if (noted) expect(r.globals.map((g) => g.name).sort()).toEqual([...noted].sort());
    if (e.expected_scan === "safe") expect(r.globals.every((g) => g.verdict === "safe")).toBe(true);
    expect(r.extensionMismatch).toBe(e.file === "mislabeled_model.pkl" || e.file === "not_a_model.h5");
    expect(JSON.stringify(r).length).toBeLessThan(64 * 1024);
    expect(r.contentType).toMatch(/^[a-z]+\/[a-z0-9.+-]+/);
  });
});

// The streaming path (7-byte chunks, no size, no readRange) agrees on every fixture: HDF5 metadata is read
// from the head buffer (all fixtures are far below its 4 MiB) and zip members from the local headers.
describe("streaming createInspector in 7-byte chunks without readRange", () => {
  it.each(manifest.map((e) => [e.file, e] as const))("%s", async (_name, e) => {
    const r = await inspectBytes(fixture(e.file), e.file, 7);
    checkAgainstManifest(r, e);
  });
});

// What an upload really feeds: Node Buffers (64 KiB stream chunks, or the whole file at once) with
// size and readRange, as ModelStorage does. Buffers' slice() is a view, which once broke parsers.
describe.each([65536, Number.MAX_SAFE_INTEGER])("createInspector fed Node Buffers of %d bytes with readRange", (chunkSize) => {
  it.each(manifest.map((e) => [e.file, e] as const))("%s", async (_name, e) => {
    const buf = fs.readFileSync(path.join(FIXTURES, e.file));
    const ins = createInspector({ fileName: e.file, size: buf.length, readRange: async (s, end) => buf.subarray(s, end) });
    for (let i = 0; i < buf.length; i += chunkSize) ins.write(buf.subarray(i, i + chunkSize));
    checkAgainstManifest(await ins.end(), e);
  });
});

describe("metadata extracted per format", () => {
  const get = (f: string) => inspectFile(path.join(FIXTURES, f));

  it("pickle: top-level class, sklearn version, feature names, protocol", async () => {
    const r = await get("credit_risk_v2.1.pkl");
    expect(r.metadata).toMatchObject({
      topLevelClass: "sklearn.pipeline.Pipeline",
      libraryVersions: { sklearn: "1.2.1" },
      protocol: 4,
      featureNames: ["income", "debt_ratio", "age", "credit_lines", "delinquencies_2y", "employment_years"],
    });
  });

  it("joblib: arrays stepped over", async () => {
    const r = await get("customer_segmentation_v1.0.pkl");
    expect(r.metadata).toMatchObject({ topLevelClass: "sklearn.cluster._kmeans.KMeans", joblibArrays: 2 });
  });

  it("pytorch zip and legacy: tensor names, dtypes, shapes, parameter count", async () => {
    for (const f of ["sentiment_analysis_v1.2.1.pt", "sentiment_legacy.pt", "sentiment_full_model.pt"]) {
      const r = await get(f);
      expect(r.metadata.parameterCount).toBe(500 * 32 + 16 * 32 + 16 + 3 * 16 + 3);
      expect(r.metadata.tensors).toContainEqual({ name: "fc1.weight", dtype: "float32", shape: [16, 32] });
    }
  });

  it("keras: version, backend, layers, parameter count from weight shapes", async () => {
    const r = await get("fraud_detection_v1.5.2.h5");
    expect(r.metadata).toMatchObject({
      kerasVersion: "2.10.0",
      backend: "tensorflow",
      modelClass: "Sequential",
      parameterCount: 30 * 32 + 32 + 32 * 16 + 16 + 16 + 1,
    });
    expect((r.metadata.layers as Array<{ className: string }>).map((l) => l.className)).toEqual([
      "InputLayer",
      "Dense",
      "Dropout",
      "Dense",
      "Dense",
    ]);
    const w = await get("hiring_assistant_v2.2.h5");
    expect(w.metadata).toMatchObject({ layout: "weights-only", parameterCount: 12 * 24 + 24 + 24 * 12 + 12 + 12 + 1 });
  });

  it("xgboost (binary, json, ubj): trees, objective, features", async () => {
    for (const f of ["loan_approval_v3.0.xgb", "loan_approval_v3.0.json", "loan_approval_v3.0.ubj"]) {
      const r = await get(f);
      expect(r.metadata).toMatchObject({ numTrees: 25, objective: "binary:logistic", numFeatures: 7 });
    }
    expect((await get("loan_approval_v3.0.json")).metadata.featureNames).toContain("credit_score");
  });

  it("lightgbm: objective, trees, feature names", async () => {
    const r = await get("churn_model_v1.lgb");
    expect(r.metadata).toMatchObject({ numTrees: 3, numFeatures: 6, objective: "binary sigmoid:1" });
    expect(r.metadata.featureNames).toContain("tenure_months");
  });

  it("safetensors: tensors, dtypes, parameter count, __metadata__", async () => {
    const r = await get("tiny_encoder.safetensors");
    expect(r.metadata).toMatchObject({
      tensorCount: 6,
      parameterCount: 64 * 16 + 16 + 32 + 256 + 16 + 256,
      metadata: { format: "pt", model_type: "bert" },
    });
  });

  it("onnx: IR version, opset, producer, inputs and outputs", async () => {
    const r = await get("churn_model_v1.onnx");
    expect(r.metadata).toMatchObject({
      irVersion: 7,
      opset: 13,
      producerName: "fairmind-ml",
      inputs: [{ name: "features", elemType: "float32", shape: ["batch", 6] }],
      outputs: [{ name: "churn_probability", elemType: "float32", shape: ["batch", 1] }],
    });
  });

  it("gguf: architecture, context length, quantization, parameter count", async () => {
    const r = await get("tiny_llama.gguf");
    expect(r.metadata).toMatchObject({ architecture: "llama", contextLength: 256, quantization: "F16", tensorCount: 12 });
    expect(r.metadata.parameterCount).toBeGreaterThan(0);
  });

  it("llm and time-series configs", async () => {
    const llm = await get("chatbot_gpt4_finetuned.json");
    expect(llm.metadata).toMatchObject({ provider: "openai", baseModel: "gpt-4-0613", parameters: { temperature: 0.3, max_tokens: 800 } });
    const prophet = await get("inventory_forecast_v1.1.json");
    expect(prophet.metadata).toMatchObject({ prophetVersion: "1.1.5", nChangepoints: 25, seasonalities: ["yearly", "weekly"] });
    const arima = await get("arima_config_v1.0.json");
    expect(arima.metadata).toMatchObject({ order: [2, 1, 1], seasonalOrder: [1, 0, 1, 7] });
  });

  it("never echoes the leaked key", async () => {
    const r = await get("leaky_llm_config.json");
    const secret = "sk-proj-2xXH3qQfICo0kihSIBBpGtpO2peAdy60mryL9I6ZqmKyVNjM";
    const text = JSON.stringify(r);
    expect(text).not.toContain(secret.slice(8, 20));
    expect(r.findings).toContainEqual(
      expect.objectContaining({ severity: "danger", code: "secret-openai-api-key", location: "api.api_key" }),
    );
  });
});
