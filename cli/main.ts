import fs from "node:fs";
import { Command, CommanderError } from "commander";
import YAML from "yaml";
import { inspectFile } from "../lib/inspect/inspect";
import { Api, enc } from "./api";
import { readConfig, resolveServer, writeConfig } from "./config";
import { CliError, EXIT, usageError } from "./errors";
import { createProgress } from "./progress";
import { download, upload } from "./transfer";

// `fairmind`: the command line of FairMind Model Storage (docs/cli.md). Every command takes --json
// (one JSON document on stdout); errors go to stderr with the server's code, and the exit code says
// what kind of failure it was (cli/errors.ts).

interface Me {
  user: { id: string; email: string | null };
  via: string;
  token: { id: string; org: string | null; role: string } | null;
  orgs: { slug: string; name: string; role: string }[];
}

const program = new Command("fairmind")
  .description("FairMind Model Storage from the command line")
  .option("--url <url>", "server URL (default: FAIRMIND_URL, then the last login)")
  .option("--json", "print one JSON document on stdout")
  .showHelpAfterError()
  .exitOverride();

const globals = () => program.opts<{ url?: string; json?: boolean }>();
const json = () => Boolean(globals().json);

function out(value: unknown, human: () => string) {
  process.stdout.write(json() ? `${JSON.stringify(value, null, 2)}\n` : `${human()}\n`);
}

function table(rows: string[][]): string {
  if (rows.length === 0) return "(none)";
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  return rows
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i]!))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

/** An authenticated client for the current server (usage error when there is no credential). */
function client(): Api {
  const { url, token } = resolveServer(globals().url);
  if (!token) throw usageError(`Not logged in to ${url}: run \`fairmind login --token …\` or set FAIRMIND_TOKEN.`);
  return new Api(url, token);
}

/** --org, then the org the login stored (an API token's own), then the caller's only org. */
async function orgOf(api: Api, flag?: string): Promise<string> {
  if (flag) return flag;
  const { entry } = resolveServer(globals().url);
  if (entry?.org && !process.env.FAIRMIND_TOKEN) return entry.org;
  const me = await api.call<Me>("GET", "/api/v1/me");
  if (me.token?.org) return me.token.org;
  if (me.orgs.length === 1) return me.orgs[0]!.slug;
  throw usageError(`Which organization? Pass --org (one of: ${me.orgs.map((o) => o.slug).join(", ")}).`);
}

/** "org/model@ref" or "model@ref" (org from --org). */
function parseModelRef(spec: string): { org?: string; model: string; ref?: string } {
  const m = /^(?:([^/@]+)\/)?([^/@]+)(?:@(.+))?$/.exec(spec);
  if (!m) throw usageError(`Not a model reference: ${spec} (MODEL, MODEL@VERSION, MODEL@ALIAS or ORG/MODEL@…)`);
  return { org: m[1], model: m[2]!, ref: m[3] };
}

async function readStdin(prompt = "Password: "): Promise<string> {
  if (process.stdin.isTTY) {
    process.stderr.write(prompt);
    // Typed, not echoed: raw mode, one line.
    return new Promise((resolve) => {
      let s = "";
      process.stdin.setRawMode(true);
      process.stdin.resume();
      process.stdin.on("data", (b: Buffer) => {
        for (const ch of b.toString("utf8")) {
          if (ch === "\r" || ch === "\n" || ch === "\u0004") {
            process.stdin.setRawMode(false);
            process.stdin.pause();
            process.stderr.write("\n");
            resolve(s);
            return;
          }
          if (ch === "\u0003") process.exit(EXIT.usage);
          s = ch === "\u007f" ? s.slice(0, -1) : s + ch;
        }
      });
    });
  }
  let s = "";
  for await (const c of process.stdin) s += c;
  return s.replace(/\r?\n$/, "");
}

async function signIn(url: string, email: string): Promise<string> {
  const password = await readStdin();
  const r = await new Api(url, null).call<{ access_token: string }>("POST", "/api/v1/auth/sign-in", { email, password });
  return r.access_token;
}

