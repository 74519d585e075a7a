import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { Api, enc } from "./api";
import { configDir } from "./config";
import { CliError, checksumError, usageError } from "./errors";
import { hashFile, listLocalFiles, safeJoin, type LocalFile } from "./files";
import { fetchToFile, putFile } from "./http-stream";
import { formatBytes, type Progress } from "./progress";
import { tusThreshold, tusUpload } from "./tus";

// upload: announce every file (path, size, SHA-256) in a commit, send only those the organization
// does not store, complete. Resumable: the commit id is kept in uploads.json until it completes, so a
// re-run sends only the files still missing. download: every file (or one) of a version, resuming
// `.part` files with Range, each verified against its SHA-256 before it takes its name.

interface CommitFile {
  path: string;
  size: number | null;
  sha256: string | null;
  state: "stored" | "upload";
  deduplicated: boolean;
  upload?: { put_url: string; tus: { endpoint: string; metadata: Record<string, string> } };
}
interface Commit {
  id: string;
  version: string;
  files: CommitFile[];
  upload_bytes: number;
  deduplicated_bytes: number;
  complete_url: string;
}
interface VersionFile {
  path: string;
  size: number;
  sha256: string;
  download_url: string;
}
export interface Version {
  version: string;
  status: string;
  sha256: string | null;
  size_bytes: number | null;
  file_count: number;
  layout: string | null;
  scan_verdict?: string;
}

export interface UploadOptions {
  org: string;
  model: string;
  version: string;
  metadata: Record<string, unknown>;
  tags: Record<string, string>;
  provenance: Record<string, unknown>;
}

const stateFile = () => path.join(configDir(), "uploads.json");
function readState(): Record<string, string> {
  try {
    return JSON.parse(fs.readFileSync(stateFile(), "utf8")) as Record<string, string>;
  } catch {
    return {};
  }
}
function writeState(s: Record<string, string>) {
  fs.mkdirSync(configDir(), { recursive: true, mode: 0o700 });
  fs.writeFileSync(stateFile(), `${JSON.stringify(s, null, 2)}\n`, { mode: 0o600 });
}

export async function upload(api: Api, inputs: string[], o: UploadOptions, progress: Progress) {
  const listed = listLocalFiles(inputs);
  const total = listed.reduce((n, f) => n + f.size, 0);
  progress.line(`Hashing ${listed.length} file(s), ${formatBytes(total)}`);
  progress.start("hash  ", total);
  const files: LocalFile[] = [];
  for (const f of listed) files.push({ ...f, sha256: await hashFile(f.abs, (n) => progress.add(n)) });
  progress.stop();

  const announced = files.map((f) => ({ path: f.path, size: f.size, sha256: f.sha256 }));
  const base = `/api/v1/orgs/${enc(o.org)}/models/${enc(o.model)}`;
  const key = `${api.url}|${o.org}/${o.model}@${o.version}|${crypto.createHash("sha256").update(JSON.stringify(announced)).digest("hex")}`;
  const state = readState();
  let commit: Commit | null = null;
  if (state[key]) {
    try {
      commit = await api.call<Commit>("GET", `${base}/commits/${enc(state[key])}`);
      progress.line(`Resuming commit ${commit.id}`);
    } catch (e) {
      if (!(e instanceof CliError) || e.status !== 404) throw e;
    }
  }
  if (!commit) {
    commit = await api.call<Commit>("POST", `${base}/commits`, {
      version: o.version,
      files: announced,
      metadata: o.metadata,
      tags: o.tags,
      provenance: o.provenance,
    });
    writeState({ ...readState(), [key]: commit.id });
  }

  const byPath = new Map(files.map((f) => [f.path, f]));
  const todo = commit.files.filter((f) => f.state === "upload" && f.upload);
  const sent = new Set<string>();
  const resumed: { path: string; from: number }[] = [];
  const toSend = todo.reduce((n, f) => n + (f.size ?? 0), 0);
  progress.line(
    `${commit.files.length - todo.length} file(s) already stored (${formatBytes(commit.deduplicated_bytes)} deduplicated), ${todo.length} to send (${formatBytes(toSend)})`,
  );
  progress.start("upload", toSend);
  for (const f of todo) {
    const local = byPath.get(f.path);
    if (!local) throw usageError(`The commit lists ${f.path}, which is not among the local files.`);
    // Two paths with the same bytes share one blob: the second PUT would only answer "stored".
    if (sent.has(local.sha256)) continue;
    if (local.size >= tusThreshold()) {
      // Large: resumable within the file (tus), continuing where an interrupted run stopped.
      const { resumedFrom } = await tusUpload({
        server: api.url,
        endpoint: f.upload!.tus.endpoint,
        metadata: f.upload!.tus.metadata,
        headers: api.headers(),
        abs: local.abs,
        size: local.size,
        fingerprint: `${api.url}|${commit.id}|${f.path}|${local.sha256}`,
        onBytes: (n) => progress.add(n),
      });
      if (resumedFrom > 0) resumed.push({ path: f.path, from: resumedFrom });
    } else {
      await putFile(new URL(api.url + f.upload!.put_url), api.headers(), local.abs, local.size, (n) => progress.add(n));
    }
    sent.add(local.sha256);
    progress.line(`sent ${f.path} (${formatBytes(local.size)})`);
  }
  progress.stop();
  const version = await api.call<Version>("POST", commit.complete_url);
  const rest = readState();
  delete rest[key];
  writeState(rest);

  // The server verified each file against its announced SHA-256; check the version says the same.
  const stored = await api.call<{ items: VersionFile[] }>("GET", `${base}/versions/${enc(version.version)}/files`);
  for (const f of files) {
    const s = stored.items.find((i) => i.path === f.path);
    if (!s || s.sha256 !== f.sha256) throw checksumError(`${f.path}: the server stored ${s?.sha256 ?? "nothing"}, expected ${f.sha256}.`);
  }
  progress.line(`${o.org}/${o.model}@${version.version}: ${version.status}, ${files.length} file(s) verified`);
  return {
    org: o.org,
    model: o.model,
    version: version.version,
    status: version.status,
    layout: version.layout,
    files: files.map((f) => ({
      path: f.path,
      size: f.size,
      sha256: f.sha256,
      sent: todo.some((t) => t.path === f.path),
    })),
    sent_bytes: toSend,
    resumed,
    deduplicated_bytes: commit.deduplicated_bytes,
  };
}

