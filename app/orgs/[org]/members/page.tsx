import type { Metadata } from "next";
import { AddMemberForm, InviteMemberForm, MemberRoleControl, RevokeInvitationButton } from "@/components/members-controls";
import { formatDateTime, timeAgo } from "@/lib/web/format";
import { isAdmin, requireOrg } from "@/lib/web/page-auth";
import { TableHead } from "@/components/table-head";

export const metadata: Metadata = { title: "Members" };

const ROLE_HELP = [
  ["owner", "Everything, including owners and deleting the organization."],
  ["admin", "Manage members (not owners), delete versions, download quarantined files."],
  ["member", "Upload models and versions, move aliases, create tokens."],
  ["viewer", "Browse and download."],
] as const;

export default async function MembersPage({ params }: { params: Promise<{ org: string }> }) {
  const { org: slug } = await params;
  const { principal, services, org } = await requireOrg(slug);
  const members = await services.orgs.listMembers(principal, org.slug);
  const admin = isAdmin(org);
  const owner = org.role === "owner";
  const invitations = admin ? await services.orgs.listInvitations(principal, org.slug) : [];
  return (
    <div className="space-y-6">
      <div>
        <h1 className="text-2xl font-semibold tracking-tight">Members</h1>
        <p className="text-sm text-slate-600">
          Who can see and change {org.name}&apos;s models. Changes take effect on their next request.
        </p>
      </div>
      {admin ? (
        <section className="card space-y-4 p-4" aria-labelledby="invite-member">
          <div>
            <h2 id="invite-member" className="font-medium">
              Invite by e-mail
            </h2>
            <p className="text-xs text-slate-600">
              You get a link to send them (this server sends no e-mail). It works once, for that address, for 7 days: they sign up or sign
              in with it and join as the role you pick.
            </p>
          </div>
          <InviteMemberForm org={slug} canInviteOwner={owner} />
          {invitations.length ? (
            <div className="overflow-x-auto">
              <h3 className="mb-1 text-sm font-medium">Pending invitations</h3>
              <table className="w-full text-left text-sm" data-testid="invitations-table">
                <thead className="text-xs text-slate-500">
                  <tr>
                    <th scope="col" className="py-1 pr-3 font-medium">
                      E-mail
                    </th>
                    <th scope="col" className="py-1 pr-3 font-medium">
                      Role
                    </th>
                    <th scope="col" className="py-1 pr-3 font-medium">
                      Invited
                    </th>
                    <th scope="col" className="py-1 pr-3 font-medium">
                      Expires
                    </th>
                    <th scope="col" className="py-1 text-right font-medium">
                      <span className="sr-only">Withdraw</span>
                    </th>
                  </tr>
                </thead>
                <tbody className="divide-y divide-slate-100">
                  {invitations.map((i) => {
                    const expired = i.expired;
                    return (
                      <tr key={i.id} data-testid="invitation-row" data-email={i.email} data-expired={expired ? "true" : "false"}>
                        <td className="py-2 pr-3">{i.email}</td>
                        <td className="py-2 pr-3">
                          <span className="rounded bg-slate-100 px-2 py-0.5 text-xs">{i.role}</span>
                        </td>
                        <td className="py-2 pr-3 text-slate-600">
                          {timeAgo(i.created_at)}
                          {i.invited_by_email ? ` by ${i.invited_by_email}` : ""}
                        </td>
                        <td className={`py-2 pr-3 ${expired ? "text-red-700" : "text-slate-600"}`}>
                          {expired ? "expired " : ""}
                          {formatDateTime(i.expires_at)}
                        </td>
                        <td className="py-2 text-right">
                          <RevokeInvitationButton org={slug} id={i.id} email={i.email} />
                        </td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            </div>
          ) : null}
          <details className="border-t border-slate-100 pt-3">
            <summary className="cursor-pointer text-sm text-brand-700">Add someone who already has an account</summary>
            <div className="mt-3">
              <AddMemberForm org={slug} canAddOwner={owner} />
            </div>
          </details>
        </section>
      ) : (
        <p className="rounded-md border border-slate-200 bg-slate-50 px-3 py-2 text-sm text-slate-700" data-testid="members-read-only">
          You are a {org.role} here, so this page is read-only: only owners and admins invite people, change roles and remove members. Ask
          an admin of {org.name}.
        </p>
      )}
      <section className="card overflow-x-auto">
        <table className="w-full text-left text-sm" data-testid="members-table">
          <TableHead columns={[{ label: "Member" }, { label: "Role" }, { label: "Since" }, admin && { label: "Manage", right: true }]} />
          <tbody className="divide-y divide-slate-100">
            {members.map((m) => (
              <tr key={m.user_id} data-testid="member-row" data-email={m.email}>
                <td className="px-4 py-3">
                  <div className="font-medium">{m.display_name ?? m.email}</div>
                  <div className="text-xs text-slate-500">
                    {m.email}
                    {m.user_id === principal.userId ? " (you)" : ""}
                  </div>
                </td>
                <td className="px-4 py-3">
                  <span className="rounded bg-slate-100 px-2 py-0.5 text-xs">{m.role}</span>
                </td>
                <td className="px-4 py-3 text-slate-600">{formatDateTime(m.created_at)}</td>
                {admin ? (
                  <td className="px-4 py-3">
                    {m.role !== "owner" || owner ? (
                      <MemberRoleControl org={slug} userId={m.user_id} role={m.role} email={m.email} canManageOwners={owner} />
                    ) : (
                      <span className="block text-right text-xs text-slate-500">Only owners manage owners</span>
                    )}
                  </td>
                ) : null}
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <section className="card p-4 text-sm" aria-labelledby="roles">
        <h2 id="roles" className="mb-2 font-medium">
          Roles
        </h2>
        <dl className="grid gap-1 sm:grid-cols-[8rem_1fr]">
          {ROLE_HELP.map(([r, d]) => (
            <div key={r} className="contents">
              <dt className="font-mono text-slate-700">{r}</dt>
              <dd className="text-slate-600">{d}</dd>
            </div>
          ))}
        </dl>
      </section>
    </div>
  );
}
