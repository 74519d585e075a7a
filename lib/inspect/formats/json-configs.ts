import { z } from "zod";
import type { JsonCollector, JsonNode } from "./json-stream";
import type { Report } from "../report";
import type { Framework, ModelFormat } from "../types";

type Obj = Record<string, JsonNode>;

const isObj = (v: JsonNode | undefined): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
const str = (v: JsonNode | undefined): string | null => (typeof v === "string" ? v : null);
const num = (v: JsonNode | undefined): number | null => {
  if (typeof v === "number") return v;
  if (typeof v === "string" && v.trim() !== "" && Number.isFinite(Number(v))) return Number(v);
  return null;
};

export const llmParametersSchema = z.looseObject({
  temperature: z.number().min(0).max(2).optional(),
  max_tokens: z.number().int().positive().max(10_000_000).optional(),
  max_output_tokens: z.number().int().positive().max(10_000_000).optional(),
  top_p: z.number().min(0).max(1).optional(),
  top_k: z.number().int().min(0).optional(),
  frequency_penalty: z.number().min(-2).max(2).optional(),
  presence_penalty: z.number().min(-2).max(2).optional(),
  stop: z.union([z.string(), z.array(z.string()).max(16)]).optional(),
});

/** The org's LLM configuration layout (provider, base model, sampling parameters, API settings). */
export const llmConfigSchema = z.looseObject({
  provider: z.string().min(1),
  base_model: z.string().min(1),
  fine_tuned_model: z.string().min(1).optional(),
  task: z.string().optional(),
  parameters: llmParametersSchema.optional(),
  system_prompt: z.string().max(200_000).optional(),
  api: z
    .looseObject({
      endpoint: z.url().optional(),
      api_key_env: z
        .string()
        .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "must name an environment variable")
        .optional(),
      timeout_s: z.number().positive().optional(),
      max_retries: z.number().int().min(0).max(100).optional(),
    })
    .optional(),
});
export type LlmConfig = z.infer<typeof llmConfigSchema>;

/** ARIMA/SARIMAX configuration as statsmodels users write it down. */
export const arimaConfigSchema = z.looseObject({
  order: z.tuple([z.number().int().min(0), z.number().int().min(0), z.number().int().min(0)]).optional(),
  seasonal_order: z.tuple([z.number().int().min(0), z.number().int().min(0), z.number().int().min(0), z.number().int().min(0)]).optional(),
  trend: z.string().nullable().optional(),
  params: z.record(z.string(), z.number()).optional(),
});

const KNOWN_PROVIDERS = new Set([
  "openai",
  "anthropic",
  "azure-openai",
  "azure",
  "google",
  "vertex-ai",
  "gemini",
  "aws-bedrock",
  "bedrock",
  "cohere",
  "mistral",
  "huggingface",
  "ollama",
  "meta",
  "groq",
  "together",
  "fireworks",
  "deepseek",
  "xai",
  "local",
  "vllm",
]);

export interface JsonClassification {
  format: ModelFormat;
  framework: Framework;
  metadata: Record<string, unknown>;
}

function isLlmConfig(o: Obj): boolean {
  const provider = str(o.provider);
  const model = str(o.base_model) ?? str(o.model) ?? str(o.model_id);
  const params = isObj(o.parameters) ? o.parameters : o;
  const sampling = ["temperature", "max_tokens", "top_p", "max_output_tokens", "top_k"].some((k) => k in params);
  if (provider && (model || sampling)) return true;
  if (model && sampling && ("system_prompt" in o || isObj(o.parameters))) return true;
  const archs = o.architectures;
  return (
    Array.isArray(archs) &&
    typeof o.model_type === "string" &&
    archs.some((a) => typeof a === "string" && /CausalLM|Seq2SeqLM|ConditionalGeneration/.test(a))
  );
}

function isProphet(o: Obj): boolean {
  return "__prophet_version" in o || ("growth" in o && "changepoints" in o && "seasonality_mode" in o && "params" in o);
}

function isArima(o: Obj): boolean {
  const lib = isObj(o.library) ? o.library : null;
  const libText = `${str(lib?.name) ?? ""} ${str(lib?.class) ?? ""} ${str(o.model_type) ?? ""} ${str(o.model_class) ?? ""}`;
  const order = Array.isArray(o.order) && o.order.length === 3 && o.order.every((x) => typeof x === "number");
  return order || Array.isArray(o.seasonal_order) || /statsmodels|arima|sarimax|exponentialsmoothing|holtwinters/i.test(libText);
}

