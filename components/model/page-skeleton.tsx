/** A loading.tsx body: the page title and grey blocks where content will be (announced to screen readers). */
export function PageSkeleton({ title, blocks = [96, 320] }: { title: string; blocks?: number[] }) {
  return (
    <div className="space-y-5" aria-busy="true" data-testid="page-loading">
      <p className="sr-only" role="status">
        Loading {title}…
      </p>
      <div>
        <h1 className="text-2xl font-semibold tracking-tight text-slate-400">{title}</h1>
        <div className="mt-2 h-4 w-72 animate-pulse rounded bg-slate-200" />
      </div>
      {blocks.map((h, i) => (
        <div key={i} className="card animate-pulse bg-slate-100" style={{ height: h }} />
      ))}
    </div>
  );
}
