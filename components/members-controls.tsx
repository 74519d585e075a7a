"use client";

import { useState, useTransition } from "react";
import { addMemberAction, changeRoleAction, inviteMemberAction, removeMemberAction, revokeInvitationAction } from "@/app/orgs/actions";
import { CopyButton } from "@/components/model/copy-button";
import { IDLE, type FormState } from "@/lib/web/form-state";
import { ORG_ROLES, type OrgRole } from "@/lib/validations/models";
import { ActionForm, FormMessage } from "./action-form";

/** Invites an e-mail address with a role; shows the link to send (we send no e-mail ourselves). */
export function InviteMemberForm({ org, canInviteOwner }: { org: string; canInviteOwner: boolean }) {
  return (
    <ActionForm action={inviteMemberAction.bind(null, org)} className="flex flex-wrap items-end gap-3" testId="invite-form">
      {(state, pending) => {
        const path = state.status === "success" ? (state.data?.path as string | undefined) : undefined;
        const link = path && typeof window !== "undefined" ? new URL(path, window.location.origin).toString() : path;
        return (
          <>
            <div className="min-w-64 flex-1">
              <label className="label" htmlFor="invite-email">
                E-mail address
              </label>
              <input
                className="input"
                id="invite-email"
                name="email"
                type="email"
                required
                placeholder="colleague@company.com"
                data-testid="invite-email"
              />
              {state.fieldErrors?.email ? <p className="field-error">{state.fieldErrors.email}</p> : null}
            </div>
            <div>
              <label className="label" htmlFor="invite-role">
                Role
              </label>
              <select className="input" id="invite-role" name="role" defaultValue="member" data-testid="invite-role">
                {ORG_ROLES.filter((r) => canInviteOwner || r !== "owner").map((r) => (
                  <option key={r} value={r}>
                    {r}
                  </option>
                ))}
              </select>
            </div>
            <button className="btn-primary" disabled={pending} data-testid="invite-submit">
              {pending ? "Inviting…" : "Invite"}
            </button>
            <div className="w-full space-y-2">
              <FormMessage state={state} />
              {link ? (
                <div className="flex items-center gap-2">
                  <input readOnly value={link} aria-label="Invitation link" className="input font-mono text-xs" data-testid="invite-link" />
                  <CopyButton value={link} label="Copy the invitation link" testId="invite-link-copy" />
                </div>
              ) : null}
            </div>
          </>
        );
      }}
    </ActionForm>
  );
}

export function RevokeInvitationButton({ org, id, email }: { org: string; id: string; email: string }) {
  return (
    <ActionForm
      action={revokeInvitationAction.bind(null, org, id)}
      confirm={`Withdraw the invitation for ${email}?`}
      testId="revoke-invitation-form"
    >
      {(state, pending) => (
        <>
          <button
            className="btn-secondary py-1"
            disabled={pending}
            aria-label={`Withdraw the invitation for ${email}`}
            data-testid="revoke-invitation"
          >
            Withdraw
          </button>
          <FormMessage state={state} />
        </>
      )}
    </ActionForm>
  );
}

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
  // The role applies when it is chosen; the message offers to undo it.
  const [current, setCurrent] = useState<OrgRole>(role);
  const [result, setResult] = useState<{ state: FormState; previous?: OrgRole }>({ state: IDLE });
  const [pending, startTransition] = useTransition();
  const apply = (next: OrgRole, previous: OrgRole, undoing = false) => {
    setCurrent(next);
    startTransition(async () => {
      const form = new FormData();
      form.set("role", next);
      const state = await changeRoleAction(org, userId, IDLE, form);
      if (state.status !== "success") setCurrent(previous);
      setResult({
        state:
          state.status === "success"
            ? { status: "success", message: undoing ? `Undone: ${email} is ${next} again.` : `${email} is now ${next}.` }
            : state,
        previous: state.status === "success" && !undoing ? previous : undefined,
      });
    });
  };
  return (
    <div className="flex flex-wrap items-center justify-end gap-2">
      <div className="flex flex-wrap items-center justify-end gap-2" data-testid="change-role-form">
        <label className="sr-only" htmlFor={`role-${userId}`}>
          Role of {email}
        </label>
        <select
          id={`role-${userId}`}
          name="role"
          value={current}
          disabled={pending}
          onChange={(e) => apply(e.target.value as OrgRole, current)}
          className="input w-32 py-1.5"
          data-testid="member-role"
        >
          {roles.map((r) => (
            <option key={r} value={r}>
              {r}
            </option>
          ))}
        </select>
        <FormMessage state={result.state} />
        {result.previous ? (
          <button
            type="button"
            className="text-sm text-brand-700 underline"
            disabled={pending}
            onClick={() => apply(result.previous!, current, true)}
            data-testid="role-undo"
          >
            Undo
          </button>
        ) : null}
      </div>
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
