"use client";

import { useCallback, useRef, useState } from "react";
import { UploadDropzone } from "./upload-dropzone";
import { UploadItem, type ModelOption } from "./upload-item";

type Queued = { key: string; file: File };
const keyOf = (f: File) => `${f.name}:${f.size}:${f.lastModified}`;

/** The uploader: a drop zone feeding a queue of files, each with its own form and progress. */
export function UploadWorkspace({
  org,
  maxBytes,
  models,
  preselect,
}: {
  org: string;
  maxBytes: number;
  models: ModelOption[];
  preselect?: string;
}) {
  const [queue, setQueue] = useState<Queued[]>([]);
  const [notice, setNotice] = useState<string | null>(null);
  // Each item registers its "start if ready": "Upload all" is then a plain click handler.
  const starters = useRef(new Map<string, () => void>());
  const registerFor = useCallback(
    (key: string) => (start: (() => void) | null) => {
      if (start) starters.current.set(key, start);
      else starters.current.delete(key);
    },
    [],
  );

  function add(files: File[]) {
    const have = new Set(queue.map((q) => q.key));
    const fresh = files.filter((f) => !have.has(keyOf(f)));
    const dupes = files.length - fresh.length;
    setNotice(dupes ? `${dupes === 1 ? "One file is" : `${dupes} files are`} already in the queue.` : null);
    setQueue((q) => [...fresh.map((file) => ({ key: keyOf(file), file })), ...q]);
  }

  return (
    <div className="space-y-4">
      <UploadDropzone maxBytes={maxBytes} onFiles={add} />
      {notice ? (
        <p className="text-sm text-slate-600" role="status">
          {notice}
        </p>
      ) : null}
      {queue.length ? (
        <section aria-labelledby="queue-heading" className="space-y-3">
          <div className="flex items-center justify-between">
            <h2 id="queue-heading" className="font-medium">
              Queue ({queue.length})
            </h2>
            {queue.length > 1 ? (
              <button
                type="button"
                className="btn-secondary"
                onClick={() => starters.current.forEach((start) => start())}
                data-testid="upload-start-all"
              >
                Upload all ready files
              </button>
            ) : null}
          </div>
          <ul className="space-y-3">
            {queue.map((q) => (
              <UploadItem
                key={q.key}
                file={q.file}
                org={org}
                models={models}
                preselect={preselect}
                register={registerFor(q.key)}
                onRemove={() => setQueue((xs) => xs.filter((x) => x.key !== q.key))}
              />
            ))}
          </ul>
        </section>
      ) : null}
    </div>
  );
}
