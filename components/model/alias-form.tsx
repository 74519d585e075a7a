"use client";

import { useActionState, useRef, useState } from "react";
import { setAliasAction, setProtectedAliasAction } from "@/app/orgs/[org]/actions/models";
import { ActionForm, FormMessage } from "@/components/action-form";
import { VerdictBadge } from "@/components/verdict-badge";
import { IDLE } from "@/lib/web/form-state";

const SUGGESTED = ["production", "staging"];

export interface AliasVersion {
  version: string;
  sha256: string | null;
  scan_verdict: string | null;
}

const short = (sha: string | null) => (sha ? sha.slice(0, 12) : "—");

/**
 * Moves (or creates) an alias. It starts on an existing alias and the version it points at now, so
 * submitting unchanged moves nothing; every move is confirmed in a dialog that shows both versions'
 * SHA-256 and scan verdict. Protected aliases are moved by owners and admins only (the database
 * enforces it; this form explains it).
 */
export function AliasForm({
  org,
  model,
  versions,
  aliases,
  protectedAliases,
  canProtect,
}: {
  org: string;
  model: string;
  /** Ready versions, newest first: what an alias may point at. */
  versions: AliasVersion[];
  /** Current aliases and their targets (any version the model has). */
  aliases: (AliasVersion & { alias: string })[];
  protectedAliases: string[];
  /** Owners and admins: may move protected aliases and change the protected list. */
  canProtect: boolean;
}) {
  const start = aliases.find((a) => a.alias === "production") ?? aliases[0];
  const [alias, setAlias] = useState(start?.alias ?? "production");
  const targetOf = (name: string) => aliases.find((a) => a.alias === name.trim().toLowerCase());
  const [version, setVersion] = useState(start?.version ?? versions[0]?.version ?? "");
  const [state, formAction, pending] = useActionState(setAliasAction.bind(null, org, model), IDLE);
  const formRef = useRef<HTMLFormElement>(null);
  const dialogRef = useRef<HTMLDialogElement>(null);

  const name = alias.trim().toLowerCase();
  const current = targetOf(name);
  const to = versions.find((v) => v.version === version);
  const locked = protectedAliases.includes(name) && !canProtect;
  const unchanged = current?.version === version;
  const suggestions = [...new Set([...aliases.map((a) => a.alias), ...SUGGESTED])];
  const listId = `alias-suggestions-${model}`;

  const pickAlias = (value: string) => {
    setAlias(value);
    const t = targetOf(value);
    if (t && versions.some((v) => v.version === t.version)) setVersion(t.version);
  };

  return (
    <div className="space-y-3">
      <form ref={formRef} action={formAction} className="flex flex-wrap items-end gap-3" data-testid="alias-form">
        <div className="w-44">
          <label className="label" htmlFor="alias-name">
            Alias
          </label>
          <input
            id="alias-name"
            name="alias"
            list={listId}
            required
            value={alias}
            onChange={(e) => pickAlias(e.target.value)}
            className="input"
            autoComplete="off"
            data-testid="alias-name"
            aria-invalid={state.fieldErrors?.alias ? true : undefined}
            aria-describedby="alias-current"
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
          <select
            id="alias-version"
            name="version"
            required
            className="input"
            data-testid="alias-version"
            value={version}
            onChange={(e) => setVersion(e.target.value)}
          >
            {versions.map((v) => (
              <option key={v.version} value={v.version}>
                v{v.version}
                {current?.version === v.version ? " (now)" : ""}
              </option>
            ))}
          </select>
        </div>
        <button
          type="button"
          className="btn-primary"
          disabled={pending || !versions.length || locked || unchanged || !name}
          data-testid="alias-submit"
          onClick={() => dialogRef.current?.showModal()}
        >
          {pending ? "Moving…" : current ? "Move alias…" : "Point alias…"}
        </button>
        <p id="alias-current" className="w-full text-xs text-slate-600" data-testid="alias-current">
          {current ? (
            <>
              <code>{name}</code> points at v{current.version} now
              {unchanged ? ": pick another version to move it." : "."}
            </>
          ) : name ? (
            <>
              <code>{name}</code> is new: it will point at v{version}.
            </>
          ) : null}
        </p>
        {locked ? (
          <p className="w-full rounded border border-amber-200 bg-amber-50 px-2.5 py-1.5 text-sm text-amber-900" data-testid="alias-locked">
            <code>{name}</code> is protected: only owners and admins can move it. Ask an admin of this organization.
          </p>
        ) : null}
        <div className="w-full">
          <FormMessage state={state} />
        </div>
      </form>

      <dialog
        ref={dialogRef}
        className="w-[min(32rem,calc(100vw-2rem))] rounded-lg p-0 shadow-xl backdrop:bg-slate-900/40"
        aria-labelledby="alias-confirm-title"
        data-testid="alias-confirm"
      >
        <div className="space-y-4 p-5">
          <h3 id="alias-confirm-title" className="text-lg font-semibold" data-testid="alias-confirm-title">
            {name}: {current ? `v${current.version}` : "(new)"} → v{version}
          </h3>
          <table className="w-full text-left text-sm">
            <thead className="text-xs text-slate-500">
              <tr>
                <th scope="col" className="py-1 font-medium">
                  <span className="sr-only">When</span>
                </th>
                <th scope="col" className="py-1 font-medium">
                  Version
                </th>
                <th scope="col" className="py-1 font-medium">
                  SHA-256
                </th>
                <th scope="col" className="py-1 font-medium">
                  Scan
                </th>
              </tr>
            </thead>
            <tbody>
              {current ? (
                <tr data-testid="alias-confirm-from">
                  <th scope="row" className="py-1 pr-2 font-normal text-slate-500">
                    Now
                  </th>
                  <td className="font-mono">v{current.version}</td>
                  <td className="font-mono text-xs" title={current.sha256 ?? undefined}>
                    {short(current.sha256)}
                  </td>
                  <td>
                    <VerdictBadge verdict={current.scan_verdict} />
                  </td>
                </tr>
              ) : null}
              <tr data-testid="alias-confirm-to">
                <th scope="row" className="py-1 pr-2 font-normal text-slate-500">
                  After
                </th>
                <td className="font-mono">v{version}</td>
                <td className="font-mono text-xs" title={to?.sha256 ?? undefined}>
                  {short(to?.sha256 ?? null)}
                </td>
                <td>
                  <VerdictBadge verdict={to?.scan_verdict} />
                </td>
              </tr>
            </tbody>
          </table>
          <p className="text-sm text-slate-600">Deployments that fetch {name} get the new version on their next download.</p>
          <div className="flex justify-end gap-2">
            <button type="button" className="btn-secondary" onClick={() => dialogRef.current?.close()} data-testid="alias-confirm-cancel">
              Cancel
            </button>
            <button
              type="button"
              className="btn-primary"
              data-testid="alias-confirm-submit"
              onClick={() => {
                dialogRef.current?.close();
                formRef.current?.requestSubmit();
              }}
            >
              {current ? `Move ${name} to v${version}` : `Point ${name} at v${version}`}
            </button>
          </div>
        </div>
      </dialog>
    </div>
  );
}

