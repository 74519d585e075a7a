export default function ModelNotFound() {
  return (
    <div className="card mx-auto max-w-xl p-8 text-center" data-testid="model-not-found">
      <h1 className="text-lg font-semibold">No such model</h1>
      <p className="mt-2 text-sm text-slate-600">This organization has no model with that name, or it was deleted.</p>
      <a href=".." className="btn-secondary mt-5">
        Back to models
      </a>
    </div>
  );
}
