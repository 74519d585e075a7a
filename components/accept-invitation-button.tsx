"use client";

import { acceptInvitationAction } from "@/app/orgs/actions";
import { ActionForm, FormMessage } from "./action-form";

export function AcceptInvitationButton({ token, org }: { token: string; org: string }) {
  return (
    <ActionForm action={acceptInvitationAction.bind(null, token)} className="space-y-2" testId="accept-invitation-form">
      {(state, pending) => (
        <>
          <button className="btn-primary w-full" disabled={pending} data-testid="accept-invitation">
            {pending ? "Joining…" : `Join ${org}`}
          </button>
          <FormMessage state={state} />
        </>
      )}
    </ActionForm>
  );
}
