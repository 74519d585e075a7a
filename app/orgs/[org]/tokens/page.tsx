import type { Metadata } from "next";
import { CreateTokenForm } from "@/components/tokens/create-token-form";
import { requestOrigin } from "@/components/model/request-origin";
import { RevokeTokenButton } from "@/components/tokens/revoke-token-button";
import { formatDateTime, timeAgo } from "@/lib/web/format";
import { isAdmin, requireOrg } from "@/lib/web/page-auth";
import { TableHead } from "@/components/table-head";

export const metadata: Metadata = { title: "API tokens" };

const TOKEN_ROLES = ["admin", "member", "viewer"] as const;
const RANK = { owner: 4, admin: 3, member: 2, viewer: 1 } as const;

function tokenStatus(t: { revoked_at: Date | null; expires_at: Date | null }): "active" | "expired" | "revoked" {
  if (t.revoked_at) return "revoked";
  return t.expires_at !== null && new Date(t.expires_at).getTime() <= Date.now() ? "expired" : "active";
}

export default async function TokensPage({ params }: { params: Promise<{ org: string }> }) {
  const { org: slug } = await params;
  const { principal, services, org } = await requireOrg(slug);
  const admin = isAdmin(org);
  const [tokens, members] = await Promise.all([
    services.tokens.list(principal, org.slug),
    admin ? services.orgs.listMembers(principal, org.slug) : Promise.resolve([]),
  ]);
  const emails = new Map(members.map((m) => [m.user_id, m.email]));
  const roles = TOKEN_ROLES.filter((r) => RANK[r] <= RANK[org.role]);
  const origin = await requestOrigin();

  return (
    <div className="space-y-6">
      <div>
        <h1 className="text-2xl font-semibold tracking-tight">API tokens</h1>
        <p className="text-sm text-slate-600">
          Tokens let pipelines and scripts use the REST API as you, limited to {org.name} and to the role you pick (never more than your
          own: {org.role}).
        </p>
      </div>

      <section className="card p-4" aria-labelledby="new-token">
        <h2 id="new-token" className="mb-3 font-medium">
          New token
        </h2>
        <CreateTokenForm org={slug} roles={roles} />
      </section>

      <section className="card overflow-x-auto" aria-labelledby="token-list">
        <h2 id="token-list" className="px-4 pt-4 pb-2 font-medium">
          {admin ? "All tokens of this organization" : "Your tokens"}
        </h2>
        {tokens.length ? (
          <table className="w-full text-left text-sm" data-testid="tokens-table">
            <TableHead
              columns={[
                { label: "Name" },
                { label: "Token" },
                { label: "Role" },
                admin && { label: "Owner" },
                { label: "Created" },
                { label: "Last used" },
                { label: "Expires" },
                { label: "Status" },
                { label: "Actions", right: true, hidden: true },
              ]}
            />
            <tbody className="divide-y divide-slate-100">
              {tokens.map((t) => {
                const status = tokenStatus(t);
                const mine = t.user_id === principal.userId;
                return (
                  <tr
                    key={t.id}
                    className={status === "active" ? "" : "text-slate-500"}
                    data-testid="token-row"
                    data-name={t.name}
                    data-status={status}
                  >
                    <td className="px-4 py-3 font-medium">{t.name}</td>
                    <td className="px-4 py-3">
                      <code className="text-xs">{t.token_prefix}…</code>
                    </td>
                    <td className="px-4 py-3">
                      <span className="rounded bg-slate-100 px-2 py-0.5 text-xs">{t.role}</span>
                    </td>
                    {admin ? (
                      <td className="max-w-48 truncate px-4 py-3 text-slate-600">
                        {mine ? "you" : (emails.get(t.user_id) ?? "former member")}
                      </td>
                    ) : null}
                    <td className="whitespace-nowrap px-4 py-3 text-slate-600" title={formatDateTime(t.created_at)}>
                      {timeAgo(t.created_at)}
                    </td>
                    <td className="whitespace-nowrap px-4 py-3 text-slate-600" title={formatDateTime(t.last_used_at)}>
                      {t.last_used_at ? timeAgo(t.last_used_at) : "never"}
                    </td>
                    <td className="whitespace-nowrap px-4 py-3 text-slate-600">
                      {t.expires_at ? formatDateTime(t.expires_at).slice(0, 10) : "never"}
                    </td>
                    <td className="px-4 py-3">
                      <span
                        className={`rounded px-2 py-0.5 text-xs font-medium ${status === "active" ? "bg-green-50 text-green-800" : status === "expired" ? "bg-amber-50 text-amber-800" : "bg-slate-100 text-slate-600"}`}
                        data-testid="token-status"
                        title={t.revoked_at ? `Revoked ${formatDateTime(t.revoked_at)}` : undefined}
                      >
                        {status}
                      </span>
                    </td>
                    <td className="px-4 py-3 text-right">
                      {status !== "revoked" && (mine || admin) ? <RevokeTokenButton org={slug} id={t.id} name={t.name} /> : null}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        ) : (
          <p className="px-4 pb-6 pt-2 text-sm text-slate-600" data-testid="tokens-empty">
            No tokens yet. Create one above for a pipeline or a script.
          </p>
        )}
      </section>

      <section className="card p-4 text-sm text-slate-700" aria-labelledby="token-usage">
        <h2 id="token-usage" className="mb-2 font-medium text-slate-900">
          Using a token
        </h2>
        <pre tabIndex={0} className="overflow-x-auto rounded bg-slate-900 p-3 text-xs text-slate-100">
          <code>{`curl -H "Authorization: Bearer $FAIRMIND_TOKEN" ${origin}/api/v1/orgs/${slug}/models`}</code>
        </pre>
        <p className="mt-2 text-xs text-slate-500">
          Each model page has ready-made upload and download snippets. Tokens cannot create other tokens or manage members.
        </p>
      </section>
    </div>
  );
}
