import { ParseError, type Feeder, type ParserGen } from "../feeder";
import { checkSecrets, feederHandler, type FormatHandler, type HandlerContext } from "../handler";
import type { Report } from "../report";
import { COREML_TYPES } from "../sniff";
import { fieldEnd, int, nextTag, skipField, str, tag } from "./protobuf";

/**
 * Core ML `.mlmodel` (Model.proto), streamed: specification version, the description (inputs,
 * outputs, author, license, user-defined metadata — scanned for secrets), the model type, and for
 * pipelines and neural networks their nested models and layers. Nothing in a Core ML spec runs by
 * itself, but a custom model or custom layer names a class the app must supply, a serialized model
 * is opaque, and a linked model loads another file by name: those need a human.
 */

const NEURAL_NETWORKS = new Set([303, 403, 500]);
const PIPELINES = new Set([200, 201, 202]);
const MAX_DEPTH = 16;

interface Feature {
  name: string;
  type: string | null;
}

interface State {
  f: Feeder;
  report: Report;
  version: number | null;
  modelType: string | null;
  nestedTypes: string[];
  inputs: Feature[];
  outputs: Feature[];
  metadata: Record<string, string>;
  userDefined: Record<string, string>;
  layers: number;
  customLayers: string[];
  updatable: boolean;
}

const FEATURE_TYPES: Record<number, string> = {
  1: "int64",
  2: "double",
  3: "string",
  4: "image",
  5: "multiArray",
  6: "dictionary",
  7: "sequence",
  8: "state",
};

function* feature(end: number, s: State): ParserGen<Feature> {
  const { f } = s;
  const out: Feature = { name: "", type: null };
  for (let t = yield* tag(end, f); t; t = yield* tag(end, f)) {
    if (t.field === 1 && t.wire === 2) out.name = yield* str(end, f, 256);
    else if (t.field === 3 && t.wire === 2) {
      const typeEnd = yield* fieldEnd(end, f);
      for (let u = yield* tag(typeEnd, f); u; u = yield* tag(typeEnd, f)) {
        if (FEATURE_TYPES[u.field] && u.wire === 2) out.type = FEATURE_TYPES[u.field]!;
        yield* skipField(u.wire, typeEnd, f);
      }
    } else yield* skipField(t.wire, end, f);
  }
  return out;
}

const METADATA_FIELDS: Record<number, string> = { 1: "shortDescription", 2: "versionString", 3: "author", 4: "license" };

function* description(end: number, s: State): ParserGen<void> {
  const { f } = s;
  for (let t = yield* tag(end, f); t; t = yield* tag(end, f)) {
    if ((t.field === 1 || t.field === 10) && t.wire === 2) {
      const feat = yield* feature(yield* fieldEnd(end, f), s);
      const list = t.field === 1 ? s.inputs : s.outputs;
      if (list.length < 64) list.push(feat);
    } else if (t.field === 100 && t.wire === 2) {
      const metaEnd = yield* fieldEnd(end, f);
      for (let u = yield* tag(metaEnd, f); u; u = yield* tag(metaEnd, f)) {
        const key = METADATA_FIELDS[u.field];
        if (key && u.wire === 2) {
          const value = yield* str(metaEnd, f, 64 * 1024);
          checkSecrets(s.report, key, value, `metadata.${key}`);
          s.metadata[key] = value.slice(0, 1024);
        } else if (u.field === 100 && u.wire === 2) {
          const entryEnd = yield* fieldEnd(metaEnd, f);
          let k = "";
          let v = "";
          for (let w = yield* tag(entryEnd, f); w; w = yield* tag(entryEnd, f)) {
            if (w.field === 1 && w.wire === 2) k = yield* str(entryEnd, f, 256);
            else if (w.field === 2 && w.wire === 2) v = yield* str(entryEnd, f, 64 * 1024);
            else yield* skipField(w.wire, entryEnd, f);
          }
          checkSecrets(s.report, k, v, `metadata.userDefined.${k}`);
          if (Object.keys(s.userDefined).length < 64) s.userDefined[k] = v.slice(0, 1024);
        } else yield* skipField(u.wire, metaEnd, f);
      }
    } else yield* skipField(t.wire, end, f);
  }
}

/** NeuralNetwork*: layers (field 1); a layer's `custom` params (field 500) name the class that implements it. */
function* neuralNetwork(end: number, s: State): ParserGen<void> {
  const { f } = s;
  for (let t = yield* tag(end, f); t; t = yield* tag(end, f)) {
    if (t.field !== 1 || t.wire !== 2) {
      yield* skipField(t.wire, end, f);
      continue;
    }
    s.layers++;
    const layerEnd = yield* fieldEnd(end, f);
    for (let u = yield* tag(layerEnd, f); u; u = yield* tag(layerEnd, f)) {
      if (u.field === 500 && u.wire === 2) {
        const customEnd = yield* fieldEnd(layerEnd, f);
        let className = "(unnamed)";
        for (let w = yield* tag(customEnd, f); w; w = yield* tag(customEnd, f)) {
          if (w.field === 10 && w.wire === 2) className = yield* str(customEnd, f, 256);
          else yield* skipField(w.wire, customEnd, f);
        }
        if (s.customLayers.length < 32) s.customLayers.push(className);
      } else yield* skipField(u.wire, layerEnd, f);
    }
  }
}

