import { checkSecrets } from "../handler";
import type { Report } from "../report";

/**
 * Keras model configs (the `model_config` attribute of an .h5, the config.json of a .keras). A
 * `Lambda` layer stores a Python function (marshalled bytecode or a module path) that Keras rebuilds
 * and runs while loading, so it is DANGEROUS. Keras 3 configs also name a `module` (and functions by
 * `module` + name) that deserialization imports: outside Keras itself, or a Keras function that
 * loads files or switches safe mode off (CVE-2025-1550, CVE-2025-8747, CVE-2025-9906), that is
 * DANGEROUS too. Other non-built-in classes need user code registered at load time: info.
 */

const BUILTIN_LAYERS = new Set([
  "Sequential",
  "Functional",
  "Model",
  "InputLayer",
  "Dense",
  "Dropout",
  "BatchNormalization",
  "LayerNormalization",
  "Activation",
  "ReLU",
  "LeakyReLU",
  "PReLU",
  "ELU",
  "Softmax",
  "ThresholdedReLU",
  "Flatten",
  "Reshape",
  "Permute",
  "RepeatVector",
  "Conv1D",
  "Conv2D",
  "Conv3D",
  "Conv1DTranspose",
  "Conv2DTranspose",
  "Conv3DTranspose",
  "SeparableConv1D",
  "SeparableConv2D",
  "DepthwiseConv1D",
  "DepthwiseConv2D",
  "MaxPooling1D",
  "MaxPooling2D",
  "MaxPooling3D",
  "AveragePooling1D",
  "AveragePooling2D",
  "AveragePooling3D",
  "GlobalMaxPooling1D",
  "GlobalMaxPooling2D",
  "GlobalMaxPooling3D",
  "GlobalAveragePooling1D",
  "GlobalAveragePooling2D",
  "GlobalAveragePooling3D",
  "Embedding",
  "LSTM",
  "GRU",
  "SimpleRNN",
  "Bidirectional",
  "TimeDistributed",
  "RNN",
  "LSTMCell",
  "GRUCell",
  "SimpleRNNCell",
  "ConvLSTM2D",
  "Attention",
  "AdditiveAttention",
  "MultiHeadAttention",
  "Concatenate",
  "Add",
  "Subtract",
  "Multiply",
  "Average",
  "Maximum",
  "Minimum",
  "Dot",
  "ZeroPadding1D",
  "ZeroPadding2D",
  "ZeroPadding3D",
  "Cropping1D",
  "Cropping2D",
  "Cropping3D",
  "UpSampling1D",
  "UpSampling2D",
  "UpSampling3D",
  "GaussianNoise",
  "GaussianDropout",
  "AlphaDropout",
  "SpatialDropout1D",
  "SpatialDropout2D",
  "SpatialDropout3D",
  "Masking",
  "Normalization",
  "Rescaling",
  "Resizing",
  "CenterCrop",
  "TextVectorization",
  "StringLookup",
  "IntegerLookup",
  "CategoryEncoding",
  "Hashing",
  "Discretization",
  "ActivityRegularization",
  "UnitNormalization",
  "GroupNormalization",
  "Identity",
  "Wrapper",
]);

const CODE_CLASSES = new Set(["Lambda", "__lambda__"]);
/** Roots whose classes Keras deserialization may import; anything else runs code from elsewhere. */
const KERAS_ROOTS = new Set(["keras", "tensorflow", "tf_keras", "tf"]);
/** Keras modules whose functions are pure math (activations, losses …) and may be named in a config. */
const PURE_FUNCTION_MODULE =
  /^(keras|tf_keras|tensorflow\.keras)(\.src)?\.(activations|losses|metrics|initializers|regularizers|constraints|ops(\.\w+)?|backend)$/;
/** Keras functions that load files, fetch URLs or change global (safe-mode) state when a config names them. */
const DANGEROUS_KERAS_FUNCTIONS =
  /^(keras|tf_keras|tensorflow\.keras)(\.src)?\.(models|saving|utils|config|backend\.common\.global_state|legacy\.saving|export|callbacks|datasets)(\.|$)/;
/** Keras modules no class in a model config comes from. */
const DANGEROUS_KERAS_CLASSES =
  /^(keras|tf_keras|tensorflow\.keras)(\.src)?\.(saving|config|backend\.common\.global_state|legacy\.saving|utils\.file_utils)(\.|$)/;
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

