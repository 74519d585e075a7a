import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { prng } from "../test-support";
import { MAX_FILES } from "./files";
import { findModelCard, inspectLayout, type LayoutFile, type ReadFileRange } from "./inspect-layout";

const FOLDERS = path.resolve(process.cwd(), "test/fixtures/folders");
const te = new TextEncoder();

/** An in-memory version: path -> bytes, with a reader that records what it was asked for. */
function version(entries: Record<string, Uint8Array | string>, prefix = "") {
  const bytes = new Map(Object.entries(entries).map(([p, b]) => [prefix + p, typeof b === "string" ? te.encode(b) : b]));
  const reads: Array<[string, number, number]> = [];
  const files: LayoutFile[] = [...bytes].map(([p, b]) => ({ path: p, size: b.length }));
  const read: ReadFileRange = async (p, start, end) => {
    reads.push([p, start, end]);
    const b = bytes.get(p);
    if (!b) throw new Error(`no such file ${p}`);
    return b.slice(start, end);
  };
  return { files, read, reads, bytes };
}

function folder(name: string): Record<string, Uint8Array> {
  const dir = path.join(FOLDERS, name);
  return Object.fromEntries(fs.readdirSync(dir).map((f) => [f, new Uint8Array(fs.readFileSync(path.join(dir, f)))]));
}

/** A safetensors file: u64 LE header length, JSON header, tensor bytes (float32). */
function safetensors(tensors: Record<string, number[]>, headerOverride?: string): Uint8Array {
  const header: Record<string, unknown> = {};
  let off = 0;
  for (const [name, shape] of Object.entries(tensors)) {
    const n = shape.reduce((a, b) => a * b, 1) * 4;
    header[name] = { dtype: "F32", shape, data_offsets: [off, off + n] };
    off += n;
  }
  const h = te.encode(headerOverride ?? JSON.stringify(header));
  const out = new Uint8Array(8 + h.length + off);
  new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
  out.set(h, 8);
  return out;
}

const invalid = (r: { problems: Array<{ severity: string; message: string; path?: string }> }) =>
  r.problems.filter((p) => p.severity === "invalid");

describe("transformers folders", () => {
  it("tiny-transformers: architecture, dtype, parameter count from the shard headers, tokenizer, card", async () => {
    const v = version(folder("tiny-transformers"));
    const r = await inspectLayout(v.files, v.read);
    expect(r.layout).toBe("transformers");
    expect(r.problems).toEqual([]);
    expect(r.details).toMatchObject({
      architectures: ["LlamaForCausalLM"],
      modelType: "llama",
      dtype: "float32",
      vocabSize: 128,
      hiddenSize: 16,
      layers: 2,
      card: "README.md",
      weights: {
        format: "safetensors",
        sharded: true,
        files: ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"],
        tensorCount: 21,
        parameterCount: 12_368,
        totalSize: 12_368 * 4,
        dtypes: { F32: 12_368 },
      },
      tokenizer: { class: "LlamaTokenizerFast", modelMaxLength: 256, chatTemplate: true },
      generationConfig: { max_new_tokens: 64, temperature: 0.7 },
    });
    expect((r.details.tokenizer as { files: string[] }).files).toEqual([
      "tokenizer.json",
      "tokenizer_config.json",
      "special_tokens_map.json",
    ]);
    expect((r.details.companions as string[]).sort()).toEqual(
      v.files
        .map((f) => f.path)
        .filter((p) => !p.endsWith(".safetensors"))
        .sort(),
    );
    // only the 8-byte length and the JSON header of each shard were read, never tensor data
    for (const [p, start, end] of v.reads.filter(([p]) => p.endsWith(".safetensors"))) {
      const len = Number(new DataView(v.bytes.get(p)!.buffer).getBigUint64(0, true));
      expect(start === 0 ? end : end - start).toBeLessThanOrEqual(start === 0 ? 8 : len);
    }
  });

  it("a dropped folder's own name is stripped, and kept in the paths it reports", async () => {
    const v = version(folder("tiny-transformers-missing-shard"), "tiny-transformers-missing-shard/");
    const r = await inspectLayout(v.files, v.read);
    expect(r.details).toMatchObject({ root: "tiny-transformers-missing-shard", card: "tiny-transformers-missing-shard/README.md" });
    expect(invalid(r)).toEqual([
      {
        path: "tiny-transformers-missing-shard/model.safetensors.index.json",
        severity: "invalid",
        message: expect.stringContaining(
          "names shard tiny-transformers-missing-shard/model-00002-of-00002.safetensors (11 tensors), which is missing",
        ),
      },
    ]);
    expect(r.details.weights).toMatchObject({
      parameterCount: null,
      missingShards: ["tiny-transformers-missing-shard/model-00002-of-00002.safetensors"],
    });
  });

  it("an index that places a tensor in a shard without it makes the version invalid", async () => {
    const files = folder("tiny-transformers");
    const index = JSON.parse(new TextDecoder().decode(files["model.safetensors.index.json"]));
    index.weight_map["model.norm.weight"] = "model-00001-of-00002.safetensors";
    files["model.safetensors.index.json"] = te.encode(JSON.stringify(index));
    const v = version(files);
    const r = await inspectLayout(v.files, v.read);
    expect(invalid(r)).toEqual([
      { path: "model-00001-of-00002.safetensors", severity: "invalid", message: expect.stringContaining("model.norm.weight") },
    ]);
    expect(r.problems).toContainEqual(expect.objectContaining({ severity: "warning", path: "model-00002-of-00002.safetensors" }));
  });

  it("a single model.safetensors gives the parameter count; auto_map is a warning", async () => {
    const v = version({
      "config.json": JSON.stringify({ architectures: ["BertModel"], model_type: "bert", auto_map: { AutoModel: "modeling.Bert" } }),
      "model.safetensors": safetensors({ "embeddings.weight": [10, 4], bias: [4] }),
      "vocab.txt": "[PAD]\n[UNK]\n",
    });
    const r = await inspectLayout(v.files, v.read);
    expect(r.details).toMatchObject({ weights: { format: "safetensors", parameterCount: 44 }, tokenizer: { files: ["vocab.txt"] } });
    expect(r.problems).toEqual([expect.objectContaining({ severity: "warning", message: expect.stringContaining("trust_remote_code") })]);
  });
});