program
  .command("login")
  .description("store an API token for a server (checked with the server first)")
  .option("--token <token>", "an API token (fm_…) made in the UI or with `tokens create`; '-' reads it from stdin")
  .option("--email <email>", "sign in with a password read from stdin and create an API token")
  .option("--org <org>", "with --email: the organization of the new token")
  .option("--role <role>", "with --email: the token's role (admin, member, viewer)", "member")
  .option("--name <name>", "with --email: the token's name", "fairmind CLI")
  .action(async (o: { token?: string; email?: string; org?: string; role: string; name: string }) => {
    const { url } = resolveServer(globals().url);
    let token = o.token === "-" ? (await readStdin("API token: ")).trim() : o.token;
    if (!token && !o.email) throw usageError("Pass --token TOKEN, or --email EMAIL with the password on stdin.");
    if (!token) {
      const access = await signIn(url, o.email!);
      const session = new Api(url, access);
      let org = o.org;
      if (!org) {
        const orgs = (await session.call<Me>("GET", "/api/v1/me")).orgs;
        if (orgs.length !== 1) throw usageError(`Pass --org (one of: ${orgs.map((x) => x.slug).join(", ")}).`);
        org = orgs[0]!.slug;
      }
      token = (await session.call<{ token: string }>("POST", "/api/v1/tokens", { org, name: o.name, role: o.role })).token;
    }
    const me = await new Api(url, token).call<Me>("GET", "/api/v1/me");
    const c = readConfig();
    c.servers[url] = { token, org: me.token?.org ?? o.org ?? null, email: me.user.email };
    c.current = url;
    writeConfig(c);
    out(
      { url, user: me.user, token: me.token },
      () => `Logged in to ${url} as ${me.user.email ?? me.user.id}${me.token?.org ? ` (${me.token.org}, ${me.token.role})` : ""}`,
    );
  });

program
  .command("logout")
  .description("forget the stored token of the server")
  .action(() => {
    const { url } = resolveServer(globals().url);
    const c = readConfig();
    delete c.servers[url];
    if (c.current === url) delete c.current;
    writeConfig(c);
    out({ url, logged_out: true }, () => `Logged out of ${url}`);
  });

program
  .command("whoami")
  .description("the user and organization of the current credentials")
  .action(async () => {
    const api = client();
    const me = await api.call<Me>("GET", "/api/v1/me");
    out({ url: api.url, ...me }, () =>
      [
        `${me.user.email ?? me.user.id} on ${api.url} (${me.via === "api_token" ? "API token" : me.via})`,
        ...(me.token ? [`token: ${me.token.org} (${me.token.role})`] : []),
      ].join("\n"),
    );
  });

program
  .command("orgs")
  .description("your organizations and your role in each")
  .action(async () => {
    const r = await client().call<{ items: Me["orgs"] }>("GET", "/api/v1/orgs");
    out(r, () => table([["ORG", "NAME", "ROLE"], ...r.items.map((o) => [o.slug, o.name, o.role])]));
  });

program
  .command("models")
  .description("models of an organization")
  .option("--org <org>", "organization slug")
  .option("--search <text>", "search names, descriptions and tags")
  .option("--limit <n>", "at most this many", "50")
  .action(async (o: { org?: string; search?: string; limit: string }) => {
    const api = client();
    const org = await orgOf(api, o.org);
    const q = new URLSearchParams({ limit: o.limit, ...(o.search ? { q: o.search } : {}) });
    type M = { slug: string; name: string; latest_version: string | null; version_count: number; latest_aliases: string[] };
    const r = await api.call<{ items: M[] }>("GET", `/api/v1/orgs/${enc(org)}/models?${q}`);
    out(r, () =>
      table([
        ["MODEL", "NAME", "LATEST", "VERSIONS", "ALIASES"],
        ...r.items.map((m) => [m.slug, m.name, m.latest_version ?? "-", String(m.version_count), m.latest_aliases.join(",")]),
      ]),
    );
  });

program
  .command("versions")
  .description("versions of a model, newest first")
  .argument("<model>", "MODEL or ORG/MODEL")
  .option("--org <org>", "organization slug")
  .action(async (spec: string, o: { org?: string }) => {
    const api = client();
    const ref = parseModelRef(spec);
    const org = await orgOf(api, o.org ?? ref.org);
    type V = { version: string; status: string; size_bytes: number | null; file_count: number; layout: string | null; created_at: string };
    const r = await api.call<{ items: V[] }>("GET", `/api/v1/orgs/${enc(org)}/models/${enc(ref.model)}/versions`);
    out(r, () =>
      table([
        ["VERSION", "STATUS", "FILES", "BYTES", "LAYOUT", "CREATED"],
        ...r.items.map((v) => [v.version, v.status, String(v.file_count), String(v.size_bytes ?? "-"), v.layout ?? "-", v.created_at]),
      ]),
    );
  });

const collect = (v: string, prev: string[]) => [...prev, v];

