import zlib from "node:zlib";
import { describe, expect, it } from "vitest";
import { Inflater } from "./codecs/inflate";
import { analyzeKerasConfig } from "./formats/keras-config";
import { Report } from "./report";
import { bytes, concat, fixture, inspectBytes, inspectStored, u32, u64 } from "./test-support";

const te = new TextEncoder();
const u64be = (n: number) => u64(n).reverse();
const u16 = (n: number) => [n & 0xff, (n >> 8) & 0xff];

function localHeader(name: string, opts: { method: number; flags?: number; crc?: number; csize?: number; usize?: number }): Uint8Array {
  const n = te.encode(name);
  return bytes(
    "PK\u0003\u0004",
    u16(20),
    u16(opts.flags ?? 0),
    u16(opts.method),
    u16(0),
    u16(0),
    u32(opts.crc ?? 0),
    u32(opts.csize ?? 0),
    u32(opts.usize ?? 0),
    u16(n.length),
    u16(0),
    n,
  );
}

function centralEntry(name: string, offset: number, opts: { method: number; crc: number; csize: number; usize: number }): Uint8Array {
  const n = te.encode(name);
  return bytes(
    "PK\u0001\u0002",
    u16(20),
    u16(20),
    u16(0),
    u16(opts.method),
    u16(0),
    u16(0),
    u32(opts.crc),
    u32(opts.csize),
    u32(opts.usize),
    u16(n.length),
    u16(0),
    u16(0),
    u16(0),
    u16(0),
    u32(0),
    u32(offset),
    n,
  );
}

function eocd(entries: number, cdSize: number, cdOffset: number): Uint8Array {
  return bytes("PK\u0005\u0006", u16(0), u16(0), u16(entries), u16(entries), u32(cdSize), u32(cdOffset), u16(0));
}

function storedMember(name: string, data: Uint8Array) {
  const crc = zlib.crc32(data);
  return { header: localHeader(name, { method: 0, crc, csize: data.length, usize: data.length }), data, crc };
}

