/** A column of a card table's header: `hidden` keeps the label for screen readers only (action columns). */
export interface Column {
  label: string;
  right?: boolean;
  hidden?: boolean;
}

/** The header row every card table shares (tokens, members, webhooks, deliveries). Falsy entries are skipped. */
export function TableHead({ columns }: { columns: (Column | false | null | undefined)[] }) {
  return (
    <thead className="border-b border-slate-200 bg-slate-50 text-xs uppercase tracking-wide text-slate-500">
      <tr>
        {columns
          .filter((c): c is Column => !!c)
          .map((c) => (
            <th key={c.label} scope="col" className={`px-4 py-2.5 font-medium${c.right ? " text-right" : ""}`}>
              {c.hidden ? <span className="sr-only">{c.label}</span> : c.label}
            </th>
          ))}
      </tr>
    </thead>
  );
}
