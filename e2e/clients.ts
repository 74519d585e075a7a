import { spawn } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect, type APIRequestContext } from "@playwright/test";
import { PASSWORD, USERS } from "./pages";

// Shared by e2e/cli.spec.ts and e2e/python-client.spec.ts: real child processes (the CLI through its
// bin shim, Debian's python3) against the e2e server, with an API token made through the API.

export const stamp = () => `${Date.now().toString(36)}${crypto.randomBytes(2).toString("hex")}`;
export const sha = (b: Buffer) => crypto.createHash("sha256").update(b).digest("hex");

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to its end (never through a shell), optionally feeding stdin. */
export function run(cmd: string, args: string[], opts: { env?: Record<string, string>; input?: string; cwd?: string } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: { ...process.env, ...opts.env }, cwd: opts.cwd, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c) => (stdout += c));
    child.stderr.on("data", (c) => (stderr += c));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(opts.input ?? "");
  });
}

/** An API token for a demo user in demo_org, created through the REST API as a pipeline would. */
export async function createApiToken(request: APIRequestContext, user: keyof typeof USERS, role = "member"): Promise<string> {
  const s = await request.post("/api/v1/auth/sign-in", { data: { email: USERS[user], password: PASSWORD } });
  expect(s.status()).toBe(200);
  const auth = { Authorization: `Bearer ${(await s.json()).access_token}` };
  const t = await request.post("/api/v1/tokens", { headers: auth, data: { org: "demo_org", name: `e2e ${stamp()}`, role } });
  expect(t.status(), await t.text()).toBe(201);
  return (await t.json()).token as string;
}

/** A fresh copy of a fixture folder with one file made unique, so this run's upload sends bytes. */
export function modelFolder(name: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fm-e2e-"));
  const dest = path.join(dir, name);
  fs.cpSync("test/fixtures/folders/tiny-transformers", dest, { recursive: true });
  const config = JSON.parse(fs.readFileSync(path.join(dest, "config.json"), "utf8"));
  fs.writeFileSync(path.join(dest, "config.json"), JSON.stringify({ ...config, _e2e_run: name }, null, 2));
  return dest;
}

/** Every file under `dir` by relative path -> SHA-256. */
export function hashTree(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string, prefix: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const rel = prefix ? `${prefix}/${e.name}` : e.name;
      if (e.isDirectory()) walk(path.join(d, e.name), rel);
      else out.set(rel, sha(fs.readFileSync(path.join(d, e.name))));
    }
  };
  walk(dir, "");
  return out;
}

export const tmpDir = () => fs.mkdtempSync(path.join(os.tmpdir(), "fm-e2e-"));