describe("MLflow models", () => {
  it("tiny-mlflow: flavors, signature, ids, environment", async () => {
    const v = version(folder("tiny-mlflow"));
    const r = await inspectLayout(v.files, v.read);
    expect(r.layout).toBe("mlflow");
    expect(r.problems).toEqual([]);
    expect(r.details).toMatchObject({
      flavors: {
        python_function: { loader_module: "mlflow.sklearn", model_path: "model.pkl", python_version: "3.11.2" },
        sklearn: { pickled_model: "model.pkl", serialization_format: "cloudpickle", sklearn_version: "1.2.1" },
      },
      runId: "8d1e5b7c2a9f4c3e9b0d6a1f5e2c7b48",
      modelUuid: "3f6c2a9e1b7d4e0c8a5f9d2b6e1c4a70",
      mlflowVersion: "2.12.1",
      environment: { "conda.yaml": true, "requirements.txt": true, "python_env.yaml": true },
      signature: { outputs: [{ name: null, type: "tensor", dtype: "int64", shape: [-1] }] },
    });
    expect((r.details.signature as { inputs: Array<{ name: string; type: string }> }).inputs.map((c) => `${c.name}:${c.type}`)).toEqual([
      "income:double",
      "debt_ratio:double",
      "age:double",
      "credit_lines:double",
      "delinquencies_2y:double",
      "employment_years:double",
    ]);
    expect(r.details.card).toBeUndefined();
    expect(r.details.companions).toEqual(["MLmodel", "conda.yaml", "python_env.yaml", "requirements.txt"]);
  });

  it("a missing artifact is invalid; requirements from outside the index and a missing env file are warnings", async () => {
    const files: Record<string, Uint8Array | string> = folder("tiny-mlflow");
    delete files["model.pkl"];
    delete files["conda.yaml"];
    files["requirements.txt"] =
      "scikit-learn==1.2.1\ngit+https://example.invalid/evil/pkg.git\n--extra-index-url https://example.invalid/simple\n";
    const v = version(files);
    const r = await inspectLayout(v.files, v.read);
    expect(invalid(r).map((p) => p.message)).toEqual([
      expect.stringContaining("python_function needs model_path model.pkl"),
      expect.stringContaining("sklearn needs pickled_model model.pkl"),
    ]);
    expect(r.problems.filter((p) => p.severity === "warning").map((p) => p.path)).toEqual(["MLmodel", "requirements.txt"]);
  });

  it("YAML is parsed safely: no custom tags, no alias bombs, paths cannot leave the model", async () => {
    const bomb = [
      "a: &a [x, x, x, x, x, x, x, x, x]",
      ..."bcdefghij".split("").map((c, i) => `${c}: &${c} [*${"abcdefghij"[i]}, *${"abcdefghij"[i]}, *${"abcdefghij"[i]}]`),
    ].join("\n");
    for (const text of [
      bomb,
      "flavors: !!python/object/apply:os.system ['echo pwned']\n",
      "flavors:\n  python_function:\n    model_path: ../../etc/passwd\n",
      ": : :\n\t- [",
    ]) {
      const v = version({ MLmodel: text });
      const r = await inspectLayout(v.files, v.read);
      expect(r.layout).toBe("mlflow");
      expect(invalid(r).length).toBeGreaterThan(0);
    }
  });
});

