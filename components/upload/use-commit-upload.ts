"use client";

import { createSHA256 } from "hash-wasm";
import { useCallback, useRef, useState } from "react";
import { Upload } from "tus-js-client";
import { createSpeedMeter } from "./upload-helpers";
import type { DroppedFolder } from "./folder-files";
import { folderFingerprint } from "./folder-files";
import { TUS_ENDPOINT_PATH, type UploadedVersion } from "./use-tus-upload";

// A folder as one version: hash every file in the browser (so what the organization already stores
// is never sent), announce the files in a commit, send the others resumably one after another, then
// complete — the version appears with all its files or not at all.

export type FileState = "waiting" | "hashing" | "stored" | "deduplicated" | "uploading" | "failed";
export type CommitPhase = "idle" | "hashing" | "committing" | "uploading" | "completing" | "done" | "error";

export interface CommitRequestFields {
  org: string;
  model: string;
  version: string;
  metadata: Record<string, unknown>;
  tags: Record<string, string>;
  provenance: Record<string, unknown>;
}

export interface CommitFailure {
  code: string;
  message: string;
  details?: Record<string, unknown>;
}

interface CommitAnswer {
  id: string;
  files: { path: string; state: "stored" | "upload"; deduplicated: boolean; size: number | null }[];
  complete_url: string;
}

async function api<T>(url: string, init: RequestInit = {}): Promise<T> {
  const r = await fetch(url, { ...init, headers: { accept: "application/json", "content-type": "application/json", ...init.headers } });
  const text = await r.text();
  const body = text ? (JSON.parse(text) as unknown) : null;
  if (!r.ok) {
    const e = (body as { error?: CommitFailure } | null)?.error;
    throw Object.assign(new Error(e?.message ?? `The server answered ${r.status}.`), {
      failure: e ?? { code: `http_${r.status}`, message: `The server answered ${r.status}.` },
    });
  }
  return body as T;
}

/** SHA-256 of a file, streamed through WebAssembly (no whole file in memory), with progress. */
async function sha256Of(file: File, onBytes: (n: number) => void): Promise<string> {
  const h = await createSHA256();
  h.init();
  const reader = file.stream().getReader();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    h.update(value);
    onBytes(value.byteLength);
  }
  return h.digest("hex");
}

const STORE_KEY = "fairmind.commits";
const savedCommits = (): Record<string, string> => {
  if (typeof localStorage === "undefined") return {};
  try {
    return JSON.parse(localStorage.getItem(STORE_KEY) ?? "{}") as Record<string, string>;
  } catch {
    return {};
  }
};
const saveCommit = (fp: string, id: string | null) => {
  const all = savedCommits();
  if (id) all[fp] = id;
  else delete all[fp];
  localStorage.setItem(STORE_KEY, JSON.stringify(all));
};

