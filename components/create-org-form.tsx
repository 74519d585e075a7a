"use client";

import { useState } from "react";
import { createOrgAction } from "@/app/orgs/actions";
import { ActionForm, FormMessage } from "./action-form";

const toSlug = (s: string) =>
  s
    .toLowerCase()
    .normalize("NFKD")
    .replace(/[^a-z0-9]+/g, "_")
    .replace(/^_+|_+$/g, "")
    .slice(0, 63);

export function CreateOrgForm() {
  const [name, setName] = useState("");
  const [slug, setSlug] = useState("");
  const [touched, setTouched] = useState(false);
  return (
    <ActionForm action={createOrgAction} className="space-y-4" testId="create-org-form">
      {(state, pending) => (
        <>
          <div>
            <label className="label" htmlFor="name">
              Name
            </label>
            <input
              className="input"
              id="name"
              name="name"
              required
              value={name}
              onChange={(e) => {
                setName(e.target.value);
                if (!touched) setSlug(toSlug(e.target.value));
              }}
            />
            {state.fieldErrors?.name ? <p className="field-error">{state.fieldErrors.name}</p> : null}
          </div>
          <div>
            <label className="label" htmlFor="slug">
              Short name (in URLs and storage paths)
            </label>
            <input
              className="input font-mono"
              id="slug"
              name="slug"
              required
              value={slug}
              onChange={(e) => {
                setTouched(true);
                setSlug(e.target.value);
              }}
              aria-describedby="slug-help"
            />
            <p id="slug-help" className="mt-1 text-xs text-slate-500">
              Lowercase letters, digits, _ and -. Files are stored under ai-models/{slug || "<short name>"}/…
            </p>
            {state.fieldErrors?.slug ? <p className="field-error">{state.fieldErrors.slug}</p> : null}
          </div>
          <FormMessage state={state} />
          <button className="btn-primary w-full" disabled={pending}>
            {pending ? "Creating…" : "Create organization"}
          </button>
        </>
      )}
    </ActionForm>
  );
}
