"use client";

import { useCallback, useRef, useState } from "react";
import { FolderUploadItem } from "./folder-upload-item";
import { groupDropped, type DroppedFolder } from "./folder-files";
import { UploadDropzone } from "./upload-dropzone";
import { UploadItem, type ModelOption } from "./upload-item";

type Queued = { key: string; file: File; folder?: undefined } | { key: string; folder: DroppedFolder; file?: undefined };
const keyOf = (f: File) => `${f.name}:${f.size}:${f.lastModified}`;

/** The uploader: a drop zone feeding a queue of files, each with its own form and progress. */
export function UploadWorkspace({
  org,
  maxBytes,
  models,
  preselect,
  chunkBytes,
}: {
  org: string;
  maxBytes: number;
  models: ModelOption[];
  preselect?: string;
  /** Resumable chunk size of this deployment's upload endpoint (Supabase Storage wants 6 MiB). */
  chunkBytes: number;
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

  function add(dropped: File[]) {
    const { folders, loose } = groupDropped(dropped);
    const have = new Set(queue.map((q) => q.key));
    const fresh = loose.filter((f) => !have.has(keyOf(f)));
    const freshFolders = folders.filter((f) => !have.has(`folder:${f.name}:${f.size}`));
    const dupes = loose.length - fresh.length + folders.length - freshFolders.length;
    setNotice(dupes ? `${dupes === 1 ? "One item is" : `${dupes} items are`} already in the queue.` : null);
    setQueue((q) => [
      ...freshFolders.map((folder) => ({ key: `folder:${folder.name}:${folder.size}`, folder })),
      ...fresh.map((file) => ({ key: keyOf(file), file })),
      ...q,
    ]);
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
            {queue.map((q) =>
              q.folder ? (
                <FolderUploadItem
                  key={q.key}
                  folder={q.folder}
                  org={org}
                  models={models}
                  preselect={preselect}
                  chunkBytes={chunkBytes}
                  onRemove={() => setQueue((xs) => xs.filter((x) => x.key !== q.key))}
                />
              ) : (
                <UploadItem
                  key={q.key}
                  file={q.file}
                  org={org}
                  models={models}
                  preselect={preselect}
                  register={registerFor(q.key)}
                  chunkBytes={chunkBytes}
                  onRemove={() => setQueue((xs) => xs.filter((x) => x.key !== q.key))}
                />
              ),
            )}
          </ul>
        </section>
      ) : null}
    </div>
  );
}