/** Owners and admins: which alias names only they may move (in every model of the organization). */
export function ProtectedAliasesForm({ org, protectedAliases }: { org: string; protectedAliases: string[] }) {
  return (
    <div className="space-y-2 border-t border-slate-100 pt-3" data-testid="protected-aliases">
      <p className="text-xs text-slate-600">
        Protected in this organization (only owners and admins move them):{" "}
        {protectedAliases.length ? protectedAliases.map((a) => <code key={a}>{a} </code>) : "none"}
      </p>
      <ActionForm action={setProtectedAliasAction.bind(null, org)} className="flex flex-wrap items-end gap-2" testId="protect-alias-form">
        {(state, pending) => (
          <>
            <label className="sr-only" htmlFor="protect-alias-name">
              Alias to protect or unprotect
            </label>
            <input
              id="protect-alias-name"
              name="alias"
              className="input w-40 py-1.5"
              placeholder="production"
              required
              data-testid="protect-alias-name"
            />
            <button name="on" value="1" className="btn-secondary py-1.5" disabled={pending} data-testid="protect-alias-on">
              Protect
            </button>
            <button name="on" value="0" className="btn-secondary py-1.5" disabled={pending} data-testid="protect-alias-off">
              Unprotect
            </button>
            <div className="w-full">
              <FormMessage state={state} />
            </div>
          </>
        )}
      </ActionForm>
    </div>
  );
}
