import { asNumber, asString, isObject, type VersionFiles } from "./files";
import { checkShardIndex, readSafetensorsHeader, type ShardSet } from "./safetensors";

/** Hugging Face layouts: transformers model folders, sentence-transformers and diffusers pipelines. */

const TOKENIZER_FILES = [
  "tokenizer.json",
  "tokenizer_config.json",
  "special_tokens_map.json",
  "added_tokens.json",
  "vocab.json",
  "vocab.txt",
  "merges.txt",
  "tokenizer.model",
  "spiece.model",
  "sentencepiece.bpe.model",
];
const WEIGHT_FILES = /^(model|pytorch_model|tf_model|flax_model|diffusion_pytorch_model)(-\d{5}-of-\d{5})?\.(safetensors|bin|h5|msgpack)$/;

/** What a transformers model in `dir` ("" = root) is: config, weights (with parameter count from the safetensors headers), tokenizer. */
export async function describeTransformers(v: VersionFiles, dir: string): Promise<Record<string, unknown> | null> {
  const at = (name: string) => (dir ? `${dir}/${name}` : name);
  const config = await v.json(at("config.json"), "invalid");
  if (!isObject(config)) return null;
  const architectures = Array.isArray(config.architectures) ? config.architectures.filter((a) => typeof a === "string").slice(0, 8) : null;
  const modelType = asString(config.model_type, 64);
  if (!architectures?.length && !modelType) return null;
  const text = isObject(config.text_config) ? config.text_config : config;
  const details: Record<string, unknown> = {
    architectures,
    modelType,
    dtype: asString(config.torch_dtype ?? config.dtype ?? text.torch_dtype ?? text.dtype, 32),
    vocabSize: asNumber(text.vocab_size),
    hiddenSize: asNumber(text.hidden_size ?? text.d_model ?? text.n_embd),
    layers: asNumber(text.num_hidden_layers ?? text.n_layer ?? text.num_layers),
    contextLength: asNumber(text.max_position_embeddings ?? text.n_positions ?? text.max_seq_len),
    transformersVersion: asString(config.transformers_version, 32),
  };
  if (isObject(config.auto_map) || config.trust_remote_code === true)
    v.problem(
      "warning",
      "config.json maps to Python code shipped with the model (auto_map): loading it needs trust_remote_code",
      at("config.json"),
    );
  details.weights = await describeWeights(v, dir);
  const tokenizer = TOKENIZER_FILES.filter((f) => v.has(at(f)));
  if (tokenizer.length) {
    const tc = v.has(at("tokenizer_config.json")) ? await v.json(at("tokenizer_config.json")) : null;
    details.tokenizer = {
      files: tokenizer,
      class: isObject(tc) ? asString(tc.tokenizer_class, 128) : null,
      modelMaxLength: isObject(tc) ? asNumber(tc.model_max_length) : null,
      chatTemplate: isObject(tc) && (typeof tc.chat_template === "string" || Array.isArray(tc.chat_template)),
    };
  } else details.tokenizer = null;
  if (v.has(at("generation_config.json"))) {
    const g = await v.json(at("generation_config.json"));
    details.generationConfig = isObject(g)
      ? Object.fromEntries(
          ["max_new_tokens", "max_length", "temperature", "top_p", "top_k", "do_sample", "eos_token_id", "bos_token_id"]
            .filter((k) => k in g)
            .map((k) => [k, g[k]]),
        )
      : {};
  } else details.generationConfig = null;
  return details;
}

/** The weights of a model folder: a shard index (checked against its shards), or single weight files. */
export async function describeWeights(v: VersionFiles, dir: string): Promise<Record<string, unknown>> {
  const at = (name: string) => (dir ? `${dir}/${name}` : name);
  const inDir = v.under(dir).filter((f) => !f.path.slice(dir ? dir.length + 1 : 0).includes("/"));
  const indexes = inDir.filter((f) => f.path.endsWith(".safetensors.index.json") || f.path.endsWith(".bin.index.json"));
  const preferred = indexes.find((f) => f.path.endsWith(".safetensors.index.json")) ?? indexes[0];
  if (preferred) {
    const set = await checkShardIndex(v, preferred.path);
    return set ? shardDetails(set) : { format: "sharded", index: v.shown(preferred.path) };
  }
  const files = inDir.filter((f) => WEIGHT_FILES.test(f.path.slice(dir ? dir.length + 1 : 0)));
  const single = files.find((f) => f.path.endsWith(".safetensors"));
  if (single) {
    const h = await readSafetensorsHeader(v, single.path);
    return { format: "safetensors", files: [v.shown(single.path)], parameterCount: h?.parameterCount ?? null, dtypes: h?.dtypes ?? null };
  }
  if (files.length) return { format: formatOf(files[0]!.path), files: files.map((f) => v.shown(f.path)), parameterCount: null };
  if (v.has(at("model.onnx"))) return { format: "onnx", files: [v.shown(at("model.onnx"))], parameterCount: null };
  v.problem(
    "warning",
    "no weight files (model.safetensors, pytorch_model.bin or an index of shards) beside config.json",
    dir ? v.shown(dir) : undefined,
  );
  return { format: null, files: [], parameterCount: null };
}

