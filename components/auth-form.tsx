"use client";

import Link from "next/link";
import { useActionState, useState } from "react";
import { IDLE, type FormState } from "@/lib/web/form-state";

type Action = (prev: FormState, form: FormData) => Promise<FormState>;

export function AuthForm({ mode, action, next }: { mode: "sign-in" | "sign-up"; action: Action; next?: string }) {
  const [state, formAction, pending] = useActionState(action, IDLE);
  const signUp = mode === "sign-up";
  // Controlled, so React 19's reset-after-action does not wipe what the user typed on an error.
  const [email, setEmail] = useState("");
  const [name, setName] = useState("");
  return (
    <form action={formAction} className="space-y-4" noValidate data-testid={`${mode}-form`}>
      {next ? <input type="hidden" name="next" value={next} /> : null}
      {signUp ? (
        <div>
          <label className="label" htmlFor="displayName">
            Name
          </label>
          <input
            className="input"
            id="displayName"
            name="displayName"
            autoComplete="name"
            value={name}
            onChange={(e) => setName(e.target.value)}
          />
        </div>
      ) : null}
      <div>
        <label className="label" htmlFor="email">
          E-mail
        </label>
        <input
          className="input"
          id="email"
          name="email"
          type="email"
          autoComplete="email"
          required
          data-testid="email"
          value={email}
          onChange={(e) => setEmail(e.target.value)}
          aria-invalid={!!state.fieldErrors?.email}
          aria-describedby={state.fieldErrors?.email ? "email-error" : undefined}
        />
        {state.fieldErrors?.email ? (
          <p id="email-error" className="field-error">
            {state.fieldErrors.email}
          </p>
        ) : null}
      </div>
      <div>
        <label className="label" htmlFor="password">
          Password
        </label>
        <input
          className="input"
          id="password"
          name="password"
          type="password"
          autoComplete={signUp ? "new-password" : "current-password"}
          required
          data-testid="password"
          aria-invalid={!!state.fieldErrors?.password}
          aria-describedby={state.fieldErrors?.password ? "password-error" : undefined}
        />
        {state.fieldErrors?.password ? (
          <p id="password-error" className="field-error">
            {state.fieldErrors.password}
          </p>
        ) : null}
      </div>
      {state.message ? (
        <p
          role={state.status === "success" ? "status" : "alert"}
          className={
            state.status === "success"
              ? "rounded-md bg-green-50 p-3 text-sm text-green-800"
              : "rounded-md bg-red-50 p-3 text-sm text-red-800"
          }
          data-testid="form-message"
        >
          {state.message}
        </p>
      ) : null}
      <button type="submit" className="btn-primary w-full" disabled={pending} data-testid="submit">
        {pending ? "Please wait…" : signUp ? "Create account" : "Sign in"}
      </button>
      <p className="text-center text-sm text-slate-600">
        {signUp ? (
          <>
            Already have an account?{" "}
            <Link
              className="font-medium text-brand-700 hover:underline"
              href={next ? `/sign-in?next=${encodeURIComponent(next)}` : "/sign-in"}
            >
              Sign in
            </Link>
          </>
        ) : (
          <>
            New here?{" "}
            <Link
              className="font-medium text-brand-700 hover:underline"
              href={next ? `/sign-up?next=${encodeURIComponent(next)}` : "/sign-up"}
            >
              Create an account
            </Link>
          </>
        )}
      </p>
    </form>
  );
}
