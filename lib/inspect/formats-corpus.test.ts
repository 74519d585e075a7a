import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { inspectFile } from "./inspect";
import { TextSecretScanner } from "./formats/unknown";
import { inspectBytes, inspectStored } from "./test-support";
import type { InspectionResult } from "./types";

/**
 * test/fixtures/formats (built by its generate.py): formats identified by content (TFLite, Core ML,
 * TensorFlow protobufs, NumPy, plain archives) and files that must be refused for what they are.
 * Each is judged as its manifest says from disk, in 7-byte chunks without size or random access,
 * and in 64 KiB chunks with random access.
 */

const DIR = path.resolve(process.cwd(), "test/fixtures/formats");
const manifest = JSON.parse(fs.readFileSync(path.join(DIR, "MANIFEST.json"), "utf8")) as Array<{
  file: string;
  expected_verdict: string;
  format: string;
}>;
const read = (f: string) => new Uint8Array(fs.readFileSync(path.join(DIR, "files", f)));
const check = (r: InspectionResult, e: (typeof manifest)[number]) =>
  expect({ verdict: r.verdict, format: r.format }).toEqual({ verdict: e.expected_verdict, format: e.format });

describe("formats corpus", () => {
  it.each(manifest.map((e) => [e.file, e] as const))("%s from disk", async (_n, e) =>
    check(await inspectFile(path.join(DIR, "files", e.file)), e),
  );
  it.each(manifest.map((e) => [e.file, e] as const))("%s in 7-byte chunks", async (_n, e) =>
    check(await inspectBytes(read(e.file), e.file, 7), e),
  );
  it.each(manifest.map((e) => [e.file, e] as const))("%s stored", async (_n, e) => check(await inspectStored(read(e.file), e.file), e));

  it("every file in files/ is in the manifest", () => {
    expect(fs.readdirSync(path.join(DIR, "files")).sort()).toEqual(manifest.map((e) => e.file).sort());
  });
});

describe("metadata of the formats read by content", () => {
  const get = (f: string) => inspectFile(path.join(DIR, "files", f));

  it("tflite: description, ops, inputs and outputs, parameter count", async () => {
    const r = await get("tiny_classifier.tflite");
    expect(r.framework).toBe("tensorflow-lite");
    expect(r.metadata).toMatchObject({
      schemaVersion: 3,
      description: "fairmind tiny classifier (4 features -> 3 classes)",
      subgraphs: 1,
      tensorCount: 5,
      operatorCount: 2,
      parameterCount: 15,
      inputs: [{ name: "features", type: "float32", shape: [1, 4] }],
      outputs: [{ name: "probabilities", type: "float32", shape: [1, 3] }],
      metadata: ["min_runtime_version"],
    });
    const evil = await get("flex_readfile.tflite");
    expect(evil.findings.map((f) => f.code)).toContain("tflite-dangerous-op");
  });

  it("core ml: version, type, features, author and license", async () => {
    const r = await get("tiny_regressor.mlmodel");
    expect(r.metadata).toMatchObject({
      specificationVersion: 4,
      modelType: "glmRegressor",
      inputs: [{ name: "features", type: "multiArray" }],
      outputs: [{ name: "score", type: "double" }],
      author: "FairMind ML",
      license: "Apache-2.0",
      userDefined: { training_run: "run-42" },
    });
    expect((await get("custom_model.mlmodel")).findings.map((f) => f.code)).toContain("coreml-custom-model");
  });

  it("savedmodel and graphdef: tags, signatures, ops; file ops are dangerous", async () => {
    const r = await get("saved_model.pb");
    expect(r.metadata).toMatchObject({
      tags: ["serve"],
      tensorflowVersion: "2.15.0",
      nodeCount: 4,
      operators: { Placeholder: 1, Const: 1, MatMul: 1, Identity: 1 },
      signatures: [
        {
          name: "serving_default",
          method: "tensorflow/serving/predict",
          inputs: [{ key: "features", name: "features:0", dtype: "float32", shape: ["?", 4] }],
          outputs: [{ key: "scores", name: "scores:0", dtype: "float32", shape: ["?", 3] }],
        },
      ],
    });
    const evil = await get("saved_model_readfile.pb");
    expect(evil.findings).toContainEqual(expect.objectContaining({ code: "tf-dangerous-op", location: "secrets/read" }));
    expect((await get("frozen_graph.pb")).metadata).toMatchObject({ nodeCount: 4 });
  });

  it("archives list what their members are; text is scanned for credentials", async () => {
    expect((await get("two_models.tar")).metadata).toMatchObject({ archive: "tar", memberKinds: { pickle: 2 } });
    const zip = await get("bundle_with_readme.zip");
    expect(zip.findings.map((f) => f.code)).toContain("archive-unidentified-members");
    const env = await get("deploy.env.txt");
    expect(env.findings).toContainEqual(expect.objectContaining({ code: "secret-aws-access-key-id", location: "line 3" }));
    expect(JSON.stringify(env)).not.toContain("Q3EGRTZB7HXN4KPW");
  });
});

describe("the credential scan of unknown text", () => {
  it("finds keys on KEY=value lines, in free text, and in lines longer than its window, whatever the chunking", () => {
    const token = "ghp_" + "Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4zAB7c";
    const text = `a: 1\nGITHUB_TOKEN="${token}"\nsee ${token} here\n${"x ".repeat(50_000)}${token}\n`;
    const bytes = new TextEncoder().encode(text);
    for (const chunk of [1, 7, 4096, bytes.length]) {
      const hits: Array<[string | null, number]> = [];
      const s = new TextSecretScanner((key, value, line) => {
        if (value.includes(token)) hits.push([key, line]);
      });
      for (let i = 0; i < bytes.length; i += chunk) s.write(bytes.subarray(i, i + chunk));
      s.end();
      expect(hits.map(([, line]) => line)).toEqual([2, 3, 4]);
      expect(hits[0]![0]).toBe("GITHUB_TOKEN");
    }
  });
});
