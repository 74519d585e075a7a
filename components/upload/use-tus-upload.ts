"use client";

import { useCallback, useEffect, useRef, useState } from "react";
import { Upload, defaultOptions, type DetailedError, type HttpResponse, type PreviousUpload, type UploadOptions } from "tus-js-client";
import { LOCAL_RESUMABLE_CHUNK_BYTES } from "@/lib/storage/limits";
import { createSpeedMeter } from "./upload-helpers";

export const TUS_ENDPOINT_PATH = "/api/v1/uploads";

/** What the server answers when an upload completes (serializeVersion). */
export interface UploadedVersion {
  id: string;
  version: string;
  status: "ready" | "quarantined" | "deleted" | "pending";
  size_bytes: number;
  sha256: string;
  format: string | null;
  framework: string | null;
  file_name: string;
  file_count: number;
  scan: {
    verdict: "not_scanned" | "safe" | "suspicious" | "dangerous";
    findings: { severity: string; code: string; message: string }[];
    globals: { name: string; verdict: string }[];
  };
}

export interface UploadFailure {
  /** HTTP status of the answer, or null when the server could not be reached. */
  status: number | null;
  code: string;
  message: string;
  details?: Record<string, unknown>;
  /** The server refused to create the upload (nothing was sent; the form can be changed). */
  atCreation: boolean;
  /** Bytes already stored on the server can still be continued with resume(). */
  resumable: boolean;
}

export type UploadPhase = "idle" | "uploading" | "paused" | "verifying" | "done" | "error" | "cancelled";
export interface UploadProgress {
  sent: number;
  total: number;
  rate: number;
  /** Seconds left, NaN when unknown. */
  eta: number;
}

/** The tus Upload-Metadata our endpoint reads (lib/http/resumable.ts). */
export interface TusMetadata {
  org: string;
  model: string;
  version: string;
  filename: string;
  /** JSON of {name, task_type, framework, description, tags}. */
  metadata: string;
}

// Retried: network errors, locks and offset races (409/423 while appending), gateway hiccups.
// Never retried: a refused creation (409 version exists, 403 read-only, 413, 422) or a 500 from
// finalizing (the server already dropped that upload, so a retry would only hide the real error).
function shouldRetry(err: DetailedError): boolean {
  const status = err.originalResponse?.getStatus() ?? 0;
  const method = err.originalRequest?.getMethod();
  if (status === 0) return true;
  if (status === 423) return true;
  if (status === 409) return method === "PATCH" || method === "HEAD";
  return status === 502 || status === 503 || status === 504;
}

function parseFailure(err: Error | DetailedError): UploadFailure {
  const detailed = err as DetailedError;
  const res: HttpResponse | null | undefined = detailed.originalResponse;
  const method = detailed.originalRequest?.getMethod();
  const status = res ? res.getStatus() : null;
  let code = status === null ? "network" : `http_${status}`;
  let message = status === null ? "The connection to the server was lost." : `The server answered ${status}.`;
  let details: Record<string, unknown> | undefined;
  try {
    const body = res ? JSON.parse(res.getBody() || "null") : null;
    if (body?.error?.message) {
      code = body.error.code ?? code;
      message = body.error.message;
      details = body.error.details;
    }
  } catch {
    // Not our JSON (a proxy's HTML page, a tus plain-text error): keep the generic message.
    const text = res?.getBody()?.trim();
    if (text && text.length < 300 && !text.startsWith("<")) message = text;
  }
  const atCreation = method === "POST";
  return { status, code, message, details, atCreation, resumable: !atCreation && (status === null || status >= 500 || status === 423) };
}

function baseOptions(chunkSize = LOCAL_RESUMABLE_CHUNK_BYTES): UploadOptions {
  return {
    endpoint: `${window.location.origin}${TUS_ENDPOINT_PATH}`,
    chunkSize,
    retryDelays: [0, 1000, 3000, 5000, 10000, 20000],
    storeFingerprintForResuming: true,
    removeFingerprintOnSuccess: true,
    onShouldRetry: (err) => shouldRetry(err),
  };
}

async function forgetPrevious(file: File) {
  const finder = new Upload(file, baseOptions());
  for (const p of await finder.findPreviousUploads().catch(() => [] as PreviousUpload[])) {
    await defaultOptions.urlStorage.removeUpload(p.urlStorageKey).catch(() => {});
  }
}

/**
 * One resumable upload of `file` to our tus endpoint: start / pause / resume / cancel, progress with
 * speed and time left, the version the server created, or its error. Unfinished uploads of the
 * same file (same name, size, date) are found again after a page reload (`previous`).
 */