/** The model-type payload: what it names, and nested models of pipelines. */
function* modelType(field: number, end: number, s: State, depth: number): ParserGen<void> {
  const { f, report } = s;
  const name = COREML_TYPES[field]!;
  if (depth > 0 && s.nestedTypes.length < 64) s.nestedTypes.push(name);
  if (NEURAL_NETWORKS.has(field)) return yield* neuralNetwork(end, s);
  if (PIPELINES.has(field)) {
    for (let t = yield* tag(end, f); t; t = yield* tag(end, f)) {
      // PipelineClassifier/Regressor wrap a Pipeline in field 1; a Pipeline lists Models in field 1
      if (t.field === 1 && t.wire === 2 && field !== 202) yield* modelType(202, yield* fieldEnd(end, f), s, depth);
      else if (t.field === 1 && t.wire === 2) yield* model(yield* fieldEnd(end, f), s, depth + 1);
      else yield* skipField(t.wire, end, f);
    }
    return;
  }
  if (field === 555) {
    let className = "(unnamed)";
    for (let t = yield* tag(end, f); t; t = yield* tag(end, f)) {
      if (t.field === 10 && t.wire === 2) className = yield* str(end, f, 256);
      else yield* skipField(t.wire, end, f);
    }
    report.flag("coreml-custom-model", `a custom model: the app must supply the class ${className.slice(0, 120)} that runs it`);
    return;
  }
  if (field === 556) {
    report.flag("coreml-linked-model", "a linked model: loading it opens another model file by name, which is not part of this file");
  } else if (field === 3000) {
    report.flag("coreml-serialized-model", "a serialized model: its content is opaque bytes that were not inspected");
  } else if (field === 502) {
    report.info("coreml-ml-program", "an ML Program: its weights usually live in a separate weights file (an .mlpackage)");
  }
  yield* skipRest(end, f);
}

function* skipRest(end: number, f: Feeder): ParserGen<void> {
  for (let t = yield* tag(end, f); t; t = yield* tag(end, f)) yield* skipField(t.wire, end, f);
}

/** A Model message (the file, or a pipeline's member). */
function* model(end: number, s: State, depth: number, topLevel = false): ParserGen<void> {
  const { f } = s;
  if (depth > MAX_DEPTH) throw new ParseError("Core ML pipelines nested too deep", "depth");
  let sawType = false;
  for (let t = yield* nextTag(end, f, topLevel); t; t = yield* nextTag(end, f, topLevel)) {
    if (t.field === 1 && t.wire === 0) {
      const v = yield* int();
      if (depth === 0) s.version = v;
    } else if (t.field === 2 && t.wire === 2) {
      const descEnd = yield* fieldEnd(end, f);
      if (depth === 0) yield* description(descEnd, s);
      else yield* skipRest(descEnd, f);
    } else if (t.field === 10 && t.wire === 0) {
      if ((yield* int()) === 1 && depth === 0) s.updatable = true;
    } else if (COREML_TYPES[t.field] !== undefined && t.wire === 2) {
      sawType = true;
      if (depth === 0) s.modelType = COREML_TYPES[t.field]!;
      yield* modelType(t.field, yield* fieldEnd(end, f), s, depth);
    } else if (topLevel && t.field > 4000) throw new ParseError(`field ${t.field} is not part of a Core ML Model`, "corrupt");
    else yield* skipField(t.wire, end, f);
  }
  if (!sawType && depth > 0) s.report.flag("coreml-untyped-model", "a pipeline member has no model type");
}

export function createCoremlHandler(ctx: HandlerContext): FormatHandler {
  const { report } = ctx;
  let state: State | null = null;

  return feederHandler(
    ctx,
    "coreml",
    (f) => {
      const s: State = {
        f,
        report,
        version: null,
        modelType: null,
        nestedTypes: [],
        inputs: [],
        outputs: [],
        metadata: {},
        userDefined: {},
        layers: 0,
        customLayers: [],
        updatable: false,
      };
      state = s;
      return model(ctx.size ?? Infinity, s, 0, true);
    },
    () => {
      const s = state as State | null;
      if (!s || s.version === null || s.modelType === null) {
        report.format = "unknown";
        report.fail("coreml-incomplete", "protobuf does not hold a Core ML model with a specification version and a model type");
        return;
      }
      report.format = "coreml";
      report.framework = "coreml";
      if (s.customLayers.length)
        report.flag("coreml-custom-layer", `custom layers the app must implement: ${s.customLayers.slice(0, 10).join(", ").slice(0, 300)}`);
      report.metadata = {
        specificationVersion: s.version,
        modelType: s.modelType,
        ...(s.nestedTypes.length ? { pipelineModels: s.nestedTypes } : {}),
        inputs: s.inputs,
        outputs: s.outputs,
        ...s.metadata,
        ...(Object.keys(s.userDefined).length ? { userDefined: s.userDefined } : {}),
        ...(s.layers ? { layerCount: s.layers } : {}),
        isUpdatable: s.updatable,
      };
    },
  );
}
