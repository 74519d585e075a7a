"use client";

import { useRef } from "react";

/**
 * The download of a quarantined version for owners and admins: a confirm dialog that explains the
 * risk before the browser follows the link with acknowledge_risk=true (the download is audited).
 */
export function QuarantinedDownload({ href, version, findings }: { href: string; version: string; findings: string[] }) {
  const dialog = useRef<HTMLDialogElement>(null);
  const titleId = `quarantine-title-${version}`;
  return (
    <>
      <button
        type="button"
        className="btn-danger py-1 text-xs"
        onClick={() => dialog.current?.showModal()}
        data-testid="download-link"
        data-quarantined="true"
      >
        Download…
      </button>
      <dialog
        ref={dialog}
        aria-labelledby={titleId}
        className="m-auto max-w-lg rounded-lg p-0 shadow-xl backdrop:bg-slate-900/40"
        data-testid="quarantine-dialog"
      >
        <div className="space-y-3 p-5 text-left text-sm">
          <h2 id={titleId} className="text-base font-semibold text-red-800">
            Download a quarantined file?
          </h2>
          <p className="text-slate-700">
            The scan of version {version} found code that runs when the file is loaded (for example with <code>pickle.load</code>,{" "}
            <code>joblib.load</code> or <code>torch.load</code>). Only open it in a sandbox, and never on a machine with credentials.
          </p>
          {findings.length ? (
            <ul className="list-disc space-y-1 pl-5 text-red-800">
              {findings.slice(0, 5).map((f, i) => (
                <li key={i}>{f}</li>
              ))}
            </ul>
          ) : null}
          <p className="text-slate-600">Your download is recorded in the audit log as an acknowledged risk.</p>
          <div className="flex justify-end gap-2 pt-2">
            <button type="button" className="btn-secondary" onClick={() => dialog.current?.close()} autoFocus>
              Cancel
            </button>
            <a
              href={`${href}?acknowledge_risk=true`}
              className="btn-danger"
              onClick={() => dialog.current?.close()}
              data-testid="download-confirm"
              download
            >
              I understand, download
            </a>
          </div>
        </div>
      </dialog>
    </>
  );
}