export function useTusUpload(file: File, org: string, onDone?: (v: UploadedVersion) => void, chunkBytes?: number) {
  const [phase, setPhase] = useState<UploadPhase>("idle");
  const [progress, setProgress] = useState<UploadProgress>({ sent: 0, total: file.size, rate: 0, eta: Number.NaN });
  const [result, setResult] = useState<UploadedVersion | null>(null);
  const [failure, setFailure] = useState<UploadFailure | null>(null);
  const [previous, setPrevious] = useState<PreviousUpload | null>(null);
  const upload = useRef<Upload | null>(null);
  const meter = useRef(createSpeedMeter());
  const lastPaint = useRef(0);
  const onDoneRef = useRef(onDone);
  useEffect(() => {
    onDoneRef.current = onDone;
  });

  useEffect(() => {
    let live = true;
    new Upload(file, baseOptions())
      .findPreviousUploads()
      .then((found) => {
        const mine = found
          .filter((p) => p.metadata?.org === org && p.uploadUrl)
          .sort((a, b) => b.creationTime.localeCompare(a.creationTime));
        if (live) setPrevious(mine[0] ?? null);
      })
      .catch(() => {});
    return () => {
      live = false;
      // Leaving the page pauses (the server keeps the bytes; the same file can resume later).
      void upload.current?.abort(false);
    };
  }, [file, org]);

  const begin = useCallback(
    (metadata: TusMetadata, from?: PreviousUpload) => {
      setFailure(null);
      setResult(null);
      meter.current = createSpeedMeter();
      const u = new Upload(file, {
        ...baseOptions(chunkBytes),
        metadata: { ...metadata },
        onProgress(sent, total) {
          const now = performance.now();
          const rate = meter.current(sent, now);
          if (sent >= total) setPhase("verifying");
          // Repaint at most ~5 times a second; the last event always paints.
          if (now - lastPaint.current < 200 && sent < total) return;
          lastPaint.current = now;
          setProgress({ sent, total, rate, eta: rate > 0 ? (total - sent) / rate : Number.NaN });
        },
        onSuccess({ lastResponse }) {
          let v: UploadedVersion | null = null;
          try {
            v = JSON.parse(lastResponse.getBody()) as UploadedVersion;
          } catch {}
          if (!v?.sha256) {
            setFailure({
              status: lastResponse.getStatus(),
              code: "bad_response",
              message: "The upload finished but the server's answer could not be read. Check the model page before uploading again.",
              atCreation: false,
              resumable: false,
            });
            setPhase("error");
            return;
          }
          setProgress((p) => ({ ...p, sent: p.total, eta: 0 }));
          setResult(v);
          setPhase("done");
          onDoneRef.current?.(v);
        },
        onError(err) {
          const f = parseFailure(err);
          setFailure(f);
          setPhase("error");
          // The server already dropped an upload it refused at the end: forget it, a re-drop starts fresh.
          if (!f.resumable) void forgetPrevious(file);
        },
      });
      upload.current = u;
      if (from) u.resumeFromPreviousUpload(from);
      setPrevious(null);
      setPhase("uploading");
      u.start();
    },
    [file, chunkBytes],
  );

  const pause = useCallback(() => {
    void upload.current?.abort(false);
    setPhase("paused");
    setProgress((p) => ({ ...p, rate: 0, eta: Number.NaN }));
  }, []);

  const resume = useCallback(() => {
    if (!upload.current) return;
    meter.current = createSpeedMeter();
    setFailure(null);
    setPhase("uploading");
    upload.current.start();
  }, []);

  /** Stops the upload and deletes what the server holds (which releases the reserved version). */
  const cancel = useCallback(async () => {
    const u = upload.current;
    upload.current = null;
    setPhase("cancelled");
    if (u) await u.abort(true).catch(() => {});
    await forgetPrevious(file);
  }, [file]);

  /** Throws away an unfinished upload found from an earlier visit (and its reservation). */
  const discardPrevious = useCallback(async () => {
    const p = previous;
    setPrevious(null);
    if (!p) return;
    if (p.uploadUrl) await Upload.terminate(p.uploadUrl, baseOptions()).catch(() => {});
    await defaultOptions.urlStorage.removeUpload(p.urlStorageKey).catch(() => {});
  }, [previous]);

  /** Back to the form after a refused creation (e.g. pick another version). */
  const reset = useCallback(() => {
    upload.current = null;
    setFailure(null);
    setPhase("idle");
    setProgress({ sent: 0, total: file.size, rate: 0, eta: Number.NaN });
  }, [file]);

  return { phase, progress, result, failure, previous, begin, pause, resume, cancel, discardPrevious, reset };
}