interface ModelDetail {
  latest_version: string | null;
  aliases: { alias: string; version: string }[];
  versions: { version: string; status: string }[];
}

/** MODEL, MODEL@VERSION or MODEL@ALIAS (no ref: the latest version) -> the version. */
export async function resolveRef(api: Api, org: string, model: string, ref: string | undefined): Promise<string> {
  const m = await api.call<ModelDetail>("GET", `/api/v1/orgs/${enc(org)}/models/${enc(model)}`);
  if (!ref) {
    if (!m.latest_version) throw new CliError(`${model} has no version yet.`, 2, "not_found");
    return m.latest_version;
  }
  const alias = m.aliases.find((a) => a.alias === ref);
  if (alias) return alias.version;
  if (m.versions.some((v) => v.version === ref)) return ref;
  throw new CliError(`${model} has no version or alias ${ref}.`, 2, "not_found");
}

export async function download(api: Api, o: { org: string; model: string; ref?: string; out?: string; file?: string }, progress: Progress) {
  const version = await resolveRef(api, o.org, o.model, o.ref);
  const base = `/api/v1/orgs/${enc(o.org)}/models/${enc(o.model)}/versions/${enc(version)}`;
  const listing = await api.call<{ items: VersionFile[] }>("GET", `${base}/files`);
  const items = o.file ? listing.items.filter((f) => f.path === o.file) : listing.items;
  if (items.length === 0) throw new CliError(`${o.model}@${version} has no file ${o.file}.`, 2, "not_found");
  const dir = path.resolve(o.out ?? `${o.model}-${version}`);
  const total = items.reduce((n, f) => n + f.size, 0);
  progress.line(`${o.org}/${o.model}@${version}: ${items.length} file(s), ${formatBytes(total)} -> ${dir}`);
  const results = [];
  progress.start("download", total);
  for (const f of items) {
    const dest = safeJoin(dir, f.path);
    fs.mkdirSync(path.dirname(dest), { recursive: true });
    // A file already here with the right bytes is kept (re-verified, not re-sent).
    if (fs.existsSync(dest) && fs.statSync(dest).size === f.size && (await hashFile(dest)) === f.sha256) {
      progress.add(f.size);
      results.push({ path: f.path, size: f.size, sha256: f.sha256, skipped: true, resumed_from: 0 });
      continue;
    }
    const part = `${dest}.part`;
    const got = await fetchToFile(new URL(api.url + f.download_url), api.headers(), part, `"${f.sha256}"`, (n) => progress.add(n));
    if (got.sha256 !== f.sha256 || got.bytes !== f.size) {
      fs.rmSync(part, { force: true });
      throw checksumError(`${f.path}: got SHA-256 ${got.sha256} (${got.bytes} bytes), expected ${f.sha256} (${f.size} bytes).`);
    }
    fs.renameSync(part, dest);
    if (got.resumedFrom) progress.line(`resumed ${f.path} from byte ${got.resumedFrom}`);
    results.push({ path: f.path, size: f.size, sha256: f.sha256, skipped: false, resumed_from: got.resumedFrom });
  }
  progress.stop();
  progress.line(`${results.length} file(s) verified in ${dir}`);
  return { org: o.org, model: o.model, version, dir, files: results };
}
