"use client";

import { useState } from "react";
import { addMemberAction, changeRoleAction, removeMemberAction } from "@/app/orgs/actions";
import { ORG_ROLES, type OrgRole } from "@/lib/validations/models";
import { ActionForm, FormMessage } from "./action-form";

export function AddMemberForm({ org, canAddOwner }: { org: string; canAddOwner: boolean }) {
  const [email, setEmail] = useState("");
  return (
    <ActionForm action={addMemberAction.bind(null, org)} className="flex flex-wrap items-end gap-3" testId="add-member-form">
      {(state, pending) => (
        <>
          <div className="min-w-64 flex-1">
            <label className="label" htmlFor="member-email">
              E-mail of an existing user
            </label>
            <input
              className="input"
              id="member-email"
              name="email"
              type="email"
              required
              placeholder="colleague@company.com"
              value={email}
              onChange={(e) => setEmail(e.target.value)}
              data-testid="member-email"
            />
            {state.fieldErrors?.email ? <p className="field-error">{state.fieldErrors.email}</p> : null}
          </div>
          <div>
            <label className="label" htmlFor="member-role">
              Role
            </label>
            <select className="input" id="member-role" name="role" defaultValue="member">
              {ORG_ROLES.filter((r) => canAddOwner || r !== "owner").map((r) => (
                <option key={r} value={r}>
                  {r}
                </option>
              ))}
            </select>
          </div>
          <button className="btn-primary" disabled={pending}>
            {pending ? "Adding…" : "Add member"}
          </button>
          <div className="w-full">
            <FormMessage state={state} />
          </div>
        </>
      )}
    </ActionForm>
  );
}

export function MemberRoleControl({
  org,
  userId,
  role,
  email,
  canManageOwners,
}: {
  org: string;
  userId: string;
  role: OrgRole;
  email: string;
  canManageOwners: boolean;
}) {
  const roles = ORG_ROLES.filter((r) => canManageOwners || r !== "owner");
  return (
    <div className="flex flex-wrap items-center justify-end gap-2">
      <ActionForm action={changeRoleAction.bind(null, org, userId)} className="flex items-center gap-2" testId="change-role-form">
        {(state, pending) => (
          <>
            <label className="sr-only" htmlFor={`role-${userId}`}>
              Role of {email}
            </label>
            <select id={`role-${userId}`} name="role" defaultValue={role} className="input w-32 py-1.5">
              {roles.map((r) => (
                <option key={r} value={r}>
                  {r}
                </option>
              ))}
            </select>
            <button className="btn-secondary py-1.5" disabled={pending}>
              Save
            </button>
            <FormMessage state={state} />
          </>
        )}
      </ActionForm>
      <ActionForm
        action={removeMemberAction.bind(null, org, userId)}
        confirm={`Remove ${email} from this organization?`}
        testId="remove-member-form"
      >
        {(state, pending) => (
          <>
            <button className="btn-danger py-1.5" disabled={pending} aria-label={`Remove ${email}`}>
              Remove
            </button>
            <FormMessage state={state} />
          </>
        )}
      </ActionForm>
    </div>
  );
}
