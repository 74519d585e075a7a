"use client";

import { createWebhookAction } from "@/app/orgs/[org]/actions/webhooks";
import { ActionForm, FormMessage } from "@/components/action-form";
import { CopyButton } from "@/components/model/copy-button";
import { WEBHOOK_EVENTS } from "@/lib/validations/webhooks";

const EVENT_HELP: Record<(typeof WEBHOOK_EVENTS)[number], string> = {
  "version.created": "a version finished uploading and is ready",
  "version.quarantined": "an upload was quarantined by the scanner",
  "version.deleted": "a version (or its model) was deleted",
  "alias.moved": "an alias such as production now points at another version",
};

/** Registers an endpoint; the signing secret is shown once, with a copy button. */
export function CreateWebhookForm({ org }: { org: string }) {
  return (
    <ActionForm action={createWebhookAction.bind(null, org)} testId="webhook-form" className="space-y-4">
      {(state, pending) => {
        const secret = state.status === "success" && typeof state.data?.secret === "string" ? state.data.secret : null;
        return (
          <>
            {secret ? (
              <div className="rounded-md border border-amber-300 bg-amber-50 p-3" role="status" data-testid="webhook-created">
                <p className="text-sm font-medium text-amber-900">
                  Copy the signing secret now. It is shown only once; use it to verify the FairMind-Signature header.
                </p>
                <div className="mt-2 flex flex-wrap items-center gap-2">
                  <code
                    className="min-w-0 flex-1 break-all rounded bg-white px-2 py-1.5 font-mono text-sm ring-1 ring-amber-200"
                    data-testid="webhook-secret"
                  >
                    {secret}
                  </code>
                  <CopyButton value={secret} label="Copy the secret" testId="webhook-secret-copy" className="py-1.5" />
                </div>
              </div>
            ) : null}
            <div className="flex flex-wrap items-start gap-3">
              <div className="min-w-72 flex-1">
                <label className="label" htmlFor="webhook-url">
                  Payload URL
                </label>
                <input
                  id="webhook-url"
                  name="url"
                  type="url"
                  required
                  maxLength={2048}
                  placeholder="https://ci.example.com/hooks/fairmind"
                  className="input"
                  data-testid="webhook-url"
                  aria-invalid={state.fieldErrors?.url ? true : undefined}
                />
                {state.fieldErrors?.url ? (
                  <p className="field-error" data-testid="webhook-url-error">
                    {state.fieldErrors.url}
                  </p>
                ) : null}
              </div>
              <div className="min-w-56 flex-1">
                <label className="label" htmlFor="webhook-description">
                  Description (optional)
                </label>
                <input id="webhook-description" name="description" maxLength={200} className="input" data-testid="webhook-description" />
              </div>
            </div>
            <fieldset>
              <legend className="label">Events</legend>
              <div className="grid gap-1 sm:grid-cols-2">
                {WEBHOOK_EVENTS.map((e) => (
                  <label key={e} className="flex items-start gap-2 text-sm">
                    <input type="checkbox" name="events" value={e} defaultChecked className="mt-1" data-testid={`webhook-event-${e}`} />
                    <span>
                      <code>{e}</code> <span className="text-slate-500">— {EVENT_HELP[e]}</span>
                    </span>
                  </label>
                ))}
              </div>
              {state.fieldErrors?.events ? <p className="field-error">{state.fieldErrors.events}</p> : null}
            </fieldset>
            <button type="submit" className="btn-primary" disabled={pending} data-testid="webhook-create">
              {pending ? "Adding…" : "Add webhook"}
            </button>
            {state.status !== "success" ? <FormMessage state={state} /> : null}
          </>
        );
      }}
    </ActionForm>
  );
}
