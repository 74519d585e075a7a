import fs from "node:fs";
import path from "node:path";
import * as tus from "tus-js-client";
import { configDir } from "./config";
import { CliError, EXIT } from "./errors";

// A large file of a commit goes through the server's tus endpoint so an interrupted upload resumes
// within the file: the upload URL is kept in tus-uploads.json under a fingerprint of (server, commit,
// path, SHA-256), and the next run asks the server for the offset and sends only the rest.

/** Files at least this large use tus (FAIRMIND_TUS_MIN_BYTES overrides; smaller files use one PUT). */
export const tusThreshold = () => Number(process.env.FAIRMIND_TUS_MIN_BYTES || 32 * 1024 * 1024);
const CHUNK = 16 * 1024 * 1024;
// Node's build exports FileUrlStorage (a JSON file with a lock); the published types only name the interface.
const { FileUrlStorage, Upload } = tus as unknown as typeof tus & { FileUrlStorage: new (file: string) => tus.UrlStorage };

export function tusUpload(o: {
  server: string;
  endpoint: string;
  metadata: Record<string, string>;
  headers: Record<string, string>;
  abs: string;
  size: number;
  fingerprint: string;
  onBytes: (n: number) => void;
}): Promise<{ resumedFrom: number }> {
  fs.mkdirSync(configDir(), { recursive: true, mode: 0o700 });
  const urlStorage = new FileUrlStorage(path.join(configDir(), "tus-uploads.json"));
  return new Promise((resolve, reject) => {
    let reported = 0;
    let resumedFrom = -1;
    const upload = new Upload(fs.createReadStream(o.abs), {
      endpoint: o.server + o.endpoint,
      metadata: { ...o.metadata, filename: path.basename(o.abs) },
      headers: o.headers,
      uploadSize: o.size,
      chunkSize: CHUNK,
      retryDelays: [0, 1000, 3000, 5000],
      urlStorage,
      fingerprint: async () => o.fingerprint,
      storeFingerprintForResuming: true,
      removeFingerprintOnSuccess: true,
      onProgress(sent) {
        if (resumedFrom < 0) resumedFrom = sent;
        if (sent > reported) o.onBytes(sent - reported);
        reported = sent;
      },
      onSuccess() {
        if (o.size > reported) o.onBytes(o.size - reported);
        resolve({ resumedFrom: Math.max(resumedFrom, 0) });
      },
      onError(e) {
        const res = (e as { originalResponse?: { getStatus(): number; getBody(): string } }).originalResponse;
        if (!res) return reject(new CliError(`Upload of ${o.abs} failed: ${e.message}`, EXIT.network, "network"));
        let body: { error?: { code?: string; message?: string } } = {};
        try {
          body = JSON.parse(res.getBody());
        } catch {
          /* not JSON */
        }
        reject(new CliError(body.error?.message ?? e.message, EXIT.server, body.error?.code ?? `http_${res.getStatus()}`, res.getStatus()));
      },
    });
    upload.findPreviousUploads().then((previous) => {
      if (previous[0]) upload.resumeFromPreviousUpload(previous[0]);
      upload.start();
    }, reject);
  });
}
