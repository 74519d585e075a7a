"use client";

import { useState } from "react";

type State =
  | { status: "idle" }
  | { status: "working" }
  | { status: "done"; url: string; expiresAt: string; copied: boolean }
  | { status: "failed"; message: string };

/**
 * Creates a short-lived download link for a version (POST …/link, the API pipelines use), copies it
 * and says until when it works. A one-file version links its file; a folder links a zip of it.
 */
export function SignedLinkButton({ apiBase, archive }: { apiBase: string; archive: boolean }) {
  const [state, setState] = useState<State>({ status: "idle" });
  async function create() {
    setState({ status: "working" });
    try {
      const r = await fetch(`${apiBase}/link`, {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/json" },
        body: JSON.stringify(archive ? { format: "zip" } : {}),
      });
      const body = (await r.json().catch(() => ({}))) as { url?: string; expires_at?: string; error?: { message?: string } };
      if (!r.ok || !body.url || !body.expires_at) throw new Error(body.error?.message ?? `The server answered ${r.status}.`);
      let copied = false;
      try {
        await navigator.clipboard.writeText(body.url);
        copied = true;
      } catch {}
      setState({ status: "done", url: body.url, expiresAt: body.expires_at, copied });
    } catch (e) {
      setState({ status: "failed", message: (e as Error).message });
    }
  }
  return (
    <div className="space-y-1.5" data-testid="signed-link">
      <button
        type="button"
        className="btn-secondary py-1.5 text-sm"
        onClick={create}
        disabled={state.status === "working"}
        data-testid="signed-link-button"
      >
        {state.status === "working" ? "Creating link…" : "Copy signed link"}
      </button>
      <div aria-live="polite">
        {state.status === "done" ? (
          <div className="space-y-1 text-xs text-slate-600">
            <p data-testid="signed-link-expiry">
              {state.copied ? "Copied. " : ""}Anyone with this link can download {archive ? "a zip of this version" : "this file"} until{" "}
              <time dateTime={state.expiresAt}>{new Date(state.expiresAt).toLocaleString()}</time>.
            </p>
            <input
              readOnly
              value={state.url}
              aria-label="Signed download link"
              className="input w-full font-mono text-xs"
              onFocus={(e) => e.currentTarget.select()}
              data-testid="signed-link-url"
            />
          </div>
        ) : state.status === "failed" ? (
          <p role="alert" className="text-xs text-red-700">
            {state.message}
          </p>
        ) : null}
      </div>
    </div>
  );
}
