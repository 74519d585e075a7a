"use client";

import { useActionState, type ReactNode } from "react";
import { IDLE, type FormState } from "@/lib/web/form-state";

/** A form bound to a server action that answers a FormState; shows its message and field errors. */
export function ActionForm({
  action,
  children,
  className,
  testId,
  confirm,
}: {
  action: (prev: FormState, form: FormData) => Promise<FormState>;
  children: (state: FormState, pending: boolean) => ReactNode;
  className?: string;
  testId?: string;
  confirm?: string;
}) {
  const [state, formAction, pending] = useActionState(action, IDLE);
  return (
    <form
      action={formAction}
      className={className}
      data-testid={testId}
      onSubmit={(e) => {
        if (confirm && !window.confirm(confirm)) e.preventDefault();
      }}
    >
      {children(state, pending)}
    </form>
  );
}

export function FormMessage({ state }: { state: FormState }) {
  if (!state.message) return null;
  const ok = state.status === "success";
  return (
    <p role={ok ? "status" : "alert"} className={`text-sm ${ok ? "text-green-700" : "text-red-700"}`} data-testid="form-message">
      {state.message}
    </p>
  );
}
