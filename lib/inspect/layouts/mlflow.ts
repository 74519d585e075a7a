import { asString, isObject, resolveRelative, type VersionFiles } from "./files";

/**
 * MLflow models: an `MLmodel` YAML file (flavors, signature, run and model ids) beside the model's
 * artifacts and its environment (conda.yaml, requirements.txt, python_env.yaml). An artifact a flavor
 * names that is missing makes the version unloadable; a requirement installed from outside the
 * package index is worth a look (pip runs it when the environment is built).
 */

/** Keys of a flavor that name a file or folder of the model. */
const ARTIFACT_KEYS = ["model_path", "pickled_model", "data", "model_data", "saved_model_dir", "model_file", "artifacts_path"];
const ENV_FILES = ["conda.yaml", "requirements.txt", "python_env.yaml"];
const OUTSIDE_INDEX =
  /^\s*(-e\s|--index-url|--extra-index-url|-i\s|--find-links|-f\s|--trusted-host)|\b(git\+|hg\+|svn\+|bzr\+)|https?:\/\/|file:/;

/** A signature's inputs or outputs: MLflow keeps them as JSON text inside the YAML. */
function columns(v: VersionFiles, spec: unknown, what: string): Array<Record<string, unknown>> | null {
  if (spec === null || spec === undefined) return null;
  let parsed: unknown = spec;
  if (typeof spec === "string") {
    try {
      parsed = JSON.parse(spec) as unknown;
    } catch {
      v.problem("warning", `signature ${what} is not valid JSON`, "MLmodel");
      return null;
    }
  }
  if (!Array.isArray(parsed)) return null;
  return parsed
    .filter(isObject)
    .slice(0, 256)
    .map((c) => {
      const spec = isObject(c["tensor-spec"]) ? c["tensor-spec"] : null;
      const shape = spec && Array.isArray(spec.shape) ? spec.shape.filter((n) => typeof n === "number").slice(0, 16) : null;
      return { name: asString(c.name, 128), type: asString(c.type, 64), ...(spec ? { dtype: asString(spec.dtype, 32), shape } : {}) };
    });
}

export async function describeMlflow(v: VersionFiles): Promise<Record<string, unknown>> {
  const doc = await v.yaml("MLmodel", "invalid");
  if (!isObject(doc)) {
    if (doc !== null) v.problem("invalid", "MLmodel is not a YAML mapping", "MLmodel");
    return { flavors: {} };
  }
  const flavors: Record<string, Record<string, unknown>> = {};
  if (!isObject(doc.flavors) || !Object.keys(doc.flavors).length) v.problem("invalid", "MLmodel lists no flavors", "MLmodel");
  for (const [name, raw] of Object.entries(isObject(doc.flavors) ? doc.flavors : {}).slice(0, 32)) {
    const flavor = isObject(raw) ? raw : {};
    const info: Record<string, unknown> = {};
    for (const [k, val] of Object.entries(flavor).slice(0, 32)) {
      if (typeof val === "string" || typeof val === "number" || typeof val === "boolean")
        info[k] = typeof val === "string" ? val.slice(0, 256) : val;
    }
    flavors[name] = info;
    for (const key of ARTIFACT_KEYS) {
      const ref = asString(flavor[key], 512);
      if (ref === null) continue;
      const path = resolveRelative("MLmodel", ref);
      if (path === null) v.problem("invalid", `flavor ${name} points ${key} outside the model: ${ref}`, "MLmodel");
      else if (!v.has(path) && !v.under(path).length)
        v.problem("invalid", `flavor ${name} needs ${key} ${ref}, which is missing`, "MLmodel");
    }
    const env = isObject(flavor.env) ? flavor.env : null;
    for (const ref of env ? Object.values(env) : []) {
      if (typeof ref === "string" && !v.has(ref))
        v.problem("warning", `flavor ${name} names the environment file ${ref.slice(0, 200)}, which is missing`, "MLmodel");
    }
  }
  const signature = isObject(doc.signature) ? doc.signature : null;
  const requirements = v.has("requirements.txt") ? await v.text("requirements.txt") : null;
  const outside = (requirements ?? "")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("#") && OUTSIDE_INDEX.test(l));
  if (outside.length)
    v.problem(
      "warning",
      `installs packages from outside the package index: ${outside.slice(0, 3).join("; ").slice(0, 300)}`,
      "requirements.txt",
    );
  return {
    flavors,
    signature: signature ? { inputs: columns(v, signature.inputs, "inputs"), outputs: columns(v, signature.outputs, "outputs") } : null,
    runId: asString(doc.run_id, 64),
    modelUuid: asString(doc.model_uuid, 64),
    mlflowVersion: asString(doc.mlflow_version, 32),
    createdAt: asString(doc.utc_time_created, 64),
    artifactPath: asString(doc.artifact_path, 256),
    environment: Object.fromEntries(ENV_FILES.map((f) => [f, v.has(f)])),
  };
}