describe("sentence-transformers and diffusers", () => {
  it("sentence-transformers: modules, pooling, the transformer at the root", async () => {
    const v = version({
      "modules.json": JSON.stringify([
        { idx: 0, name: "0", path: "", type: "sentence_transformers.models.Transformer" },
        { idx: 1, name: "1", path: "1_Pooling", type: "sentence_transformers.models.Pooling" },
        { idx: 2, name: "2", path: "2_Normalize", type: "sentence_transformers.models.Normalize" },
      ]),
      "sentence_bert_config.json": JSON.stringify({ max_seq_length: 256, do_lower_case: false }),
      "1_Pooling/config.json": JSON.stringify({
        word_embedding_dimension: 4,
        pooling_mode_mean_tokens: true,
        pooling_mode_cls_token: false,
      }),
      "config.json": JSON.stringify({ architectures: ["BertModel"], model_type: "bert", hidden_size: 4 }),
      "model.safetensors": safetensors({ w: [3, 4] }),
      "tokenizer.json": "{}",
    });
    const r = await inspectLayout(v.files, v.read);
    expect(r.layout).toBe("sentence-transformers");
    expect(invalid(r)).toEqual([expect.objectContaining({ message: expect.stringContaining("2_Normalize") })]);
    expect(r.details).toMatchObject({
      maxSeqLength: 256,
      poolingMode: ["mean_tokens"],
      embeddingDimension: 4,
      transformer: { modelType: "bert", weights: { parameterCount: 12 } },
    });
  });

  it("diffusers: pipeline class and components; a missing component folder is invalid", async () => {
    const v = version({
      "model_index.json": JSON.stringify({
        _class_name: "StableDiffusionPipeline",
        _diffusers_version: "0.27.2",
        unet: ["diffusers", "UNet2DConditionModel"],
        vae: ["diffusers", "AutoencoderKL"],
        safety_checker: [null, null],
      }),
      "unet/config.json": JSON.stringify({ sample_size: 64 }),
      "unet/diffusion_pytorch_model.safetensors": safetensors({ w: [2] }),
    });
    const r = await inspectLayout(v.files, v.read);
    expect(r.details).toMatchObject({
      pipeline: "StableDiffusionPipeline",
      diffusersVersion: "0.27.2",
      sampleSize: 64,
      components: { unet: "diffusers.UNet2DConditionModel", vae: "diffusers.AutoencoderKL", safety_checker: null },
    });
    expect(invalid(r)).toEqual([expect.objectContaining({ message: expect.stringContaining("component vae") })]);
  });
});