program
  .command("upload")
  .description("upload files or a folder as a new version (creates the model when needed; resumable)")
  .argument("<path...>", "files and folders; a folder's files keep their relative paths")
  .requiredOption("--model <model>", "model slug")
  .requiredOption("--version <version>", "the new version, e.g. 1.2.0")
  .option("--org <org>", "organization slug")
  .option("--metadata <file>", "JSON or YAML: name, task_type, framework, description, tags (model); version_tags, provenance")
  .option("--name <name>", "model name (a new model)")
  .option("--task-type <type>", "classification, regression, clustering, time_series, nlp, llm, other")
  .option("--framework <framework>", "e.g. pytorch")
  .option("--description <text>", "model description")
  .option("--model-tag <tag>", "a model tag (repeatable)", collect, [])
  .option("--tag <key=value>", "a version tag (repeatable)", collect, [])
  .option("--git-commit <sha>", "provenance: the git commit")
  .option("--source-run-url <url>", "provenance: the training run")
  .option("--dataset <name>", "provenance: the dataset")
  .action(async (paths: string[], o: Record<string, string | string[] | undefined>) => {
    const api = client();
    const org = await orgOf(api, o.org as string | undefined);
    const file = o.metadata ? (YAML.parse(readText(o.metadata as string)) as Record<string, unknown>) : {};
    const { version_tags, provenance, ...fileMeta } = (file ?? {}) as {
      version_tags?: Record<string, string>;
      provenance?: Record<string, unknown>;
    };
    const metadata: Record<string, unknown> = { ...fileMeta };
    if (o.name) metadata.name = o.name;
    if (o.taskType) metadata.task_type = o.taskType;
    if (o.framework) metadata.framework = o.framework;
    if (o.description) metadata.description = o.description;
    if ((o.modelTag as string[]).length) metadata.tags = o.modelTag;
    const tags: Record<string, string> = { ...(version_tags ?? {}) };
    for (const t of o.tag as string[]) {
      const i = t.indexOf("=");
      if (i < 1) throw usageError(`--tag wants key=value, got ${t}`);
      tags[t.slice(0, i)] = t.slice(i + 1);
    }
    const prov: Record<string, unknown> = { ...(provenance ?? {}) };
    if (o.gitCommit) prov.git_commit = o.gitCommit;
    if (o.sourceRunUrl) prov.source_run_url = o.sourceRunUrl;
    if (o.dataset) prov.dataset = o.dataset;
    const progress = createProgress({ json: json() });
    const r = await upload(
      api,
      paths,
      { org, model: o.model as string, version: o.version as string, metadata, tags, provenance: prov },
      progress,
    );
    out(r, () => `Uploaded ${r.org}/${r.model}@${r.version} (${r.status}): ${r.files.length} file(s), ${r.sent_bytes} bytes sent`);
  });

function readText(file: string): string {
  try {
    return fs.readFileSync(file, "utf8");
  } catch {
    throw usageError(`Cannot read ${file}`);
  }
}

program
  .command("download")
  .description("download a version (all files, or one) and verify every SHA-256; resumes partial files")
  .argument("<model>", "MODEL, MODEL@VERSION, MODEL@ALIAS or ORG/MODEL@…; no @: the latest version")
  .option("--org <org>", "organization slug")
  .option("-o, --output <dir>", "folder to write into (default: ./MODEL-VERSION)")
  .option("--file <path>", "only this file of the version")
  .action(async (spec: string, o: { org?: string; output?: string; file?: string }) => {
    const api = client();
    const ref = parseModelRef(spec);
    const org = await orgOf(api, o.org ?? ref.org);
    const r = await download(api, { org, model: ref.model, ref: ref.ref, out: o.output, file: o.file }, createProgress({ json: json() }));
    out(r, () => `Downloaded ${r.org}/${r.model}@${r.version} to ${r.dir}: ${r.files.length} file(s) verified`);
  });

const alias = program.command("alias").description("aliases such as production and staging");
alias
  .command("set")
  .description("move an alias to a version")
  .argument("<model>", "MODEL or ORG/MODEL")
  .argument("<alias>", "e.g. production")
  .argument("<version>", "e.g. 1.2.0")
  .option("--org <org>", "organization slug")
  .action(async (spec: string, name: string, version: string, o: { org?: string }) => {
    const api = client();
    const ref = parseModelRef(spec);
    const org = await orgOf(api, o.org ?? ref.org);
    const r = await api.call<{ alias: string; version: string; previous: string | null }>(
      "PUT",
      `/api/v1/orgs/${enc(org)}/models/${enc(ref.model)}/aliases/${enc(name)}`,
      { version },
    );
    out(r, () => `${ref.model}: ${r.alias} -> ${r.version}${r.previous ? ` (was ${r.previous})` : ""}`);
  });

