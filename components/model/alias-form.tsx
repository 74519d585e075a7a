"use client";

import { setAliasAction } from "@/app/orgs/[org]/actions/models";
import { ActionForm, FormMessage } from "@/components/action-form";

const SUGGESTED = ["production", "staging"];

/** Moves (or creates) an alias: a name with suggestions and a ready version. */
export function AliasForm({ org, model, versions, aliases }: { org: string; model: string; versions: string[]; aliases: string[] }) {
  const suggestions = [...new Set([...SUGGESTED, ...aliases])];
  const listId = `alias-suggestions-${model}`;
  return (
    <ActionForm action={setAliasAction.bind(null, org, model)} className="flex flex-wrap items-end gap-3" testId="alias-form">
      {(state, pending) => (
        <>
          <div className="w-44">
            <label className="label" htmlFor="alias-name">
              Alias
            </label>
            <input
              id="alias-name"
              name="alias"
              list={listId}
              required
              defaultValue="production"
              className="input"
              autoComplete="off"
              data-testid="alias-name"
              aria-invalid={state.fieldErrors?.alias ? true : undefined}
            />
            <datalist id={listId}>
              {suggestions.map((a) => (
                <option key={a} value={a} />
              ))}
            </datalist>
            {state.fieldErrors?.alias ? <p className="field-error">{state.fieldErrors.alias}</p> : null}
          </div>
          <div className="w-36">
            <label className="label" htmlFor="alias-version">
              Version
            </label>
            <select id="alias-version" name="version" required className="input" data-testid="alias-version" defaultValue={versions[0]}>
              {versions.map((v) => (
                <option key={v} value={v}>
                  v{v}
                </option>
              ))}
            </select>
          </div>
          <button type="submit" className="btn-primary" disabled={pending || !versions.length} data-testid="alias-submit">
            {pending ? "Moving…" : "Point alias"}
          </button>
          <div className="w-full">
            <FormMessage state={state} />
          </div>
        </>
      )}
    </ActionForm>
  );
}