describe("other layouts and the model card", () => {
  it("onnx, a lone safetensors index, one file, nothing known", async () => {
    const onnx = version({ "model.onnx": "x", "model.onnx.data": "y" });
    expect(await inspectLayout(onnx.files, onnx.read)).toMatchObject({
      layout: "onnx",
      details: { models: ["model.onnx"], otherFiles: 1 },
    });
    const one = version({ "w.safetensors": safetensors({ a: [2, 2] }) });
    expect(await inspectLayout(one.files, one.read)).toMatchObject({
      layout: "single-file",
      details: { safetensors: { parameterCount: 4 } },
    });
    const sharded = version({
      "model.safetensors.index.json": JSON.stringify({ weight_map: { a: "s.safetensors" } }),
      "s.safetensors": safetensors({ a: [3] }),
    });
    expect(await inspectLayout(sharded.files, sharded.read)).toMatchObject({
      layout: "safetensors-sharded",
      details: { parameterCount: 3 },
      problems: [],
    });
    const other = version({ "a.txt": "a", "b.txt": "b" });
    expect(await inspectLayout(other.files, other.read)).toMatchObject({ layout: "unknown", problems: [] });
  });

  it("picks README.md at the root, whatever its case, never a nested one", () => {
    expect(
      findModelCard([
        { path: "docs/README.md", size: 1 },
        { path: "readme.MD", size: 1 },
      ]),
    ).toBe("readme.MD");
    expect(
      findModelCard([
        { path: "docs/README.md", size: 1 },
        { path: "config.json", size: 1 },
      ]),
    ).toBeNull();
    expect(
      findModelCard([
        { path: "m/README.md", size: 1 },
        { path: "m/config.json", size: 1 },
      ]),
    ).toBe("m/README.md");
  });
});

describe("hostile input: problems, never exceptions", () => {
  it("bad paths, duplicates, sizes and too many files", async () => {
    const read: ReadFileRange = async () => new Uint8Array(0);
    const r = await inspectLayout(
      [
        { path: "../etc/passwd", size: 1 },
        { path: "/abs", size: 1 },
        { path: "a\\b", size: 1 },
        { path: "ok.bin", size: -1 },
        { path: "x.bin", size: 1 },
        { path: "x.bin", size: 1 },
        null as unknown as LayoutFile,
      ],
      read,
    );
    expect(invalid(r).map((p) => p.message)).toEqual([
      "empty, '.' or '..' path segment",
      "absolute path",
      "backslash in the path",
      "size -1 is not a byte count",
      "listed twice",
      "not a file entry",
    ]);
    const many = Array.from({ length: MAX_FILES + 1 }, (_, i) => ({ path: `f${i}`, size: 1 }));
    expect(await inspectLayout(many, read)).toMatchObject({ layout: "unknown", problems: [{ severity: "invalid" }] });
  });

  it("absurd safetensors header lengths are refused without reading them; failing reads are warnings", async () => {
    const huge = new Uint8Array(64);
    new DataView(huge.buffer).setBigUint64(0, 1n << 60n, true);
    const v = version({ "config.json": JSON.stringify({ model_type: "gpt2" }), "model.safetensors": huge });
    const r = await inspectLayout(v.files, v.read);
    expect(invalid(r)).toEqual([expect.objectContaining({ path: "model.safetensors", message: expect.stringContaining("absurd") })]);
    expect(v.reads.filter(([p]) => p === "model.safetensors")).toEqual([["model.safetensors", 0, 8]]);
    const failing: ReadFileRange = async () => {
      throw new Error("storage is down");
    };
    const f = await inspectLayout([{ path: "config.json", size: 10 }], failing);
    expect(f.problems).toEqual([expect.objectContaining({ severity: "warning", message: "could not be read: storage is down" })]);
    const big = await inspectLayout([{ path: "config.json", size: 2 * 1024 * 1024 }], failing);
    expect(big.problems[0]?.message).toContain("was not read");
  });

  it("mutated fixture folders never throw and stay bounded (property)", async () => {
    const rnd = prng(1313);
    const sources = [folder("tiny-transformers"), folder("tiny-mlflow")];
    for (let k = 0; k < 120; k++) {
      const files = { ...sources[k % 2]! };
      const names = Object.keys(files);
      for (let m = 0; m < 1 + Math.floor(rnd() * 3); m++) {
        const name = names[Math.floor(rnd() * names.length)]!;
        const b = files[name]!.slice(0, name.endsWith(".safetensors") ? 4096 : undefined);
        const at = Math.floor(rnd() * Math.min(b.length, 2048));
        if (rnd() < 0.3) files[name] = b.subarray(0, at);
        else for (let i = 0; i < 4; i++) b[(at + i) % Math.max(b.length, 1)] = Math.floor(rnd() * 256);
        if (rnd() >= 0.3) files[name] = b;
      }
      const v = version(files);
      const t0 = performance.now();
      const r = await inspectLayout(v.files, v.read);
      expect(performance.now() - t0).toBeLessThan(1000);
      expect(r.problems.length).toBeLessThanOrEqual(200);
      expect(JSON.stringify(r).length).toBeLessThan(256 * 1024);
    }
  });
});