const tokens = program.command("tokens").description("API tokens for pipelines");
type Token = {
  id: string;
  name: string;
  prefix: string;
  role: string;
  expires_at: string | null;
  revoked_at: string | null;
  token?: string;
};
tokens
  .command("create")
  .description("create an API token (the secret is printed once); needs a password sign-in: API tokens cannot make tokens")
  .requiredOption("--name <name>", "what the token is for")
  .option("--org <org>", "organization slug")
  .option("--role <role>", "admin, member or viewer", "viewer")
  .option("--expires-days <n>", "expire after this many days (1-365)")
  .option("--email <email>", "sign in with the password on stdin for this call")
  .action(async (o: { name: string; org?: string; role: string; expiresDays?: string; email?: string }) => {
    const { url } = resolveServer(globals().url);
    const api = o.email ? new Api(url, await signIn(url, o.email)) : client();
    const org = await orgOf(api, o.org);
    const body = { org, name: o.name, role: o.role, ...(o.expiresDays ? { expires_in_days: Number(o.expiresDays) } : {}) };
    const r = await api.call<Token>("POST", "/api/v1/tokens", body);
    out(r, () => `${r.token}\n(${r.name}, ${org}, ${r.role}: shown once, store it now)`);
  });
tokens
  .command("list")
  .description("your API tokens in an organization (all of them for admins)")
  .option("--org <org>", "organization slug")
  .action(async (o: { org?: string }) => {
    const api = client();
    const org = await orgOf(api, o.org);
    const r = await api.call<{ items: Token[] }>("GET", `/api/v1/tokens?org=${enc(org)}`);
    out(r, () =>
      table([
        ["ID", "NAME", "PREFIX", "ROLE", "EXPIRES", "REVOKED"],
        ...r.items.map((t) => [t.id, t.name, t.prefix, t.role, t.expires_at ?? "-", t.revoked_at ?? "-"]),
      ]),
    );
  });
tokens
  .command("revoke")
  .description("revoke a token by id")
  .argument("<id>", "the token's id (tokens list)")
  .action(async (id: string) => {
    await client().call("DELETE", `/api/v1/tokens/${enc(id)}`);
    out({ id, revoked: true }, () => `Revoked ${id}`);
  });

program
  .command("inspect")
  .description("inspect model files locally (format, metadata, pickle and secret scan); no server")
  .argument("<file...>", "model files")
  .action(async (files: string[]) => {
    const results: ({ file: string } & Awaited<ReturnType<typeof inspectFile>>)[] = [];
    for (const file of files) {
      if (!fs.existsSync(file) || !fs.statSync(file).isFile()) throw usageError(`Not a file: ${file}`);
      results.push({ file, ...(await inspectFile(file)) });
    }
    out(results, () =>
      results
        .map(
          (r) =>
            `${r.file}: ${r.format ?? "unknown"}${r.framework ? ` (${r.framework})` : ""}, ${r.verdict}${r.findings.length ? `\n  ${r.findings.map((f) => JSON.stringify(f)).join("\n  ")}` : ""}`,
        )
        .join("\n"),
    );
    if (results.some((r) => r.verdict === "dangerous")) process.exitCode = EXIT.dangerous;
  });

function report(e: unknown): number {
  if (e instanceof CommanderError) return e.exitCode === 0 ? EXIT.ok : EXIT.usage;
  const err = e instanceof CliError ? e : new CliError((e as Error)?.stack ?? String(e), EXIT.server, "internal");
  const head = err.status ? `${err.code} (HTTP ${err.status})` : (err.code ?? "error");
  if (json())
    process.stdout.write(
      `${JSON.stringify({ error: { code: err.code, message: err.message, status: err.status, details: err.details } }, null, 2)}\n`,
    );
  process.stderr.write(`fairmind: ${head}: ${err.message}\n`);
  const fields = (err.details as { fields?: Record<string, unknown> } | undefined)?.fields;
  if (fields) for (const [k, v] of Object.entries(fields)) process.stderr.write(`  ${k}: ${Array.isArray(v) ? v.join("; ") : String(v)}\n`);
  return err.exitCode;
}

program.parseAsync(process.argv).then(
  () => {
    process.exitCode ??= EXIT.ok;
  },
  (e: unknown) => {
    process.exitCode = report(e);
  },
);
