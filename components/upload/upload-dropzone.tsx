"use client";

import { useRef, useState } from "react";
import { useDropzone, type FileRejection } from "react-dropzone";
import { ACCEPTED_FILE_TYPES, ALLOWED_EXTENSIONS, isAllowedExtension } from "@/lib/storage/limits";
import { formatBytes } from "@/lib/format";
import { relativePathOf } from "./folder-files";
import { refuseByContent } from "./sniff-dropped";
import { extensionOf } from "./upload-helpers";

const EXTENSIONS = ALLOWED_EXTENSIONS.map((e) => `.${e}`).join(", ");
const INPUT_ACCEPT = Object.entries(ACCEPTED_FILE_TYPES)
  .flatMap(([type, exts]) => [type, ...exts])
  .join(",");

/** Says what happened to a refused file and what to do about it. */
function explain(r: FileRejection, maxBytes: number): string {
  const { file } = r;
  const codes = r.errors.map((e) => e.code);
  if (codes.includes("file-invalid-type")) {
    const ext = extensionOf(file.name);
    return `"${file.name}" is not a model file we store (${ext ? `.${ext}` : "no extension"}). Upload one of ${EXTENSIONS}; if the extension is wrong, rename the file first.`;
  }
  if (codes.includes("file-too-large")) {
    return `"${file.name}" is ${formatBytes(file.size)}, over this server's ${formatBytes(maxBytes)} limit. Export a smaller file (e.g. safetensors or a quantized model) or ask an admin to raise MAX_UPLOAD_BYTES.`;
  }
  if (codes.includes("file-too-small")) {
    return `"${file.name}" is empty (0 bytes). Check that the export finished writing, then drop it again.`;
  }
  return `"${file.name}" was not added: ${r.errors.map((e) => e.message).join("; ")}.`;
}

/** The drop zone: accept list and size limit from lib/storage/limits (the server checks both again). */
export function UploadDropzone({ maxBytes, onFiles }: { maxBytes: number; onFiles: (files: File[]) => void }) {
  const [rejected, setRejected] = useState<{ key: string; message: string }[]>([]);
  const folderInput = useRef<HTMLInputElement>(null);
  // The zone is only a drop target; choosing files is a real button inside it (a focusable zone
  // around a button and an input would nest interactive controls, which screen readers garble).
  const { getRootProps, getInputProps, isDragActive, isDragReject, open } = useDropzone({
    noClick: true,
    noKeyboard: true,
    // No `accept` here: react-dropzone would refuse every file of a dropped folder that is not a model
    // file by name (README.md, MLmodel, conda.yaml…). The validator below decides; the file picker
    // still offers only model files (the input's accept attribute).
    maxSize: maxBytes,
    minSize: 1,
    multiple: true,
    // Browsers report "" or application/octet-stream for most model formats, which `accept` lets
    // through: the extension is what decides. (During a drag the items have no name yet.)
    validator: (file) => {
      if (!file?.name) return null;
      // A file inside a dropped folder is part of a version of several files: any kind is welcome
      // (configs, tokenizers, cards); the server inspects each by its content.
      if (relativePathOf(file).includes("/")) return null;
      return isAllowedExtension(extensionOf(file.name)) ? null : { code: "file-invalid-type", message: "unsupported file type" };
    },
    async onDrop(dropped, rejections) {
      const now = Date.now();
      const byName = rejections.map((r, i) => ({ key: `${r.file.name}-${i}-${now}`, message: explain(r, maxBytes) }));
      setRejected(byName);
      // The first bytes decide before any byte is sent: an image or a document named .pt stops here.
      const { accepted, refused } = await refuseByContent(dropped);
      if (refused.length)
        setRejected([
          ...byName,
          ...refused.map((r, i) => ({
            key: `${r.file.name}-c${i}-${now}`,
            message: `"${r.file.name}" was not added: ${r.message} Nothing was uploaded.`,
          })),
        ]);
      if (accepted.length) onFiles(accepted);
    },
  });

  return (
    <div className="space-y-2">
      <div
        {...getRootProps({ role: "group", "aria-label": "Drop model files here" })}
        className={`flex flex-col items-center justify-center rounded-lg border-2 border-dashed px-6 py-10 text-center transition-colors ${
          isDragActive && isDragReject
            ? "border-red-400 bg-red-50"
            : isDragActive
              ? "border-brand-500 bg-brand-50"
              : "border-slate-300 bg-white hover:border-brand-500 hover:bg-slate-50"
        }`}
        data-testid="dropzone"
        data-drag={isDragActive ? (isDragReject ? "reject" : "accept") : "none"}
      >
        <input {...getInputProps({ "aria-label": "Choose model files", accept: INPUT_ACCEPT })} data-testid="dropzone-input" />
        <svg aria-hidden viewBox="0 0 24 24" className="mb-3 h-10 w-10 text-slate-400" fill="none" stroke="currentColor" strokeWidth={1.5}>
          <path strokeLinecap="round" strokeLinejoin="round" d="M12 16V4m0 0-4 4m4-4 4 4M4 16v2a2 2 0 0 0 2 2h12a2 2 0 0 0 2-2v-2" />
        </svg>
        <p className="font-medium text-slate-900">
          {isDragActive
            ? isDragReject
              ? "Some of these files are not model files"
              : "Drop to add them to the queue"
            : "Drag model files here"}
        </p>
        <p className="mt-1 text-sm text-slate-600">
          or{" "}
          <button
            type="button"
            onClick={open}
            className="font-medium text-brand-700 underline"
            aria-describedby="dropzone-accepts"
            data-testid="choose-files"
          >
            choose files
          </button>{" "}
          · several at once is fine
        </p>
        <p id="dropzone-accepts" className="mt-3 text-xs text-slate-600">
          {EXTENSIONS} · up to {formatBytes(maxBytes)} each · resumable (a dropped connection or a reload can continue)
        </p>
      </div>
      <p className="text-sm text-slate-600">
        A model folder (Hugging Face, MLflow, sharded weights) becomes one version with all its files — drop it, or{" "}
        <button
          type="button"
          className="font-medium text-brand-700 underline"
          onClick={() => folderInput.current?.click()}
          data-testid="choose-folder"
        >
          choose a folder
        </button>
        .
        <input
          ref={folderInput}
          type="file"
          className="sr-only"
          aria-label="Choose a model folder"
          tabIndex={-1}
          data-testid="folder-input"
          // Not in React's types: the standard attribute for picking a whole folder.
          {...({ webkitdirectory: "", directory: "" } as Record<string, string>)}
          multiple
          onChange={(e) => {
            const files = [...(e.target.files ?? [])];
            e.target.value = "";
            if (files.length) onFiles(files);
          }}
        />
      </p>
      {rejected.length ? (
        <ul className="space-y-1" aria-live="polite">
          {rejected.map((r) => (
            <li
              key={r.key}
              role="alert"
              className="flex items-start justify-between gap-3 rounded-md border border-red-200 bg-red-50 px-3 py-2 text-sm text-red-800"
              data-testid="dropzone-rejection"
            >
              <span>{r.message}</span>
              <button
                type="button"
                className="shrink-0 text-xs underline"
                onClick={() => setRejected((xs) => xs.filter((x) => x.key !== r.key))}
              >
                Dismiss
              </button>
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}