function formatOf(path: string): string {
  if (path.endsWith(".bin")) return "pytorch";
  if (path.endsWith(".h5")) return "tensorflow";
  if (path.endsWith(".msgpack")) return "flax";
  return "safetensors";
}

function shardDetails(s: ShardSet): Record<string, unknown> {
  return {
    format: s.index.endsWith(".safetensors.index.json") ? "safetensors" : "pytorch",
    sharded: true,
    index: s.index,
    files: s.shards,
    tensorCount: s.tensorCount,
    parameterCount: s.parameterCount,
    totalSize: s.totalSize,
    dtypes: s.dtypes,
    ...(s.missing.length ? { missingShards: s.missing } : {}),
  };
}

/** sentence-transformers: modules.json lists the modules (each a folder, "" for the root transformer). */
export async function describeSentenceTransformers(v: VersionFiles): Promise<Record<string, unknown>> {
  const modules = v.has("modules.json") ? await v.json("modules.json", "invalid") : null;
  const list = Array.isArray(modules) ? modules.filter(isObject).slice(0, 32) : [];
  if (v.has("modules.json") && !list.length) v.problem("invalid", "modules.json lists no modules", "modules.json");
  const out: Array<{ name: string | null; type: string | null; path: string }> = [];
  for (const m of list) {
    const path = (asString(m.path, 256) ?? "").replace(/\/$/, "");
    out.push({ name: asString(m.name, 64), type: asString(m.type, 128), path });
    if (path && !v.under(path).length)
      v.problem("invalid", `modules.json names the module folder ${path}, which is missing`, "modules.json");
  }
  const sbert = v.has("sentence_bert_config.json") ? await v.json("sentence_bert_config.json") : null;
  const pooling = out.find((m) => m.type?.endsWith("Pooling"));
  const poolingConfig = pooling?.path ? await v.json(`${pooling.path}/config.json`) : null;
  const poolingMode = isObject(poolingConfig)
    ? Object.entries(poolingConfig)
        .filter(([k, val]) => k.startsWith("pooling_mode_") && val === true)
        .map(([k]) => k.slice("pooling_mode_".length))
    : null;
  const root = out.find((m) => m.type?.endsWith("Transformer"))?.path ?? "";
  return {
    modules: out,
    maxSeqLength: isObject(sbert) ? asNumber(sbert.max_seq_length) : null,
    poolingMode,
    embeddingDimension: isObject(poolingConfig) ? asNumber(poolingConfig.word_embedding_dimension) : null,
    transformer: v.has(root ? `${root}/config.json` : "config.json") ? await describeTransformers(v, root) : null,
  };
}

/** diffusers: model_index.json names the pipeline class and a [library, class] per component folder. */
export async function describeDiffusers(v: VersionFiles): Promise<Record<string, unknown>> {
  const index = await v.json("model_index.json", "invalid");
  if (!isObject(index)) return { pipeline: null, components: {} };
  const components: Record<string, string | null> = {};
  for (const [name, value] of Object.entries(index).slice(0, 64)) {
    if (name.startsWith("_") || !Array.isArray(value) || value.length !== 2) continue;
    const [library, cls] = value as unknown[];
    if (library === null || cls === null) {
      components[name] = null;
      continue;
    }
    components[name] = `${asString(library, 64)}.${asString(cls, 128)}`;
    if (!v.under(name).length)
      v.problem("invalid", `model_index.json names the component ${name}, whose folder is missing`, "model_index.json");
  }
  const unet = v.has("unet/config.json") ? await v.json("unet/config.json") : null;
  return {
    pipeline: asString(index._class_name, 128),
    diffusersVersion: asString(index._diffusers_version, 32),
    components,
    ...(isObject(unet) ? { sampleSize: asNumber(unet.sample_size) } : {}),
  };
}
