import { spawn } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { test, expect } from "@playwright/test";
import { createApiToken, hashTree, modelFolder, run, stamp, tmpDir } from "./clients";
import { PASSWORD, USERS } from "./pages";

// The `fairmind` CLI (cli/, docs/cli.md) as a pipeline runs it: a child process through the package's
// bin shim, its own config folder, an API token made through the API, the real server.

const BIN = path.resolve("bin/fairmind.mjs");

/** A local port nothing listens on (connections are refused: the network exit code). */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

test.describe("fairmind CLI", () => {
  let token: string;
  let env: Record<string, string>;
  let configHome: string;

  test.beforeAll(async ({ playwright, baseURL }) => {
    const request = await playwright.request.newContext({ baseURL });
    token = await createApiToken(request, "bob");
    await request.dispose();
    configHome = tmpDir();
    // FAIRMIND_URL/TOKEN from the developer's shell must not leak into the test.
    env = { XDG_CONFIG_HOME: configHome, FAIRMIND_URL: "", FAIRMIND_TOKEN: "" };
  });

  const fm = (args: string[], input?: string) => run(process.execPath, [BIN, ...args], { env, input });
  const fmJson = async (args: string[]) => {
    const r = await fm(["--json", ...args]);
    expect(r.code, `fairmind ${args.join(" ")}\n${r.stderr}`).toBe(0);
    return JSON.parse(r.stdout);
  };

  test("login stores the token 0600, whoami and orgs answer as the token", async ({ baseURL }) => {
    const login = await fm(["--url", baseURL!, "login", "--token", "-"], token);
    expect(login.code, login.stderr).toBe(0);
    expect(login.stdout).toContain(USERS.bob);
    const file = path.join(configHome, "fairmind", "config.json");
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(fs.statSync(path.dirname(file)).mode & 0o777).toBe(0o700);
    expect(JSON.parse(fs.readFileSync(file, "utf8")).servers[baseURL!].token).toBe(token);

    const me = await fmJson(["whoami"]);
    expect(me).toMatchObject({ user: { email: USERS.bob }, via: "api_token", token: { org: "demo_org", role: "member" } });
    const orgs = await fmJson(["orgs"]);
    expect(orgs.items.map((o: { slug: string }) => o.slug)).toContain("demo_org");
  });

  test("upload a folder as a new version, move production to it, download it back with matching SHA-256", async ({ baseURL }) => {
    await fm(["--url", baseURL!, "login", "--token", token]);
    const model = `cli_${stamp()}`;
    const dir = modelFolder(model);
    const local = hashTree(dir);

    const up = await fmJson([
      "upload",
      dir,
      "--model",
      model,
      "--version",
      "1.0",
      "--name",
      "CLI model",
      "--framework",
      "pytorch",
      "--tag",
      "dataset=e2e",
    ]);
    expect(up).toMatchObject({ org: "demo_org", model, version: "1.0", status: "ready", layout: "transformers" });
    expect(up.files).toHaveLength(local.size);
    // config.json is new bytes; the rest the organization may already store (deduplicated, not sent).
    expect(up.files.find((f: { path: string }) => f.path === "config.json").sent).toBe(true);

    // A second version with the same bytes sends nothing.
    const again = await fmJson(["upload", dir, "--model", model, "--version", "1.1"]);
    expect(again.sent_bytes).toBe(0);
    expect(again.files.every((f: { sent: boolean }) => !f.sent)).toBe(true);

    const alias = await fmJson(["alias", "set", model, "production", "1.0"]);
    expect(alias).toMatchObject({ alias: "production", version: "1.0" });

    const versions = await fmJson(["versions", model]);
    expect(versions.items.map((v: { version: string }) => v.version)).toEqual(["1.1", "1.0"]);
    const models = await fmJson(["models", "--search", model]);
    expect(models.items.map((m: { slug: string }) => m.slug)).toEqual([model]);

    const out = path.join(tmpDir(), "dl");
    const dl = await fmJson(["download", `${model}@production`, "-o", out]);
    expect(dl.version).toBe("1.0");
    expect(hashTree(out)).toEqual(local);

    // One file by path, from the org/model@version form.
    const one = path.join(tmpDir(), "one");
    const single = await fmJson(["download", `demo_org/${model}@1.1`, "--file", "config.json", "-o", one]);
    expect(single.files).toHaveLength(1);
    expect(fs.readdirSync(one)).toEqual(["config.json"]);
  });

  test("an interrupted download resumes from its partial file and verifies the whole", async ({ baseURL }) => {
    await fm(["--url", baseURL!, "login", "--token", token]);
    const model = `cli_resume_${stamp()}`;
    const dir = modelFolder(model);
    await fmJson(["upload", dir, "--model", model, "--version", "2.0"]);
    const shard = "model-00001-of-00002.safetensors";
    const bytes = fs.readFileSync(path.join(dir, shard));
    const out = path.join(tmpDir(), "dl");
    fs.mkdirSync(out, { recursive: true });
    // What a killed download leaves: the first part of the file under its .part name.
    const half = Math.floor(bytes.length / 2);
    fs.writeFileSync(path.join(out, `${shard}.part`), bytes.subarray(0, half));

    const dl = await fmJson(["download", model, "-o", out, "--file", shard]);
    expect(dl.files[0]).toMatchObject({ path: shard, resumed_from: half, skipped: false });
    expect(fs.readFileSync(path.join(out, shard)).equals(bytes)).toBe(true);
    expect(fs.existsSync(path.join(out, `${shard}.part`))).toBe(false);

    // Run again: the file is already here and verified, nothing is fetched.
    const again = await fmJson(["download", model, "-o", out, "--file", shard]);
    expect(again.files[0]).toMatchObject({ skipped: true });

    // A partial file with wrong bytes fails the SHA-256 check (exit 4) and is removed.
    fs.rmSync(path.join(out, shard));
    fs.writeFileSync(path.join(out, `${shard}.part`), Buffer.alloc(half, 7));
    const bad = await fm(["download", model, "-o", out, "--file", shard]);
    expect(bad.code, bad.stderr).toBe(4);
    expect(bad.stderr).toContain("checksum_mismatch");
    expect(fs.existsSync(path.join(out, `${shard}.part`))).toBe(false);
  });

  test("an upload killed half way resumes inside the file (tus) and completes the version", async ({ baseURL }) => {
    test.setTimeout(120_000);
    await fm(["--url", baseURL!, "login", "--token", token]);
    const model = `cli_tus_${stamp()}`;
    const dir = path.join(tmpDir(), model);
    fs.mkdirSync(dir);
    // A real (if dull) safetensors file: 8-byte header length, JSON header, 96 MiB of tensor bytes.
    const n = 96 * 1024 * 1024;
    const header = Buffer.from(JSON.stringify({ w: { dtype: "U8", shape: [n], data_offsets: [0, n] } }).padEnd(64, " "));
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(header.length));
    const file = path.join(dir, "weights.safetensors");
    const fd = fs.openSync(file, "w");
    fs.writeSync(fd, Buffer.concat([len, header]));
    for (let i = 0; i < 12; i++) fs.writeSync(fd, crypto.randomBytes(n / 12));
    fs.closeSync(fd);
    const tusEnv = { ...env, FAIRMIND_TUS_MIN_BYTES: "1" };

    // Start the upload, wait until the server holds part of the file, then kill the CLI outright.
    const child = spawn(process.execPath, [BIN, "upload", dir, "--model", model, "--version", "1.0"], {
      env: { ...process.env, ...tusEnv },
      stdio: "ignore",
    });
    const exited = new Promise((resolve) => child.on("exit", resolve));
    const store = path.join(configHome, "fairmind", "tus-uploads.json");
    let offset = 0;
    for (let i = 0; i < 600 && offset === 0 && child.exitCode === null; i++) {
      await new Promise((r) => setTimeout(r, 20));
      const entries = fs.existsSync(store) ? Object.values(JSON.parse(fs.readFileSync(store, "utf8") || "{}")) : [];
      const url = (entries[0] as { uploadUrl?: string } | undefined)?.uploadUrl;
      if (!url) continue;
      const head = await fetch(url, { method: "HEAD", headers: { authorization: `Bearer ${token}`, "tus-resumable": "1.0.0" } });
      offset = Number(head.headers.get("upload-offset") ?? 0);
    }
    child.kill("SIGKILL");
    await exited;
    expect(offset, "the first run was killed after part of the file reached the server").toBeGreaterThan(0);

    const r = await run(process.execPath, [BIN, "--json", "upload", dir, "--model", model, "--version", "1.0"], { env: tusEnv });
    expect(r.code, r.stderr).toBe(0);
    const up = JSON.parse(r.stdout);
    expect(up.status).toBe("ready");
    expect(up.resumed).toHaveLength(1);
    expect(up.resumed[0].from).toBeGreaterThanOrEqual(offset);
    expect(up.resumed[0].from).toBeLessThan(fs.statSync(file).size);
    const files = await fmJson(["download", model, "-o", path.join(tmpDir(), "dl")]);
    expect(files.files[0].sha256).toBe(crypto.createHash("sha256").update(fs.readFileSync(file)).digest("hex"));
  });

  test("errors carry the server's code and a documented exit code", async ({ baseURL }) => {
    await fm(["--url", baseURL!, "login", "--token", token]);
    const missing = await fm(["versions", `no_such_model_${stamp()}`]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/not_found\S* \(HTTP 404\)/);

    const json = await fm(["--json", "download", `no_such_model_${stamp()}`]);
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stdout).error).toMatchObject({ status: 404 });

    const usage = await fm(["upload", "--model", "x", "--version", "1.0"]);
    expect(usage.code).toBe(1);

    const offline = await run(process.execPath, [BIN, "--url", `http://127.0.0.1:${await closedPort()}`, "whoami"], {
      env: { ...env, FAIRMIND_TOKEN: token },
    });
    expect(offline.code).toBe(3);
    expect(offline.stderr).toContain("network");

    // An API token cannot mint tokens: the server says so, the CLI shows it.
    const minted = await fm(["tokens", "create", "--name", "nope"]);
    expect(minted.code).toBe(2);
  });

  test("login with e-mail and password creates a token; tokens list and revoke", async ({ baseURL }) => {
    const home = tmpDir();
    const env2 = { ...env, XDG_CONFIG_HOME: home };
    const login = await run(
      process.execPath,
      [BIN, "--url", baseURL!, "--json", "login", "--email", USERS.bob, "--org", "demo_org", "--name", "cli e2e"],
      {
        env: env2,
        input: `${PASSWORD}\n`,
      },
    );
    expect(login.code, login.stderr).toBe(0);
    expect(JSON.parse(login.stdout).token).toMatchObject({ org: "demo_org", role: "member" });

    const list = JSON.parse((await run(process.execPath, [BIN, "--json", "tokens", "list"], { env: env2 })).stdout);
    const mine = list.items.find((t: { name: string; revoked_at: string | null }) => t.name === "cli e2e" && !t.revoked_at);
    expect(mine).toBeTruthy();

    // tokens create with a password sign-in for that one call.
    const created = await run(
      process.execPath,
      [BIN, "--json", "tokens", "create", "--name", "ci job", "--role", "viewer", "--email", USERS.bob],
      {
        env: env2,
        input: PASSWORD,
      },
    );
    expect(created.code, created.stderr).toBe(0);
    const made = JSON.parse(created.stdout);
    expect(made.token).toMatch(/^fm_/);
    const revoked = await run(process.execPath, [BIN, "--json", "tokens", "revoke", made.id], { env: env2 });
    expect(revoked.code, revoked.stderr).toBe(0);
    const viaRevoked = await run(process.execPath, [BIN, "--url", baseURL!, "whoami"], { env: { ...env2, FAIRMIND_TOKEN: made.token } });
    expect(viaRevoked.code).toBe(2);

    // The stored token itself: revoke it last (the CLI uses it to revoke itself).
    const self = await run(process.execPath, [BIN, "--json", "tokens", "revoke", mine.id], { env: env2 });
    expect(self.code, self.stderr).toBe(0);
  });

  test("inspect runs the scanner locally: a malicious pickle is dangerous (exit 5), an ONNX file safe", async () => {
    const r = await fm(["--json", "inspect", "test/fixtures/models/churn_model_v1.onnx", "test/fixtures/models/malicious_os_system.pkl"]);
    expect(r.code).toBe(5);
    const [onnx, pkl] = JSON.parse(r.stdout);
    expect(onnx).toMatchObject({ format: "onnx", verdict: "safe" });
    expect(pkl).toMatchObject({ verdict: "dangerous" });
  });
});
