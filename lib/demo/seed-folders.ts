import "server-only";
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { Readable } from "node:stream";
import type { Principal, RequestMeta } from "@/lib/auth/principal";
import type { Services } from "@/lib/services/services";

// The demo's multi-file models: real folders (test/fixtures/folders) committed the way a client
// commits them, so the model page shows their trees, layouts and cards, and the usage page what
// deduplication saved (1.1 of the transformers model changes one file of 1.0).

export const DEMO_FOLDERS_DIR = path.resolve(process.cwd(), "test/fixtures/folders");

interface DemoFolder {
  model: string;
  version: string;
  dir: string;
  name: string;
  task: string;
  tags: string[];
  description: string;
  versionTags?: Record<string, string>;
  provenance?: Record<string, unknown>;
  /** Files replaced in this version (path -> content). */
  change?: Record<string, (old: Buffer) => Buffer>;
  alias?: string;
}

export const FOLDERS: DemoFolder[] = [
  {
    model: "tiny_llama",
    version: "1.0",
    dir: "tiny-transformers",
    name: "Tiny Llama",
    task: "llm",
    tags: ["llm", "huggingface"],
    description: "A two-layer Llama-architecture language model: a Hugging Face folder with sharded safetensors.",
    versionTags: { dataset: "tinystories-sample", stage: "experiment" },
    provenance: { git_commit: "3f9c2e1a7b", source_run_url: "https://mlflow.example.com/#/experiments/1/runs/8c1d" },
  },
  {
    model: "tiny_llama",
    version: "1.1",
    dir: "tiny-transformers",
    name: "Tiny Llama",
    task: "llm",
    tags: ["llm", "huggingface"],
    description: "",
    versionTags: { dataset: "tinystories-sample", stage: "candidate" },
    provenance: { git_commit: "a41b07d2c9", parent: { model: "tiny_llama", version: "1.0" } },
    // Same weights, a longer context: only config.json is new, so only it is stored.
    change: {
      "config.json": (old) =>
        Buffer.from(JSON.stringify({ ...JSON.parse(old.toString("utf8")), max_position_embeddings: 512 }, null, 2) + "\n"),
    },
    alias: "production",
  },
  {
    model: "churn_mlflow",
    version: "1.0",
    dir: "tiny-mlflow",
    name: "Churn (MLflow)",
    task: "classification",
    tags: ["mlflow", "tabular"],
    description: "An MLflow model folder: MLmodel, the scikit-learn artifact and its environment.",
    versionTags: { team: "retention" },
  },
];

function readFolder(dir: string): { path: string; data: Buffer }[] {
  const root = path.join(DEMO_FOLDERS_DIR, dir);
  return (fs.readdirSync(root, { recursive: true }) as string[])
    .filter((f) => fs.statSync(path.join(root, f)).isFile())
    .sort()
    .map((f) => ({ path: f.split(path.sep).join("/"), data: fs.readFileSync(path.join(root, f)) }));
}

/** Commits one demo folder as `p`: announce, upload what is not stored yet, complete. */
export async function seedFolder(services: Services, p: Principal, org: string, f: DemoFolder, meta: RequestMeta): Promise<void> {
  const files = readFolder(f.dir).map((x) => ({ ...x, data: f.change?.[x.path]?.(x.data) ?? x.data }));
  const commit = await services.uploads.commits.createCommit(
    p,
    {
      org,
      model: f.model,
      version: f.version,
      files: files.map((x) => ({ path: x.path, size: x.data.length, sha256: crypto.createHash("sha256").update(x.data).digest("hex") })),
      metadata: { name: f.name, task_type: f.task as never, description: f.description || undefined, tags: f.tags },
      tags: f.versionTags,
      provenance: f.provenance as never,
    },
    meta,
  );
  for (const c of commit.files.filter((x) => x.state === "upload")) {
    const data = files.find((x) => x.path === c.path)!.data;
    await services.uploads.uploadFile(p, commit.id, c.path, Readable.from([data]), { contentLength: data.length });
  }
  await services.uploads.commits.completeCommit(p, commit.id, meta);
  if (f.alias) await services.aliases.setAlias(p, org, f.model, f.alias, f.version, meta);
}