/** Judges one `module` reference (and the function named with it, if any). */
function checkModule(report: Report, module: string, fn: string | null, where: string): void {
  const root = module.split(".")[0]!;
  const target = fn ? `${module}.${fn}` : module;
  if (!KERAS_ROOTS.has(root)) {
    report.danger(
      "keras-module-reference",
      `config makes Keras import ${target.slice(0, 200)} (outside Keras): code from that module runs at load time`,
      where,
    );
  } else if (fn !== null ? DANGEROUS_KERAS_FUNCTIONS.test(module) : DANGEROUS_KERAS_CLASSES.test(module)) {
    report.danger(
      "keras-module-reference",
      `config references ${target.slice(0, 200)}, which loads files or changes safe-mode state when called`,
      where,
    );
  } else if (fn !== null && !PURE_FUNCTION_MODULE.test(module)) {
    report.flag("keras-function-reference", `config calls the function ${target.slice(0, 200)} while building the model`, where);
  }
}

/** Walks a model config (nested models and wrapped layers included): Lambda layers, module references, custom classes, secrets. */
export function analyzeKerasConfig(
  config: Json,
  report: Report,
  location = "model_config",
): { modelClass: string | null; name: string | null; layers: LayerSummary[]; layerCount: number } {
  const root = asObj(config);
  const layers: LayerSummary[] = [];
  let count = 0;
  const stack: Array<[Json, number, boolean, string]> = [[config, 0, false, location]];
  let visited = 0;
  while (stack.length && visited++ < 200_000) {
    const [node, depth, isLayer, path] = stack.pop()!;
    if (depth > 64) continue;
    if (typeof node === "string") {
      checkSecrets(report, path.slice(path.lastIndexOf(".") + 1), node, path);
      continue;
    }
    if (Array.isArray(node)) {
      for (let i = node.length - 1; i >= 0; i--) stack.push([node[i], depth + 1, isLayer, `${path}[${i}]`]);
      continue;
    }
    const o = asObj(node);
    if (!o) continue;
    const cls = typeof o.class_name === "string" ? o.class_name : null;
    const cfg = asObj(o.config);
    const name = typeof cfg?.name === "string" ? cfg.name : null;
    // Lambda is dangerous wherever it sits (a wrapper's "layer", a nested model, a function argument …)
    if (cls && CODE_CLASSES.has(cls)) {
      const fnType = typeof cfg?.function_type === "string" ? cfg.function_type : "lambda";
      report.danger(
        "keras-lambda-layer",
        `Lambda layer "${name ?? "?"}" embeds Python code (${fnType}) that Keras runs when the model is loaded`,
        name ?? path,
      );
    }
    for (const key of ["module", "fn_module"]) {
      const mod = o[key];
      if (typeof mod === "string" && mod !== "")
        checkModule(report, mod, cls === "function" && typeof o.config === "string" ? o.config : null, path);
    }
    if (typeof o.registered_name === "string" && o.registered_name.includes(">")) {
      report.info("keras-custom-object", `registered custom object ${o.registered_name.slice(0, 100)} needs user code at load time`, path);
    }
    if (isLayer && cls) {
      count++;
      if (layers.length < MAX_LAYERS) {
        const l: LayerSummary = { className: cls, name };
        if (typeof cfg?.units === "number") l.units = cfg.units;
        if (typeof cfg?.activation === "string") l.activation = cfg.activation;
        layers.push(l);
      }
      if (!BUILTIN_LAYERS.has(cls) && !CODE_CLASSES.has(cls)) {
        report.info(
          "keras-custom-layer",
          `layer class ${cls.slice(0, 100)} is not built into Keras; loading needs user code`,
          name ?? undefined,
        );
      }
    }
    const entries = Object.entries(o);
    for (let i = entries.length - 1; i >= 0; i--) {
      const [k, v] = entries[i]!;
      if (v !== null && typeof v === "object") stack.push([v, depth + 1, k === "layers" || k === "layer", `${path}.${k}`]);
      else if (typeof v === "string" && k !== "class_name" && k !== "module" && k !== "name")
        stack.push([v, depth + 1, false, `${path}.${k}`]);
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
