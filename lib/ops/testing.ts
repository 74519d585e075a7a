// Test helpers for lib/ops (not a test file): model files the inspector accepts, and a world with
// versions in every state a backup, purge or migration has to handle.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import { Readable } from "node:stream";
import type { Database } from "@/lib/db/types";
import type { BlobStore } from "@/lib/storage/blob-store";
import type { ModelVersion } from "@/lib/storage/types";
import { fixture, type World } from "@/test/world";

/** A valid safetensors file of exactly `size` bytes (one U8 tensor of random bytes). */
export function safetensors(size: number): Buffer {
  const headerFor = (n: number) => JSON.stringify({ w: { dtype: "U8", shape: [n], data_offsets: [0, n] } });
  let dataLen = size - 8;
  for (let i = 0; i < 5; i++) dataLen = size - 8 - Buffer.byteLength(headerFor(dataLen));
  const header = Buffer.from(headerFor(dataLen));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(header.length));
  const out = Buffer.concat([len, header, randomBytes(dataLen)]);
  if (out.length !== size) throw new Error(`could not size a ${size}-byte safetensors file`);
  return out;
}

/** A one-file version with the key of its one blob (the object ops tools copy, back up, purge). */
export type StoredVersion = ModelVersion & { object_key: string };

/** Uploads `data` as version `version` of `model` in org A, as the org's member. */
export async function upload(
  w: World,
  model: string,
  version: string,
  data: Buffer,
  fileName = `${model}.safetensors`,
): Promise<StoredVersion> {
  const v = await w.services.uploads.uploadVersion(w.users.member, {
    org: w.orgs.a.slug,
    model,
    version,
    fileName,
    body: Readable.from([data]),
    contentLength: data.length,
    metadata: { task_type: "classification" },
  });
  return { ...v, object_key: await w.keyOf(v) };
}

export interface SeededVersions {
  ready: StoredVersion[];
  production: StoredVersion;
  deleted: StoredVersion;
  quarantined: StoredVersion;
}

/** A few ready versions (one behind `production`), one soft-deleted, one quarantined pickle. */
export async function seedVersions(w: World, opts: { count?: number; size?: number } = {}): Promise<SeededVersions> {
  const ready: StoredVersion[] = [];
  for (let i = 0; i < (opts.count ?? 4); i++)
    ready.push(await upload(w, i % 2 ? "churn" : "fraud", `1.${i}`, safetensors((opts.size ?? 40_000) + i * 997)));
  const production = ready[0]!;
  await w.services.aliases.setAlias(w.users.member, w.orgs.a.slug, "fraud", "production", production.version);
  const deleted = await upload(w, "fraud", "0.9", safetensors(12_345));
  await w.services.catalog.deleteVersion(w.users.admin, w.orgs.a.slug, "fraud", "0.9");
  const risky = await w.services.uploads.uploadVersion(w.users.member, {
    org: w.orgs.a.slug,
    model: "risky",
    version: "1.0",
    fileName: "risky.pkl",
    body: fs.createReadStream(fixture("malicious_os_system.pkl")),
  });
  const quarantined = { ...risky, object_key: await w.keyOf(risky) };
  return { ready, production, deleted, quarantined };
}

/** Every object in a store with its SHA-256, sorted by key. */
export async function hashStore(store: BlobStore): Promise<{ key: string; size: number; sha256: string }[]> {
  const { createHash } = await import("node:crypto");
  const out = [];
  for await (const s of store.list("")) {
    const h = createHash("sha256");
    let size = 0;
    for await (const c of (await store.get(s.key)).stream) {
      h.update(c as Buffer);
      size += (c as Buffer).length;
    }
    out.push({ key: s.key, size, sha256: h.digest("hex") });
  }
  return out.sort((a, b) => (a.key < b.key ? -1 : 1));
}

/** Row counts of the tables a restore must reproduce. */
export async function ourRowCounts(db: Database): Promise<Record<string, number>> {
  const tables = [
    "auth.users",
    "public.organizations",
    "public.memberships",
    "public.profiles",
    "public.models",
    "public.model_versions",
    "public.blobs",
    "public.version_files",
    "public.model_aliases",
    "public.model_alias_history",
    "public.audit_events",
    "public.api_tokens",
    "storage.objects",
  ];
  const out: Record<string, number> = {};
  for (const t of tables) out[t] = (await db.query<{ n: number }>(`select count(*)::int as n from ${t}`)).rows[0]!.n;
  return out;
}

/** A script run in a child process the way npm runs it (node + tsx, react-server condition). */
export function spawnScript(script: string, args: string[], env: Record<string, string | undefined>) {
  const child = spawn(process.execPath, ["--import", "tsx", "--conditions=react-server", script, ...args], {
    cwd: process.cwd(),
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env } as unknown as NodeJS.ProcessEnv,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  const waiters: { re: RegExp; resolve: () => void }[] = [];
  const onData = (d: Buffer) => {
    out += d.toString();
    for (const w of [...waiters])
      if (w.re.test(out)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
  };
  child.stdout.on("data", onData);
  child.stderr.on("data", onData);
  const exit = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return {
    child,
    exit,
    output: () => out,
    /** Resolves once the combined output matches `re`; rejects if the process exits first. */
    waitFor: (re: RegExp) =>
      re.test(out)
        ? Promise.resolve()
        : Promise.race([
            new Promise<void>((resolve) => waiters.push({ re, resolve })),
            exit.then((code) => {
              throw new Error(`exited (${code}) before printing ${re}:\n${out}`);
            }),
          ]),
  };
}
