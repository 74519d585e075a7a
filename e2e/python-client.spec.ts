import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { test, expect } from "@playwright/test";
import { createApiToken, hashTree, modelFolder, run, stamp, tmpDir } from "./clients";

// The Python client (clients/python, docs/cli.md#python) run by Debian's python3 against the e2e
// server: upload a folder, move production, download into the SHA-256 cache, reuse it after
// re-verifying, and refetch a corrupted cache file. Skipped (loudly) only where python3 is missing.

const PYTHON = process.env.PYTHON ?? "python3";
const hasPython = spawnSync(PYTHON, ["--version"]).status === 0;
const CLIENT = path.resolve("clients/python");

const SCRIPT = String.raw`
import hashlib, json, os, sys
from pathlib import Path
from fairmind import Client, FairMindError

url, token, folder, model, cache = sys.argv[1:6]
c = Client(url, token, cache_dir=cache)
out = {}
out["uploaded"] = c.upload(folder, "demo_org", model, "1.0", metadata={"name": "Python model", "framework": "pytorch"}, tags={"source": "python"})
out["alias"] = c.set_alias("demo_org", model, "production", "1.0")
out["models"] = [m["slug"] for m in c.list_models("demo_org", search=model)]
out["versions"] = [v["version"] for v in c.versions("demo_org", model)]

def tree(root):
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() for p in Path(root).rglob("*") if p.is_file()}

first = c.snapshot("demo_org", model, "production")
out["first"] = {"from_cache": first.from_cache, "version": first.version, "tree": tree(first.path)}
second = c.snapshot("demo_org", model, "production")
out["second"] = {"from_cache": second.from_cache, "same_path": second.path == first.path}

# Corrupt one cached blob: the next download must notice and fetch it again.
shard = next(f for f in second.files if f["path"] == "model-00001-of-00002.safetensors")
blob = Path(cache) / "blobs" / shard["sha256"]
data = bytearray(blob.read_bytes()); data[0] ^= 0xFF
blob.write_bytes(bytes(data))
third = c.snapshot("demo_org", model, "production")
out["third"] = {"refetched": [f["path"] for f in third.files if not f["cached"]], "tree": tree(third.path)}

one = c.download("demo_org", model, "1.0", filename="config.json")
out["one"] = {"path": one, "sha256": hashlib.sha256(Path(one).read_bytes()).hexdigest()}

try:
    c.versions("demo_org", "no_such_model_" + model)
except FairMindError as e:
    out["error"] = {"code": e.code, "status": e.status}
print(json.dumps(out))
`;

test.describe("Python client", () => {
  test.skip(!hasPython, `${PYTHON} is not installed: the Python client tests need it (set PYTHON=/path/to/python3)`);

  test("upload a folder, move production, download into the cache; the second download is served from the verified cache", async ({
    playwright,
    baseURL,
  }) => {
    const request = await playwright.request.newContext({ baseURL });
    const token = await createApiToken(request, "bob");
    await request.dispose();
    const model = `py_${stamp()}`;
    const folder = modelFolder(model);
    const local = Object.fromEntries(hashTree(folder));
    const cache = tmpDir();

    const r = await run(PYTHON, ["-c", SCRIPT, baseURL!, token, folder, model, cache], { env: { PYTHONPATH: CLIENT } });
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.uploaded).toMatchObject({ version: "1.0", status: "ready", layout: "transformers" });
    expect(out.alias).toMatchObject({ alias: "production", version: "1.0" });
    expect(out.models).toEqual([model]);
    expect(out.versions).toEqual(["1.0"]);
    expect(out.first).toMatchObject({ from_cache: false, version: "1.0", tree: local });
    expect(out.second).toEqual({ from_cache: true, same_path: true });
    expect(out.third.refetched).toEqual(["model-00001-of-00002.safetensors"]);
    expect(out.third.tree).toEqual(local);
    expect(out.one.sha256).toBe(local["config.json"]);
    expect(out.error).toEqual({ code: expect.stringMatching(/^not_found/), status: 404 });
  });

  test("pip installs the package from clients/python", async () => {
    const target = tmpDir();
    // Offline here: the system setuptools builds it without an isolated build environment when it can;
    // otherwise pip's own isolated build (which needs setuptools from an index) is used.
    const r = await run(PYTHON, ["-m", "pip", "install", "--quiet", "--no-deps", "--target", target, CLIENT], {
      env: { PIP_DISABLE_PIP_VERSION_CHECK: "1" },
    });
    expect(r.code, r.stderr).toBe(0);
    const check = await run(PYTHON, ["-c", "import fairmind, sys; print(fairmind.__version__, fairmind.Client.__doc__ is not None)"], {
      env: { PYTHONPATH: target },
    });
    expect(check.code, check.stderr).toBe(0);
    expect(check.stdout.trim()).toBe("0.1.0 True");
    expect(fs.existsSync(path.join(target, "fairmind", "py.typed"))).toBe(true);
  });
});
