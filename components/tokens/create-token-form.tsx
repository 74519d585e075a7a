"use client";

import { createTokenAction } from "@/app/orgs/[org]/actions/tokens";
import { ActionForm, FormMessage } from "@/components/action-form";
import { CopyButton } from "@/components/model/copy-button";

const ROLE_HELP: Record<string, string> = {
  viewer: "list and download",
  member: "also upload versions and move aliases",
  admin: "also delete versions and download quarantined files",
};

/** Creates an API token; the secret is shown once, with a copy button and a warning. */
export function CreateTokenForm({ org, roles }: { org: string; roles: ("admin" | "member" | "viewer")[] }) {
  return (
    <ActionForm action={createTokenAction.bind(null, org)} testId="token-form" className="space-y-4">
      {(state, pending) => {
        const data = state.status === "success" ? state.data : undefined;
        const secret = typeof data?.token === "string" ? data.token : null;
        return (
          <>
            {secret ? (
              <div className="rounded-md border border-amber-300 bg-amber-50 p-3" role="status" data-testid="token-created">
                <p className="text-sm font-medium text-amber-900">Copy this token now. It is shown only once: we store only its hash.</p>
                <div className="mt-2 flex flex-wrap items-center gap-2">
                  <code
                    className="min-w-0 flex-1 break-all rounded bg-white px-2 py-1.5 font-mono text-sm ring-1 ring-amber-200"
                    data-testid="token-secret"
                  >
                    {secret}
                  </code>
                  <CopyButton value={secret} label="Copy the token" testId="token-copy" className="py-1.5" />
                </div>
                <p className="mt-2 text-xs text-amber-900">
                  Use it as <code>Authorization: Bearer {String(data?.prefix ?? "fm_")}…</code>. Keep it in a secret store, never in code or
                  a notebook you share.
                </p>
              </div>
            ) : null}
            <div className="flex flex-wrap items-start gap-3">
              <div className="min-w-56 flex-1">
                <label className="label" htmlFor="token-name">
                  Name
                </label>
                <input
                  id="token-name"
                  name="name"
                  required
                  maxLength={100}
                  placeholder="e.g. training-pipeline-ci"
                  className="input"
                  data-testid="token-name"
                  aria-invalid={state.fieldErrors?.name ? true : undefined}
                />
                {state.fieldErrors?.name ? <p className="field-error">{state.fieldErrors.name}</p> : null}
              </div>
              <div>
                <label className="label" htmlFor="token-role">
                  Role
                </label>
                <select
                  id="token-role"
                  name="role"
                  defaultValue={roles.includes("member") ? "member" : roles[0]}
                  className="input pr-8"
                  data-testid="token-role"
                >
                  {roles.map((r) => (
                    <option key={r} value={r}>
                      {r} — {ROLE_HELP[r]}
                    </option>
                  ))}
                </select>
              </div>
              <div className="w-44">
                <label className="label" htmlFor="token-expiry">
                  Expires in (days)
                </label>
                <input
                  id="token-expiry"
                  name="expires_in_days"
                  type="number"
                  min={1}
                  max={365}
                  defaultValue={90}
                  list="token-expiry-presets"
                  placeholder="never"
                  className="input"
                  data-testid="token-expiry"
                  aria-describedby="token-expiry-hint"
                />
                <datalist id="token-expiry-presets">
                  {[7, 30, 90, 180, 365].map((d) => (
                    <option key={d} value={d} />
                  ))}
                </datalist>
                {state.fieldErrors?.expires_in_days ? (
                  <p className="field-error">{state.fieldErrors.expires_in_days}</p>
                ) : (
                  <p id="token-expiry-hint" className="mt-1 text-xs text-slate-500">
                    Empty = never expires
                  </p>
                )}
              </div>
              <button type="submit" className="btn-primary mt-6" disabled={pending} data-testid="token-create">
                {pending ? "Creating…" : "Create token"}
              </button>
            </div>
            {state.status !== "success" ? <FormMessage state={state} /> : null}
          </>
        );
      }}
    </ActionForm>
  );
}
