"use client";

import { deleteVersionAction } from "@/app/orgs/[org]/actions/models";
import { ActionForm } from "@/components/action-form";

/** Deletes (retires) a version after a confirm; the server decides whether the caller may. */
export function DeleteVersionButton({ org, model, version }: { org: string; model: string; version: string }) {
  return (
    <ActionForm
      action={deleteVersionAction.bind(null, org, model, version)}
      confirm={`Delete version ${version}? It can no longer be downloaded and its aliases are removed. The number ${version} stays taken (versions are immutable).`}
      className="inline"
    >
      {(state, pending) => (
        <>
          <button
            type="submit"
            className="btn-danger py-1 text-xs"
            disabled={pending}
            data-testid="delete-version"
            aria-label={`Delete version ${version}`}
          >
            {pending ? "Deleting…" : "Delete"}
          </button>
          {state.status === "failed" ? (
            <p role="alert" className="mt-1 max-w-48 text-xs text-red-700">
              {state.message}
            </p>
          ) : null}
        </>
      )}
    </ActionForm>
  );
}
