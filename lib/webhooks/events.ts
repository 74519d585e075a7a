import "server-only";
import type { Principal } from "@/lib/auth/principal";
import type { VersionRow } from "@/lib/db/queries/versions";
import { enqueueWebhookEvent } from "@/lib/db/queries/webhooks";
import type { Queryable } from "@/lib/db/types";

// The one place each webhook event's `data` is shaped (docs/webhooks.md lists them). Called by the
// service that makes the change, inside its transaction: the delivery exists if and only if the
// change committed, and sending it is the dispatcher's job (the request never waits for a receiver).

type ModelRef = { id: string; slug: string };

const actorOf = (p: Principal) => ({ id: p.userId, email: p.email ?? null, via: p.via });

const versionOf = (v: VersionRow) => ({
  id: v.id,
  version: v.version,
  status: v.status,
  size_bytes: v.size_bytes === null ? null : Number(v.size_bytes),
  sha256: v.sha256,
  file_count: v.file_count,
  format: v.format,
  framework: v.framework,
  scan_verdict: v.scan_verdict,
});

/** version.created, or version.quarantined when the scan quarantined it. */
export function raiseVersionFinished(tx: Queryable, p: Principal, orgId: string, model: ModelRef, v: VersionRow) {
  const type = v.status === "quarantined" ? "version.quarantined" : "version.created";
  return enqueueWebhookEvent(tx, orgId, type, { model, version: versionOf(v), actor: actorOf(p) });
}

/** version.deleted: one version retired, or each version of a model being deleted. */
export function raiseVersionDeleted(
  tx: Queryable,
  p: Principal,
  orgId: string,
  model: ModelRef,
  v: VersionRow,
  reason: "version_deleted" | "model_deleted",
) {
  return enqueueWebhookEvent(tx, orgId, "version.deleted", {
    model,
    version: { ...versionOf(v), status: "deleted" },
    reason,
    actor: actorOf(p),
  });
}

/** alias.moved: `from` is the version it pointed at before (null for a new alias). */
export function raiseAliasMoved(
  tx: Queryable,
  p: Principal,
  orgId: string,
  model: ModelRef,
  move: { alias: string; from: string | null; to: string; versionId: string },
) {
  return enqueueWebhookEvent(tx, orgId, "alias.moved", {
    model,
    alias: move.alias,
    from: move.from,
    to: move.to,
    version_id: move.versionId,
    actor: actorOf(p),
  });
}
