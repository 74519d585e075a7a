"use client";

import { revokeTokenAction } from "@/app/orgs/[org]/actions/tokens";
import { ActionForm } from "@/components/action-form";

/** Revokes a token after a confirm; requests that use it fail from the next one on. */
export function RevokeTokenButton({ org, id, name }: { org: string; id: string; name: string }) {
  return (
    <ActionForm
      action={revokeTokenAction.bind(null, org, id)}
      confirm={`Revoke the token "${name}"? Scripts using it stop working immediately.`}
    >
      {(state, pending) => (
        <>
          <button
            type="submit"
            className="btn-danger py-1 text-xs"
            disabled={pending}
            data-testid="token-revoke"
            aria-label={`Revoke ${name}`}
          >
            {pending ? "Revoking…" : "Revoke"}
          </button>
          {state.status === "failed" ? (
            <p role="alert" className="mt-1 text-xs text-red-700">
              {state.message}
            </p>
          ) : null}
        </>
      )}
    </ActionForm>
  );
}