export function useCommitUpload(folder: DroppedFolder, chunkBytes: number) {
  const [phase, setPhase] = useState<CommitPhase>("idle");
  const [files, setFiles] = useState<Record<string, { state: FileState; sent: number }>>(() =>
    Object.fromEntries(folder.files.map((f) => [f.path, { state: "waiting", sent: 0 }])),
  );
  const [progress, setProgress] = useState({ hashed: 0, sent: 0, toSend: 0, rate: 0 });
  const [failure, setFailure] = useState<CommitFailure | null>(null);
  const [result, setResult] = useState<UploadedVersion | null>(null);
  const current = useRef<Upload | null>(null);
  const stopped = useRef(false);
  const fingerprint = folderFingerprint(folder);

  const setFile = (path: string, state: FileState, sent = 0) => setFiles((xs) => ({ ...xs, [path]: { state, sent } }));

  const start = useCallback(
    async (fields: CommitRequestFields) => {
      stopped.current = false;
      setFailure(null);
      try {
        // 1. Hash (only what the browser holds: nothing is sent yet).
        setPhase("hashing");
        const announced: { path: string; size: number; sha256: string }[] = [];
        let hashed = 0;
        for (const f of folder.files) {
          setFile(f.path, "hashing");
          const sha256 = await sha256Of(f.file, (n) => {
            hashed += n;
            setProgress((p) => ({ ...p, hashed }));
          });
          announced.push({ path: f.path, size: f.file.size, sha256 });
          setFile(f.path, "waiting");
          if (stopped.current) return;
        }
        // 2. Commit: resume ours if this very folder was being sent before a reload.
        setPhase("committing");
        const base = `/api/v1/orgs/${fields.org}/models/${fields.model}/commits`;
        const previous = savedCommits()[fingerprint];
        let commit: CommitAnswer | null = previous ? await api<CommitAnswer>(`${base}/${previous}`).catch(() => null) : null;
        commit ??= await api<CommitAnswer>(base, {
          method: "POST",
          body: JSON.stringify({
            version: fields.version,
            files: announced,
            metadata: fields.metadata,
            tags: fields.tags,
            provenance: fields.provenance,
          }),
        });
        saveCommit(fingerprint, commit.id);
        const toSend = commit.files.filter((f) => f.state === "upload");
        for (const f of commit.files) if (f.state === "stored") setFile(f.path, f.deduplicated ? "deduplicated" : "stored");
        const total = toSend.reduce((n, f) => n + (f.size ?? 0), 0);
        setProgress((p) => ({ ...p, toSend: total }));
        // 3. Send what is missing, one file at a time, each resumable.
        setPhase("uploading");
        const meter = createSpeedMeter();
        let done = 0;
        for (const f of toSend) {
          const file = folder.files.find((x) => x.path === f.path)!.file;
          await new Promise<void>((resolve, reject) => {
            const u = new Upload(file, {
              endpoint: `${window.location.origin}${TUS_ENDPOINT_PATH}`,
              chunkSize: chunkBytes,
              retryDelays: [0, 1000, 3000, 5000, 10000, 20000],
              metadata: { commit: commit!.id, path: f.path },
              storeFingerprintForResuming: true,
              removeFingerprintOnSuccess: true,
              fingerprint: async () => `fairmind-commit-${commit!.id}-${f.path}`,
              onProgress(sent) {
                setFile(f.path, "uploading", sent);
                const rate = meter(done + sent, performance.now());
                setProgress((p) => ({ ...p, sent: done + sent, rate }));
              },
              onSuccess() {
                done += file.size;
                setFile(f.path, "stored", file.size);
                resolve();
              },
              onError(err) {
                setFile(f.path, "failed");
                let failure: CommitFailure = { code: "network", message: "The connection to the server was lost." };
                try {
                  const body = JSON.parse((err as { originalResponse?: { getBody(): string } }).originalResponse?.getBody() ?? "") as {
                    error?: CommitFailure;
                  };
                  if (body.error) failure = body.error;
                } catch {}
                reject(Object.assign(err, { failure: { ...failure, message: `${f.path}: ${failure.message}` } }));
              },
            });
            current.current = u;
            void u.findPreviousUploads().then((prev) => {
              if (prev[0]) u.resumeFromPreviousUpload(prev[0]);
              u.start();
            });
          });
          if (stopped.current) return;
        }
        // 4. All or nothing.
        setPhase("completing");
        const v = await api<UploadedVersion>(commit.complete_url, { method: "POST", body: "{}" });
        saveCommit(fingerprint, null);
        setResult(v);
        setPhase("done");
      } catch (e) {
        setFailure((e as { failure?: CommitFailure }).failure ?? { code: "error", message: (e as Error).message });
        setPhase("error");
      }
    },
    [folder, fingerprint, chunkBytes],
  );

  /** Stops sending (the commit stays, resumable); `abandon` also drops it on the server. */
  const stop = useCallback(
    async (abandon: { org: string; model: string } | null) => {
      stopped.current = true;
      await current.current?.abort(false).catch(() => {});
      const id = savedCommits()[fingerprint];
      if (abandon && id) {
        await fetch(`/api/v1/orgs/${abandon.org}/models/${abandon.model}/commits/${id}`, { method: "DELETE" }).catch(() => {});
        saveCommit(fingerprint, null);
      }
      setPhase("idle");
    },
    [fingerprint],
  );

  return { phase, files, progress, failure, result, start, stop, resumable: Boolean(savedCommits()[fingerprint]) };
}
