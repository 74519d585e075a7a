"use client";

import { ActionForm } from "@/components/action-form";
import type { FormState } from "@/lib/web/form-state";

/** One small button bound to a webhook action (ping, redeliver, remove), with its outcome beside it. */
export function WebhookActionButton({
  action,
  label,
  pendingLabel,
  testId,
  confirm,
  danger,
}: {
  action: (prev: FormState) => Promise<FormState>;
  label: string;
  pendingLabel: string;
  testId: string;
  confirm?: string;
  danger?: boolean;
}) {
  return (
    <ActionForm action={action} confirm={confirm} className="inline-block">
      {(state, pending) => (
        <>
          <button
            type="submit"
            className={`${danger ? "btn-danger" : "btn-secondary"} py-1 text-xs`}
            disabled={pending}
            data-testid={testId}
          >
            {pending ? pendingLabel : label}
          </button>
          {state.message ? (
            <span
              role={state.status === "success" ? "status" : "alert"}
              className={`ml-2 text-xs ${state.status === "success" ? "text-green-700" : "text-red-700"}`}
            >
              {state.message}
            </span>
          ) : null}
        </>
      )}
    </ActionForm>
  );
}
