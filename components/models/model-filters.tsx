"use client";

import Link from "next/link";
import { usePathname, useRouter } from "next/navigation";
import { useEffect, useRef, useState, useTransition } from "react";

export interface FilterSelect {
  id: string;
  label: string;
  value?: string;
  options: [string, string][];
  /** Offer "All" (no filter); false for the sort. */
  all?: boolean;
}

/** Typing waits this long after the last key before the list follows (one request per pause, not per key). */
export const SEARCH_DEBOUNCE_MS = 300;

/**
 * The models list's search and filters, live: the list follows as you type (debounced) or choose,
 * and the URL keeps the state (shareable, Back works). Without JavaScript it is a plain GET form.
 */
export function ModelFilters({
  q,
  selects,
  dir,
  clearHref,
  filtered,
}: {
  q?: string;
  selects: FilterSelect[];
  dir?: string;
  clearHref: string;
  filtered: boolean;
}) {
  const router = useRouter();
  const path = usePathname();
  const search = useRef<HTMLInputElement>(null);
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const [pending, startTransition] = useTransition();
  const fromProps = (): Record<string, string> => ({
    q: q ?? "",
    ...Object.fromEntries(selects.map((s) => [s.id, s.value ?? ""])),
    dir: dir ?? "",
  });
  const propsKey = JSON.stringify(fromProps());
  const [values, setValues] = useState(fromProps);
  // The URL changed elsewhere (a sort header, Clear, Back): show what it says, but never rewrite
  // the search box under the user's fingers.
  useEffect(() => {
    const next = JSON.parse(propsKey) as Record<string, string>;
    setValues((v) => (document.activeElement === search.current ? { ...next, q: v.q ?? "" } : next));
  }, [propsKey]);
  useEffect(() => () => clearTimeout(timer.current), []);

  function follow(next: Record<string, string>) {
    clearTimeout(timer.current);
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(next)) if (v.trim()) params.set(k, v.trim());
    const qs = params.toString();
    // A new search starts on the first page: the cursor is never carried over.
    startTransition(() => router.replace(qs ? `${path}?${qs}` : path, { scroll: false }));
  }

  return (
    <form
      role="search"
      aria-label="Search and filter models"
      aria-busy={pending}
      className="card flex flex-wrap items-end gap-3 p-3"
      method="get"
      data-testid="model-filters"
      data-pending={pending ? "true" : "false"}
      onSubmit={(e) => {
        e.preventDefault();
        follow(values);
      }}
    >
      <div className="w-full sm:w-auto sm:min-w-48 sm:flex-1">
        <label htmlFor="q" className="label">
          Search
        </label>
        <input
          id="q"
          name="q"
          type="search"
          ref={search}
          value={values.q ?? ""}
          placeholder="Name, tag, framework, description…"
          className="input"
          data-testid="search"
          onChange={(e) => {
            const next = { ...values, q: e.target.value };
            setValues(next);
            clearTimeout(timer.current);
            timer.current = setTimeout(() => follow(next), SEARCH_DEBOUNCE_MS);
          }}
        />
      </div>
      {selects.map((s) => (
        // Two to a row on a phone, so the filters do not push the list below the fold.
        <div key={s.id} className="w-[calc(50%-0.375rem)] sm:w-auto">
          <label htmlFor={s.id} className="label">
            {s.label}
          </label>
          <select
            id={s.id}
            name={s.id}
            value={values[s.id] ?? ""}
            className="input w-full pr-8"
            data-testid={`filter-${s.id}`}
            onChange={(e) => {
              // Another sort starts in its natural direction.
              const next = { ...values, [s.id]: e.target.value, ...(s.id === "sort" ? { dir: "" } : {}) };
              setValues(next);
              follow(next);
            }}
          >
            {s.all !== false ? <option value="">All</option> : null}
            {s.options.map(([v, l]) => (
              <option key={v} value={v}>
                {l}
              </option>
            ))}
          </select>
        </div>
      ))}
      {values.dir ? <input type="hidden" name="dir" value={values.dir} /> : null}
      <noscript>
        <button type="submit" className="btn-primary">
          Apply
        </button>
      </noscript>
      {filtered ? (
        <Link href={clearHref} className="btn-secondary" data-testid="clear-filters">
          Clear
        </Link>
      ) : null}
    </form>
  );
}