function issues(report: Report, code: string, error: z.ZodError): void {
  for (const issue of error.issues.slice(0, 20)) {
    report.add("warning", code, `${issue.path.join(".") || "(root)"}: ${issue.message}`, issue.path.join("."));
  }
}

function llmMetadata(o: Obj, report: Report): Record<string, unknown> {
  // The provider layout (provider, base model, sampling) is checked against its schema; a Hugging Face
  // config.json (architectures + model_type) is another layout, which names no provider by design.
  const huggingFace = Array.isArray(o.architectures) && typeof o.model_type === "string" && !("provider" in o);
  if (!huggingFace) {
    const parsed = llmConfigSchema.safeParse({ ...o, base_model: o.base_model ?? o.model ?? o.model_id });
    if (!parsed.success) issues(report, "llm-config-schema", parsed.error);
  }
  const provider = str(o.provider) ?? (Array.isArray(o.architectures) ? "huggingface" : null);
  if (provider && !KNOWN_PROVIDERS.has(provider.toLowerCase()))
    report.info("llm-unknown-provider", `provider "${provider.slice(0, 64)}" is not one we know`);
  const api = isObj(o.api) ? o.api : null;
  if (api && "api_key" in api && !("api_key_env" in api))
    report.info("llm-inline-credential-field", "config has an api_key field; prefer api_key_env", "api.api_key");
  const params = isObj(o.parameters) ? o.parameters : null;
  const endpoint = str(api?.endpoint);
  let endpointHost: string | null = null;
  try {
    endpointHost = endpoint ? new URL(endpoint).host : null;
  } catch {
    endpointHost = null;
  }
  return {
    name: str(o.name) ?? str(o.model_name),
    version: str(o.version),
    task: str(o.task),
    provider,
    baseModel: str(o.base_model) ?? str(o.model) ?? str(o.model_id) ?? str(o._name_or_path),
    fineTunedModel: str(o.fine_tuned_model),
    hosting: str(o.hosting),
    region: str(o.region),
    parameters: params ?? null,
    systemPromptChars: str(o.system_prompt)?.length ?? null,
    endpointHost,
    modelType: str(o.model_type),
    architectures: Array.isArray(o.architectures) ? o.architectures : null,
  };
}

function prophetMetadata(o: Obj, c: JsonCollector): Record<string, unknown> {
  const seas = o.seasonalities;
  let seasonalities: string[] | null = null;
  if (Array.isArray(seas) && Array.isArray(seas[0])) seasonalities = seas[0].filter((s): s is string => typeof s === "string");
  else if (isObj(seas)) seasonalities = Object.keys(seas);
  const params = isObj(o.params) ? o.params : {};
  const paramSizes: Record<string, number> = {};
  for (const [k, v] of Object.entries(params)) {
    const inner = Array.isArray(v) && Array.isArray(v[0]) ? v[0] : v;
    paramSizes[k] = Array.isArray(inner) ? c.lengthOf(inner) : 1;
  }
  return {
    library: "prophet",
    prophetVersion: str(o.__prophet_version),
    growth: str(o.growth),
    nChangepoints: num(o.n_changepoints),
    seasonalityMode: str(o.seasonality_mode),
    seasonalities,
    yScale: num(o.y_scale),
    intervalWidth: num(o.interval_width),
    parameters: paramSizes,
  };
}

function arimaMetadata(o: Obj, report: Report): Record<string, unknown> {
  const parsed = arimaConfigSchema.safeParse(o);
  if (!parsed.success) issues(report, "timeseries-config-schema", parsed.error);
  const lib = isObj(o.library) ? o.library : null;
  const fit = isObj(o.fit) ? o.fit : null;
  const window = isObj(o.training_window) ? o.training_window : null;
  return {
    library: str(lib?.name) ?? "statsmodels",
    libraryVersion: str(lib?.version),
    modelClass: str(lib?.class) ?? str(o.model_class),
    name: str(o.model_name) ?? str(o.name),
    order: o.order ?? null,
    seasonalOrder: o.seasonal_order ?? null,
    trend: o.trend ?? null,
    frequency: str(o.frequency),
    parameters: isObj(o.params) ? Object.keys(o.params) : null,
    aic: num(fit?.aic),
    bic: num(fit?.bic),
    trainingWindow: window,
  };
}

