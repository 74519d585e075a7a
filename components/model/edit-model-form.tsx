"use client";

import { updateModelAction } from "@/app/orgs/[org]/actions/models";
import { ActionForm, FormMessage } from "@/components/action-form";

interface Props {
  org: string;
  /** [value, label] pairs, passed from the server so zod stays out of this page's bundle. */
  taskTypes: [string, string][];
  frameworks: readonly string[];
  model: { slug: string; name: string; task_type: string; framework: string | null; description: string; tags: string[] };
}

/** Edits a model's metadata (writers). The slug never changes: it is part of every object key. */
export function EditModelForm({ org, model, taskTypes, frameworks }: Props) {
  const err = (state: { fieldErrors?: Record<string, string> }, k: string) =>
    state.fieldErrors?.[k] ? <p className="field-error">{state.fieldErrors[k]}</p> : null;
  return (
    <ActionForm action={updateModelAction.bind(null, org, model.slug)} className="grid gap-3 sm:grid-cols-2" testId="edit-model-form">
      {(state, pending) => (
        <>
          <input
            type="hidden"
            name="original"
            value={JSON.stringify({
              name: model.name,
              task_type: model.task_type,
              framework: model.framework,
              description: model.description,
              tags: model.tags,
            })}
          />
          <div>
            <label className="label" htmlFor="edit-name">
              Name
            </label>
            <input
              id="edit-name"
              name="name"
              required
              maxLength={200}
              defaultValue={model.name}
              className="input"
              data-testid="edit-name"
            />
            {err(state, "name")}
          </div>
          <div className="grid grid-cols-2 gap-3">
            <div>
              <label className="label" htmlFor="edit-type">
                Type
              </label>
              <select id="edit-type" name="task_type" defaultValue={model.task_type} className="input" data-testid="edit-type">
                {taskTypes.map(([t, label]) => (
                  <option key={t} value={t}>
                    {label}
                  </option>
                ))}
              </select>
            </div>
            <div>
              <label className="label" htmlFor="edit-framework">
                Framework
              </label>
              <select
                id="edit-framework"
                name="framework"
                defaultValue={model.framework ?? ""}
                className="input"
                data-testid="edit-framework"
              >
                <option value="">Not set</option>
                {[...new Set([...(model.framework ? [model.framework] : []), ...frameworks])].map((f) => (
                  <option key={f} value={f}>
                    {f}
                  </option>
                ))}
              </select>
            </div>
          </div>
          <div className="sm:col-span-2">
            <label className="label" htmlFor="edit-description">
              Description
            </label>
            <textarea
              id="edit-description"
              name="description"
              rows={3}
              maxLength={10_000}
              defaultValue={model.description}
              className="input"
              data-testid="edit-description"
            />
            {err(state, "description")}
          </div>
          <div className="sm:col-span-2">
            <label className="label" htmlFor="edit-tags">
              Tags <span className="font-normal text-slate-500">(comma-separated)</span>
            </label>
            <input id="edit-tags" name="tags" defaultValue={model.tags.join(", ")} className="input" data-testid="edit-tags" />
            {err(state, "tags")}
          </div>
          <div className="flex items-center gap-3 sm:col-span-2">
            <button type="submit" className="btn-primary" disabled={pending} data-testid="edit-save">
              {pending ? "Saving…" : "Save changes"}
            </button>
            <FormMessage state={state} />
          </div>
        </>
      )}
    </ActionForm>
  );
}
