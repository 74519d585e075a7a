import type { Report } from "../report";

/**
 * Keras model_config analysis. A `Lambda` layer stores a Python function (marshalled bytecode or a
 * module path) that Keras 2 rebuilds and runs while loading an .h5 file, so we rate it DANGEROUS:
 * loading the file executes code from the file. Other non-built-in classes need user code to be
 * registered at load time (nothing runs from the file itself) and are reported as info.
 */

const BUILTIN_LAYERS = new Set([
  "Sequential", "Functional", "Model", "InputLayer", "Dense", "Dropout", "BatchNormalization", "LayerNormalization",
  "Activation", "ReLU", "LeakyReLU", "PReLU", "ELU", "Softmax", "ThresholdedReLU", "Flatten", "Reshape", "Permute",
  "RepeatVector", "Conv1D", "Conv2D", "Conv3D", "Conv1DTranspose", "Conv2DTranspose", "Conv3DTranspose",
  "SeparableConv1D", "SeparableConv2D", "DepthwiseConv1D", "DepthwiseConv2D", "MaxPooling1D", "MaxPooling2D",
  "MaxPooling3D", "AveragePooling1D", "AveragePooling2D", "AveragePooling3D", "GlobalMaxPooling1D",
  "GlobalMaxPooling2D", "GlobalMaxPooling3D", "GlobalAveragePooling1D", "GlobalAveragePooling2D",
  "GlobalAveragePooling3D", "Embedding", "LSTM", "GRU", "SimpleRNN", "Bidirectional", "TimeDistributed", "RNN",
  "LSTMCell", "GRUCell", "SimpleRNNCell", "ConvLSTM2D", "Attention", "AdditiveAttention", "MultiHeadAttention",
  "Concatenate", "Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Dot", "ZeroPadding1D",
  "ZeroPadding2D", "ZeroPadding3D", "Cropping1D", "Cropping2D", "Cropping3D", "UpSampling1D", "UpSampling2D",
  "UpSampling3D", "GaussianNoise", "GaussianDropout", "AlphaDropout", "SpatialDropout1D", "SpatialDropout2D",
  "SpatialDropout3D", "Masking", "Normalization", "Rescaling", "Resizing", "CenterCrop", "TextVectorization",
  "StringLookup", "IntegerLookup", "CategoryEncoding", "Hashing", "Discretization", "ActivityRegularization",
  "UnitNormalization", "GroupNormalization", "Identity", "Wrapper",
]);

const CODE_LAYERS = new Set(["Lambda"]);
const MAX_LAYERS = 256;

interface LayerSummary {
  className: string;
  name: string | null;
  units?: number;
  activation?: string;
}

type Json = unknown;

function asObj(v: Json): Record<string, Json> | null {
  return v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, Json>) : null;
}

/** Walks a model_config (nested models and wrapped layers included) and reports Lambda / custom layers. */
export function analyzeKerasConfig(config: Json, report: Report): { modelClass: string | null; name: string | null; layers: LayerSummary[]; layerCount: number } {
  const root = asObj(config);
  const layers: LayerSummary[] = [];
  let count = 0;
  const stack: Array<[Json, number, boolean]> = [[config, 0, false]];
  let visited = 0;
  while (stack.length && visited++ < 100_000) {
    const [node, depth, isLayer] = stack.pop()!;
    if (depth > 64) continue;
    if (Array.isArray(node)) {
      for (let i = node.length - 1; i >= 0; i--) stack.push([node[i], depth + 1, isLayer]);
      continue;
    }
    const o = asObj(node);
    if (!o) continue;
    const cls = typeof o.class_name === "string" ? o.class_name : null;
    const cfg = asObj(o.config);
    const name = typeof cfg?.name === "string" ? cfg.name : null;
    // Lambda is dangerous wherever it sits (a wrapper's "layer", a nested model, ...)
    if (cls && CODE_LAYERS.has(cls)) {
      const fnType = typeof cfg?.function_type === "string" ? cfg.function_type : "lambda";
      report.danger("keras-lambda-layer", `Lambda layer "${name ?? "?"}" embeds Python code (${fnType}) that Keras runs when the model is loaded`, name ?? undefined);
    }
    if (isLayer && cls) {
      count++;
      if (layers.length < MAX_LAYERS) {
        const l: LayerSummary = { className: cls, name };
        if (typeof cfg?.units === "number") l.units = cfg.units;
        if (typeof cfg?.activation === "string") l.activation = cfg.activation;
        layers.push(l);
      }
      if (!BUILTIN_LAYERS.has(cls) && !CODE_LAYERS.has(cls)) {
        report.info("keras-custom-layer", `layer class ${cls.slice(0, 100)} is not built into Keras; loading needs user code`, name ?? undefined);
      }
    }
    const entries = Object.entries(o);
    for (let i = entries.length - 1; i >= 0; i--) {
      const [k, v] = entries[i]!;
      if (v !== null && typeof v === "object") stack.push([v, depth + 1, k === "layers" || k === "layer"]);
    }
  }
  const rootCfg = asObj(root?.config);
  return {
    modelClass: typeof root?.class_name === "string" ? root.class_name : null,
    name: typeof rootCfg?.name === "string" ? rootCfg.name : null,
    layers,
    layerCount: count,
  };
}