/** A minimal protobuf writer for hand-built ONNX models. */
const varint = (v: number): number[] => {
  const out: number[] = [];
  while (v >= 128) {
    out.push((v % 128) | 128);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return out;
};
const pbInt = (field: number, v: number) => [...varint(field * 8), ...varint(v)];
const pbBytes = (field: number, payload: number[] | string) => {
  const b = typeof payload === "string" ? Array.from(te.encode(payload)) : payload;
  return [...varint(field * 8 + 2), ...varint(b.length), ...b];
};

describe("zip (PyTorch) hostile archives", () => {
  it("a zip-bomb-like deflated data.pkl stops at the inflation cap without allocating it", async () => {
    const head = zlib.deflateRawSync(bytes(0x80, 4, 0x8e, u64(256 * 1024 * 1024)), { finishFlush: zlib.constants.Z_SYNC_FLUSH });
    const zeros = zlib.deflateRawSync(new Uint8Array(1024 * 1024), { finishFlush: zlib.constants.Z_SYNC_FLUSH });
    const tail = zlib.deflateRawSync(bytes(0x2e));
    const deflated = concat(head, ...Array.from({ length: 256 }, () => new Uint8Array(zeros)), tail);
    const zip = concat(
      localHeader("archive/data.pkl", { method: 8, flags: 8 }),
      deflated,
      bytes("PK\u0007\u0008", u32(0), u32(deflated.length), u32(256 * 1024 * 1024 + 12)),
    );
    const before = process.memoryUsage().heapUsed;
    const t0 = performance.now();
    const r = await inspectBytes(zip, "bomb.pt", 64 * 1024);
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(64 * 1024 * 1024);
    expect(r.verdict).not.toBe("safe");
    expect(r.findings.map((f) => f.code)).toContain("zip-bomb");
  });

  it("the inflater itself honours its output cap", () => {
    let out = 0;
    const inf = new Inflater((b) => (out += b.length), 1 << 20);
    inf.push(zlib.deflateRawSync(new Uint8Array(8 << 20)), true);
    expect(inf.error).toMatch(/cap/);
    expect(out).toBeLessThan(2 << 20);
  });

  it("a central-directory entry hidden inside another member is scanned through readRange", async () => {
    const benign = bytes(0x80, 2, 0x4e, 0x2e);
    const evil = fixture("malicious_os_system.pkl");
    const name = "archive/data.pkl";
    const hiddenHeader = localHeader(name, { method: 0, crc: zlib.crc32(evil), csize: evil.length, usize: evil.length });
    const outerData = concat(benign, hiddenHeader, evil);
    const outer = storedMember(name, outerData);
    const hiddenOffset = outer.header.length + benign.length;
    const version = storedMember("archive/version", bytes("3\n"));
    const versionOffset = outer.header.length + outerData.length;
    const body = concat(outer.header, outer.data, version.header, version.data);
    const cd = concat(
      centralEntry(name, hiddenOffset, { method: 0, crc: zlib.crc32(evil), csize: evil.length, usize: evil.length }),
      centralEntry("archive/version", versionOffset, { method: 0, crc: version.crc, csize: 2, usize: 2 }),
    );
    const zip = concat(body, cd, eocd(2, cd.length, body.length));
    const stored = await inspectStored(zip, "model.pt");
    expect(stored.verdict).toBe("dangerous");
    expect(stored.findings.map((f) => f.code)).toContain("zip-hidden-entry");
    // Without random access the hidden member cannot be read, but the file is never called safe.
    const streamed = await inspectBytes(zip, "model.pt", 13);
    expect(streamed.verdict === "suspicious" || streamed.verdict === "dangerous").toBe(true);
    expect(streamed.findings.map((f) => f.code)).toContain("zip-hidden-entry");
  });

  it("a truncated torch zip is invalid", async () => {
    const full = fixture("sentiment_analysis_v1.2.1.pt");
    for (const cut of [100, 700, 30_000, full.length - 30]) {
      expect((await inspectStored(full.subarray(0, cut), "m.pt")).verdict).toBe("invalid");
    }
  });

  it("other .pkl members of a zip are scanned too", async () => {
    const evil = storedMember("bundle/extra/helper.pkl", fixture("malicious_subprocess.pkl"));
    const ok = storedMember("bundle/data.pkl", bytes(0x80, 2, 0x4e, 0x2e));
    const body = concat(ok.header, ok.data, evil.header, evil.data);
    const cd = concat(
      centralEntry("bundle/data.pkl", 0, { method: 0, crc: ok.crc, csize: ok.data.length, usize: ok.data.length }),
      centralEntry("bundle/extra/helper.pkl", ok.header.length + ok.data.length, {
        method: 0,
        crc: evil.crc,
        csize: evil.data.length,
        usize: evil.data.length,
      }),
    );
    const r = await inspectBytes(concat(body, cd, eocd(2, cd.length, body.length)), "m.pt", 5);
    expect(r.format).toBe("pytorch-zip");
    expect(r.globals).toContainEqual({ name: "subprocess.Popen", verdict: "dangerous" });
  });
});

describe("safetensors", () => {
  it("a header length of 10^15 is rejected without reading it, with or without a known size", async () => {
    const b = concat(bytes(u64(10n ** 15n)), te.encode('{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}'), new Uint8Array(4));
    for (const r of [await inspectStored(b, "x.safetensors"), await inspectBytes(b, "x.safetensors", 3)]) {
      expect(r.format).toBe("safetensors");
      expect(r.verdict).toBe("invalid");
      expect(r.findings[0]!.code).toBe("safetensors-header-length");
    }
  });

  it("tensor offsets beyond the data are invalid", async () => {
    const header = te.encode('{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}');
    const b = concat(bytes(u64(header.length)), header, new Uint8Array(8));
    expect((await inspectBytes(b, "x.safetensors", 5)).verdict).toBe("invalid");
  });

  it("a secret in __metadata__ is dangerous", async () => {
    const header = te.encode(
      `{"__metadata__":{"hf_token":"hf_${"aBcDeFgHiJ".repeat(4)}"},"w":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}}`,
    );
    const b = concat(bytes(u64(header.length)), header, new Uint8Array(2));
    const r = await inspectBytes(b, "x.safetensors", 9);
    expect(r.verdict).toBe("dangerous");
  });
});

describe("sniffing", () => {
  it("a safetensors header length whose low byte is 0x80 is not mistaken for a pickle", async () => {
    const build = (pad: number) =>
      te.encode(`{"__metadata__":{"format":"pt","pad":"${"x".repeat(pad)}"},"w":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}`);
    const header = build(896 - build(0).length);
    expect(header.length & 0xff).toBe(0x80);
    const r = await inspectBytes(concat(bytes(u64(header.length)), header, new Uint8Array(1)), "x.safetensors", 64);
    expect({ format: r.format, verdict: r.verdict }).toEqual({ format: "safetensors", verdict: "safe" });
  });
});

describe("gguf", () => {
  it("absurd tensor and metadata counts are invalid and fast", async () => {
    const b = bytes("GGUF", u32(3), u64(1n << 60n), u64(1n << 60n), new Uint8Array(64));
    const t0 = performance.now();
    for (const r of [await inspectStored(b, "m.gguf"), await inspectBytes(b, "m.gguf", 4)]) {
      expect(r.verdict).toBe("invalid");
      expect(r.format).toBe("unknown");
    }
    expect(performance.now() - t0).toBeLessThan(500);
  });

  it("an absurd string length inside the metadata is invalid", async () => {
    const b = bytes("GGUF", u32(3), u64(0), u64(1), u64(2n ** 40n), "general.name");
    expect((await inspectStored(b, "m.gguf")).verdict).toBe("invalid");
  });

  it("a chat template that escapes the Jinja sandbox is dangerous", async () => {
    const tpl = "{{ ''.__class__.__mro__[1].__subclasses__() }}";
    const kv = (k: string, v: string) => bytes(u64(k.length), k, u32(8), u64(v.length), v);
    const b = bytes("GGUF", u32(3), u64(0), u64(2), kv("general.architecture", "llama"), kv("tokenizer.chat_template", tpl));
    const r = await inspectStored(b, "m.gguf");
    expect(r.format).toBe("gguf");
    expect(r.verdict).toBe("dangerous");
    expect(r.findings.map((f) => f.code)).toContain("gguf-template-injection");
  });

  it("a gguf cut inside its tensor data is invalid", async () => {
    const full = fixture("tiny_llama.gguf");
    expect((await inspectStored(full.subarray(0, full.length - 1000), "m.gguf")).verdict).toBe("invalid");
  });
});

describe("json", () => {
  it("100k levels of nesting: invalid, no stack overflow", async () => {
    const b = te.encode("[".repeat(100_000) + "]".repeat(100_000));
    const r = await inspectBytes(b, "deep.json", 4096);
    expect(r.verdict).toBe("invalid");
  });

  it("a secret 300 levels deep is still found", async () => {
    let inner = '{"api_key":"sk-ant-api03-' + "Zx9kQ2mP7vL4".repeat(6) + '"}';
    for (let i = 0; i < 300; i++) inner = `{"n${i}":${inner}}`;
    const doc = `{"provider":"anthropic","base_model":"claude-3-haiku","parameters":{"temperature":0.2},"extra":${inner}}`;
    const r = await inspectBytes(te.encode(doc), "c.json", 11);
    expect(r.format).toBe("llm-config-json");
    expect(r.verdict).toBe("dangerous");
    expect(JSON.stringify(r)).not.toContain("Zx9kQ2mP7vL4");
  });

  it("schema problems in an LLM config are reported as findings", async () => {
    const doc =
      '{"provider":"openai","base_model":"gpt-4o","parameters":{"temperature":7,"max_tokens":-3},"api":{"api_key_env":"not an env var"}}';
    const r = await inspectBytes(te.encode(doc), "c.json", 5);
    expect(r.format).toBe("llm-config-json");
    const schema = r.findings.filter((f) => f.code === "llm-config-schema").map((f) => f.location);
    expect(schema).toEqual(expect.arrayContaining(["parameters.temperature", "parameters.max_tokens", "api.api_key_env"]));
  });

  it("a Hugging Face config.json is an LLM config without schema warnings for fields it never has", async () => {
    const doc = '{"architectures":["LlamaForCausalLM"],"model_type":"llama","hidden_size":16,"num_hidden_layers":2,"vocab_size":128}';
    const r = await inspectBytes(te.encode(doc), "config.json", 5);
    expect(r.format).toBe("llm-config-json");
    expect(r.findings.filter((f) => f.code === "llm-config-schema")).toEqual([]);
  });

  it("truncated JSON is invalid; well-formed JSON of no model layout is stored as unknown after the scan", async () => {
    expect((await inspectBytes(te.encode('{"provider":"openai","base_'), "c.json", 5)).verdict).toBe("invalid");
    const other = await inspectBytes(te.encode('{"name":"my package","dependencies":{}}'), "package.json", 5);
    expect({ format: other.format, verdict: other.verdict }).toEqual({ format: "unknown", verdict: "safe" });
    expect(other.findings.map((f) => f.code)).toContain("unknown-format");
  });

  it("a __proto__ key cannot pollute prototypes", async () => {
    const r = await inspectBytes(
      te.encode('{"__proto__":{"polluted":1},"provider":"openai","base_model":"gpt-4o","parameters":{"temperature":1}}'),
      "c.json",
      3,
    );
    expect(r.format).toBe("llm-config-json");
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe("xgboost json and ubjson", () => {
  it("keeps objective and feature count of a large model whose trees exceed the retention caps", async () => {
    const tree = (i: number) =>
      `{"id":${i},"left_children":[${Array.from({ length: 200 }, (_, j) => j).join(",")}],"split_conditions":[${Array.from({ length: 200 }, () => 0.5).join(",")}]}`;
    const trees = Array.from({ length: 2000 }, (_, i) => tree(i)).join(",");
    const doc = `{"learner":{"attributes":{},"feature_names":[],"gradient_booster":{"model":{"gbtree_model_param":{"num_trees":"2000"},"trees":[${trees}]},"name":"gbtree"},"learner_model_param":{"num_feature":"42","num_class":"0"},"objective":{"name":"reg:squarederror"}},"version":[2,0,0]}`;
    const r = await inspectBytes(te.encode(doc), "big.json", 65536);
    expect(r.format).toBe("xgboost-json");
    expect(r.metadata).toMatchObject({ numTrees: 2000, numFeatures: 42, objective: "reg:squarederror" });
  });

  it("a UBJSON container claiming 2^40 items is invalid", async () => {
    const b = bytes("{", "L", u64be(7), "learner", "[", "#", "L", u64be(2 ** 40), "i", 1);
    expect((await inspectBytes(b, "m.ubj", 3)).verdict).toBe("invalid");
  });
});

describe("keras", () => {
  it("a Lambda layer in model_config makes the .h5 dangerous", async () => {
    const h5 = fixture("fraud_detection_v1.5.2.h5").slice();
    const needle = te.encode('"class_name": "Dropout"');
    const at = Buffer.from(h5).indexOf(Buffer.from(needle));
    expect(at).toBeGreaterThan(0);
    h5.set(te.encode('"class_name": "Lambda" '), at);
    for (const r of [await inspectStored(h5, "m.h5"), await inspectBytes(h5, "m.h5", 7)]) {
      expect(r.format).toBe("hdf5-keras");
      expect(r.verdict).toBe("dangerous");
      expect(r.findings.map((f) => f.code)).toContain("keras-lambda-layer");
    }
  });

  it("Lambda layers are found inside wrappers and nested models", () => {
    const report = new Report();
    const config = {
      class_name: "Functional",
      config: {
        name: "outer",
        layers: [
          { class_name: "InputLayer", config: { name: "in" } },
          {
            class_name: "TimeDistributed",
            config: {
              name: "td",
              layer: { class_name: "Lambda", config: { name: "hidden", function: ["4wEAAAAA", null, null], function_type: "lambda" } },
            },
          },
          { class_name: "MyCustomLayer", config: { name: "custom" } },
        ],
      },
    };
    const out = analyzeKerasConfig(config, report);
    expect(report.verdict()).toBe("dangerous");
    expect(out.layers.map((l) => l.className)).toEqual(["InputLayer", "TimeDistributed", "Lambda", "MyCustomLayer"]);
    expect(report.findings.map((f) => f.code)).toEqual(expect.arrayContaining(["keras-lambda-layer", "keras-custom-layer"]));
  });

  it("a truncated HDF5 file is invalid", async () => {
    const h5 = fixture("medical_diagnosis_v1.0.h5");
    expect((await inspectStored(h5.subarray(0, 3000), "m.h5")).verdict).toBe("invalid");
  });
});

describe("onnx", () => {
  // Loading reads any local file into a tensor (CVE-2022-25882); UNC paths leak credentials: dangerous.
  it("external data pointing outside the model directory is dangerous", async () => {
    const tensor = [
      ...pbInt(1, 4),
      ...pbInt(2, 1),
      ...pbBytes(8, "w"),
      ...pbBytes(13, [...pbBytes(1, "location"), ...pbBytes(2, "../../etc/passwd")]),
      ...pbInt(14, 1),
    ];
    const node = [...pbBytes(1, "x"), ...pbBytes(2, "y"), ...pbBytes(4, "Identity")];
    const graph = [
      ...pbBytes(1, node),
      ...pbBytes(2, "g"),
      ...pbBytes(5, tensor),
      ...pbBytes(11, pbBytes(1, "x")),
      ...pbBytes(12, pbBytes(1, "y")),
    ];
    const model = Uint8Array.from([
      ...pbInt(1, 8),
      ...pbBytes(2, "hand"),
      ...pbBytes(7, graph),
      ...pbBytes(8, [...pbBytes(1, ""), ...pbInt(2, 17)]),
    ]);
    const r = await inspectBytes(model, "m.onnx", 3);
    expect(r.format).toBe("onnx");
    expect(r.verdict).toBe("dangerous");
    expect(r.findings.map((f) => f.code)).toContain("onnx-external-path");
  });

  it("a truncated ONNX model is invalid", async () => {
    const full = fixture("churn_model_v1.onnx");
    expect((await inspectStored(full.subarray(0, 900), "m.onnx")).verdict).toBe("invalid");
  });
});

describe("compressed pickles and other formats", () => {
  it("zlib-compressed joblib/pickle is inflated and scanned", async () => {
    const safe = await inspectBytes(zlib.deflateSync(fixture("credit_risk_v2.1.pkl")), "model.joblib", 7);
    expect({ format: safe.format, framework: safe.framework, verdict: safe.verdict }).toEqual({
      format: "pickle",
      framework: "scikit-learn",
      verdict: "safe",
    });
    const evil = await inspectBytes(zlib.gzipSync(fixture("malicious_os_system.pkl")), "model.joblib", 7);
    expect(evil.verdict).toBe("dangerous");
  });

  it("a corrupt bz2 stream is decoded as far as it goes and rejected, never called safe", async () => {
    const r = await inspectBytes(bytes("BZh91AY&SY", new Uint8Array(40)), "m.joblib", 8);
    expect(r.verdict).toBe("invalid");
    expect(r.findings.map((f) => f.code)).toContain("compressed-corrupt");
  });

  it("truncated xgboost binary and lightgbm text are invalid", async () => {
    const xgb = fixture("loan_approval_v3.0.xgb");
    expect((await inspectStored(xgb.subarray(0, 5000), "m.xgb")).verdict).toBe("invalid");
    const lgb = fixture("churn_model_v1.lgb");
    expect((await inspectBytes(lgb.subarray(0, 2000), "m.lgb", 7)).verdict).toBe("invalid");
  });

  it("a pickle named .h5 is flagged as a mismatch", async () => {
    const r = await inspectStored(fixture("credit_risk_v2.1.pkl"), "model.h5");
    expect(r.extensionMismatch).toBe(true);
    expect(r.verdict).toBe("suspicious");
  });

  it("declared size that disagrees with the stream is flagged", async () => {
    const b = fixture("credit_risk_v2.1.pkl");
    const r = await inspectBytes(b, "m.pkl", 100, b.length + 10);
    expect(r.findings.map((f) => f.code)).toContain("size-mismatch");
  });
});
