export function Logo({ className = "" }: { className?: string }) {
  return (
    <span className={`inline-flex items-center gap-2 font-semibold tracking-tight ${className}`}>
      <svg aria-hidden viewBox="0 0 32 32" className="h-7 w-7">
        <rect width="32" height="32" rx="7" className="fill-brand-600" />
        <path d="M9 22V10h10M9 16h8" stroke="white" strokeWidth="3" fill="none" strokeLinecap="round" strokeLinejoin="round" />
        <circle cx="23" cy="21" r="3" className="fill-brand-100" />
      </svg>
      FairMind <span className="hidden font-normal text-slate-500 sm:inline">Model Storage</span>
    </span>
  );
}