function xgboostMetadata(o: Obj, c: JsonCollector): Record<string, unknown> {
  const learner = o.learner as Obj;
  const lmp = isObj(learner.learner_model_param) ? learner.learner_model_param : {};
  const objective = isObj(learner.objective) ? str(learner.objective.name) : null;
  const gb = isObj(learner.gradient_booster) ? learner.gradient_booster : {};
  const model = isObj(gb.model) ? gb.model : {};
  const gtp = isObj(model.gbtree_model_param) ? model.gbtree_model_param : {};
  const trees = Array.isArray(model.trees) ? c.lengthOf(model.trees) : null;
  const names = Array.isArray(learner.feature_names) ? learner.feature_names : null;
  return {
    version: Array.isArray(o.version) ? o.version.join(".") : null,
    objective,
    booster: str(gb.name),
    numTrees: num(gtp.num_trees) ?? trees,
    numFeatures: num(lmp.num_feature),
    numClass: num(lmp.num_class),
    baseScore: num(lmp.base_score),
    featureNames: names ? names.slice(0, 1000) : null,
    attributes: isObj(learner.attributes) ? learner.attributes : null,
  };
}

/** Decides what a JSON document is from its (bounded) content and extracts its metadata. */
export function classifyJson(root: JsonNode | undefined, c: JsonCollector, report: Report, ubjson: boolean): JsonClassification {
  if (!isObj(root)) return { format: "unknown", framework: "none", metadata: {} };
  if (isObj(root.learner))
    return { format: ubjson ? "xgboost-ubj" : "xgboost-json", framework: "xgboost", metadata: xgboostMetadata(root, c) };
  if (ubjson) return { format: "unknown", framework: "none", metadata: {} };
  if (isProphet(root)) return { format: "timeseries-config-json", framework: "prophet", metadata: prophetMetadata(root, c) };
  if (isLlmConfig(root)) return { format: "llm-config-json", framework: "llm", metadata: llmMetadata(root, report) };
  if (isArima(root)) return { format: "timeseries-config-json", framework: "statsmodels", metadata: arimaMetadata(root, report) };
  return { format: "unknown", framework: "none", metadata: { topLevelKeys: Object.keys(root).slice(0, 50) } };
}

/** An auto_map entry: "module.Class", or "repo_id--module.Class" (code fetched from another repository). */
function judgeAutoMapEntry(report: Report, key: string, ref: string): void {
  const where = `auto_map.${key}`;
  if (ref.includes("--")) {
    report.danger(
      "hf-remote-code-repo",
      `auto_map loads ${ref.slice(0, 120)}: code from another repository runs when trust_remote_code is on`,
      where,
    );
  } else if (/^[/\\]|^[A-Za-z]:|^~|\.\.|:\/\//.test(ref)) {
    report.danger("hf-remote-code-path", `auto_map points outside the model repository (${ref.slice(0, 120)})`, where);
  } else if (!/^[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)+$/.test(ref)) {
    report.danger("hf-remote-code-name", `auto_map entry ${ref.slice(0, 120)} is not a module.Class reference`, where);
  } else {
    report.flag(
      "hf-remote-code",
      `auto_map names ${ref.slice(0, 120)}: loading runs Python shipped with the model (trust_remote_code)`,
      where,
    );
  }
}

/**
 * Hugging Face configs that make transformers import and run code: `auto_map` (judged entry by entry)
 * and `trust_remote_code: true`, at any depth the bounded collector kept.
 */
export function checkRemoteCode(root: JsonNode | undefined, report: Report): void {
  const stack: Array<[JsonNode | undefined, number]> = [[root, 0]];
  for (let n = 0; stack.length && n < 100_000; n++) {
    const [node, depth] = stack.pop()!;
    if (depth > 64 || node === null || typeof node !== "object") continue;
    if (Array.isArray(node)) {
      for (const v of node) stack.push([v, depth + 1]);
      continue;
    }
    const o = node as Obj;
    if (o.trust_remote_code === true)
      report.flag("hf-trust-remote-code", "config sets trust_remote_code: loaders run Python shipped with the model");
    if (isObj(o.auto_map)) {
      for (const [k, v] of Object.entries(o.auto_map)) {
        const refs = Array.isArray(v) ? v : [v];
        for (const r of refs) if (typeof r === "string") judgeAutoMapEntry(report, k, r);
      }
    }
    for (const v of Object.values(o)) if (v !== null && typeof v === "object") stack.push([v, depth + 1]);
  }
}
