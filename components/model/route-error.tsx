"use client";

import { useEffect } from "react";

/** The body of an error.tsx boundary: what failed, a retry, and a way out. */
export function RouteError({ error, retry, what, backHref }: { error: unknown; retry: () => void; what: string; backHref?: string }) {
  useEffect(() => {
    console.error(error);
  }, [error]);
  const digest = error instanceof Error && "digest" in error ? String((error as { digest?: string }).digest ?? "") : "";
  return (
    <div role="alert" className="card mx-auto max-w-xl p-8 text-center" data-testid="route-error">
      <h1 className="text-lg font-semibold">Could not load {what}</h1>
      <p className="mt-2 text-sm text-slate-600">
        Something went wrong on our side or the connection dropped. Nothing was changed. Try again; if it keeps failing, check the status
        badge in the header.
      </p>
      {digest ? <p className="mt-2 font-mono text-xs text-slate-500">Reference: {digest}</p> : null}
      <div className="mt-5 flex justify-center gap-3">
        <button type="button" className="btn-primary" onClick={() => retry()} data-testid="retry">
          Try again
        </button>
        {backHref ? (
          <a href={backHref} className="btn-secondary">
            Back to models
          </a>
        ) : null}
      </div>
    </div>
  );
}
