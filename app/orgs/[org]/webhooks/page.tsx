import type { Metadata } from "next";
import { deleteWebhookAction, pingWebhookAction, redeliverWebhookAction } from "@/app/orgs/[org]/actions/webhooks";
import { AutoRefresh } from "@/components/webhooks/auto-refresh";
import { CreateWebhookForm } from "@/components/webhooks/create-webhook-form";
import { WebhookActionButton } from "@/components/webhooks/webhook-action-button";
import { formatDateTime, timeAgo } from "@/lib/web/format";
import { isAdmin, requireOrg } from "@/lib/web/page-auth";
import { TableHead } from "@/components/table-head";

export const metadata: Metadata = { title: "Webhooks" };

const STATUS_STYLE: Record<string, string> = {
  succeeded: "bg-green-50 text-green-800",
  failed: "bg-red-50 text-red-800",
  pending: "bg-amber-50 text-amber-800",
  delivering: "bg-sky-50 text-sky-800",
};

export default async function WebhooksPage({ params }: { params: Promise<{ org: string }> }) {
  const { org: slug } = await params;
  const { principal, services, org } = await requireOrg(slug);
  if (!isAdmin(org)) {
    return (
      <div className="space-y-2">
        <h1 className="text-2xl font-semibold tracking-tight">Webhooks</h1>
        <p className="text-sm text-slate-600" data-testid="webhooks-admins-only">
          Only owners and admins of {org.name} manage webhooks. Your role is {org.role}.
        </p>
      </div>
    );
  }
  const [endpoints, deliveries] = await Promise.all([
    services.webhooks.listEndpoints(principal, org.slug),
    services.webhooks.listDeliveries(principal, org.slug, { limit: 50 }),
  ]);
  const urlOf = new Map(endpoints.map((e) => [e.id, e.url]));
  const busy = deliveries.some((d) => d.status === "pending" || d.status === "delivering");

  return (
    <div className="space-y-6">
      <AutoRefresh active={busy} />
      <div>
        <h1 className="text-2xl font-semibold tracking-tight">Webhooks</h1>
        <p className="text-sm text-slate-600">
          FairMind POSTs a signed JSON event to your URL when a version is created, quarantined or deleted, or an alias moves. Failed
          deliveries are retried after 1 minute, 5 minutes, 30 minutes, 2 hours and 6 hours. Each request carries{" "}
          <code>FairMind-Signature: t=…,v1=…</code>, an HMAC-SHA256 of <code>t.body</code> with the endpoint&apos;s secret;{" "}
          <code>docs/webhooks.md</code> shows how to verify it.
        </p>
      </div>

      <section className="card p-4" aria-labelledby="new-webhook">
        <h2 id="new-webhook" className="mb-3 font-medium">
          Add a webhook
        </h2>
        <CreateWebhookForm org={slug} />
      </section>

      <section className="card overflow-x-auto" aria-labelledby="webhook-list">
        <h2 id="webhook-list" className="px-4 pt-4 pb-2 font-medium">
          Endpoints
        </h2>
        {endpoints.length ? (
          <table className="w-full text-left text-sm" data-testid="webhooks-table">
            <TableHead
              columns={[{ label: "URL" }, { label: "Events" }, { label: "Added" }, { label: "Actions", right: true, hidden: true }]}
            />
            <tbody className="divide-y divide-slate-100">
              {endpoints.map((e) => (
                <tr key={e.id} data-testid="webhook-row" data-url={e.url}>
                  <td className="max-w-md px-4 py-3">
                    <code className="break-all text-xs">{e.url}</code>
                    {e.description ? <p className="text-xs text-slate-500">{e.description}</p> : null}
                  </td>
                  <td className="px-4 py-3 text-xs text-slate-600">{e.events.join(", ")}</td>
                  <td className="whitespace-nowrap px-4 py-3 text-slate-600" title={formatDateTime(e.created_at)}>
                    {timeAgo(e.created_at)}
                  </td>
                  <td className="space-x-2 whitespace-nowrap px-4 py-3 text-right">
                    <WebhookActionButton
                      action={pingWebhookAction.bind(null, slug, e.id)}
                      label="Send test ping"
                      pendingLabel="Queuing…"
                      testId="webhook-ping"
                    />
                    <WebhookActionButton
                      action={deleteWebhookAction.bind(null, slug, e.id)}
                      label="Remove"
                      pendingLabel="Removing…"
                      testId="webhook-delete"
                      confirm={`Remove the webhook to ${e.url} and its delivery log?`}
                      danger
                    />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : (
          <p className="px-4 pb-6 pt-2 text-sm text-slate-600" data-testid="webhooks-empty">
            No webhooks yet.
          </p>
        )}
      </section>

      <section className="card overflow-x-auto" aria-labelledby="delivery-list">
        <h2 id="delivery-list" className="px-4 pt-4 pb-2 font-medium">
          Recent deliveries
        </h2>
        {deliveries.length ? (
          <table className="w-full text-left text-sm" data-testid="deliveries-table">
            <TableHead
              columns={[
                { label: "Event" },
                { label: "Status" },
                { label: "Attempts" },
                { label: "Created" },
                { label: "Actions", right: true, hidden: true },
              ]}
            />
            <tbody className="divide-y divide-slate-100">
              {deliveries.map((d) => (
                <tr
                  key={d.id}
                  className="align-top"
                  data-testid="delivery-row"
                  data-event={d.event_type}
                  data-status={d.status}
                  data-attempts={d.attempts}
                >
                  <td className="px-4 py-3">
                    <code className="text-xs">{d.event_type}</code>
                    <p className="max-w-xs truncate text-xs text-slate-500" title={urlOf.get(d.endpoint_id)}>
                      to {urlOf.get(d.endpoint_id) ?? "a removed endpoint"}
                    </p>
                    {d.redelivery_of ? <p className="text-xs text-slate-500">redelivery</p> : null}
                  </td>
                  <td className="px-4 py-3">
                    <span
                      className={`rounded px-2 py-0.5 text-xs font-medium ${STATUS_STYLE[d.status] ?? ""}`}
                      data-testid="delivery-status"
                    >
                      {d.status}
                    </span>
                    {d.status === "pending" && d.next_attempt_at && d.attempts > 0 ? (
                      <p className="mt-1 text-xs text-slate-500" data-testid="delivery-next-attempt">
                        next attempt {formatDateTime(d.next_attempt_at)}
                      </p>
                    ) : null}
                  </td>
                  <td className="px-4 py-3">
                    <details data-testid="delivery-attempts">
                      <summary className="cursor-pointer text-xs">
                        {d.attempts} attempt{d.attempts === 1 ? "" : "s"}
                        {d.last_status_code !== null ? ` · last HTTP ${d.last_status_code}` : d.last_error ? " · last failed" : ""}
                      </summary>
                      <ol className="mt-2 space-y-1 text-xs">
                        {d.attempt_log.map((a) => (
                          <li key={a.attempt} data-testid="delivery-attempt" data-status-code={a.status_code ?? ""}>
                            #{a.attempt} · {formatDateTime(a.started_at)} ·{" "}
                            <span className={a.status_code !== null && a.status_code < 300 ? "text-green-700" : "text-red-700"}>
                              {a.status_code !== null ? `HTTP ${a.status_code}` : "no response"}
                            </span>{" "}
                            · {a.duration_ms} ms{a.error ? ` · ${a.error}` : ""}
                          </li>
                        ))}
                      </ol>
                      <pre className="mt-2 max-h-48 max-w-md overflow-auto rounded bg-slate-900 p-2 text-[11px] text-slate-100">
                        {JSON.stringify(d.payload, null, 2)}
                      </pre>
                    </details>
                  </td>
                  <td className="whitespace-nowrap px-4 py-3 text-slate-600" title={formatDateTime(d.created_at)}>
                    {timeAgo(d.created_at)}
                  </td>
                  <td className="px-4 py-3 text-right">
                    <WebhookActionButton
                      action={redeliverWebhookAction.bind(null, slug, d.id)}
                      label="Redeliver"
                      pendingLabel="Queuing…"
                      testId="delivery-redeliver"
                    />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : (
          <p className="px-4 pb-6 pt-2 text-sm text-slate-600" data-testid="deliveries-empty">
            Nothing sent yet. Events appear here as they happen; “Send test ping” sends one now.
          </p>
        )}
      </section>
    </div>
  );
}
