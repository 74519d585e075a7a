import { z } from "zod";
import { modelSlugSchema, text } from "@/lib/validations/models";

// The audit filters, shared by the audit page's form, its route handler and lib/audit (no Node imports).

/** Every action the server records (record_audit_event callers), grouped for the filter. */
export const AUDIT_ACTIONS = [
  "version.upload",
  "version.download",
  "version.delete",
  "version.rescan",
  "version.purge",
  "blob.purge",
  "blob.migrate",
  "upload.expire",
  "link.create",
  "alias.move",
  "alias.protect",
  "alias.unprotect",
  "upload.refused",
  "model.create",
  "model.update",
  "model.delete",
  "member.add",
  "member.role_change",
  "member.remove",
  "member.invite",
  "member.invite_revoke",
  "member.join",
  "token.create",
  "token.revoke",
  "org.create",
  "webhook.create",
  "webhook.delete",
] as const;

export const AUDIT_ACTION_LABELS: Record<(typeof AUDIT_ACTIONS)[number], string> = {
  "version.upload": "Version uploaded",
  "version.download": "Version downloaded",
  "version.delete": "Version deleted",
  "version.rescan": "Version re-scanned (rescan job)",
  "version.purge": "Deleted version expired (retention job)",
  "blob.purge": "Stored file purged (retention job)",
  "blob.migrate": "Stored file moved to Supabase Storage",
  "upload.expire": "Unfinished upload expired (retention job)",
  "link.create": "Download link created",
  "alias.move": "Alias moved",
  "alias.protect": "Alias protected",
  "alias.unprotect": "Alias protection lifted",
  "upload.refused": "Upload refused",
  "model.create": "Model created",
  "model.update": "Model edited",
  "model.delete": "Model deleted",
  "member.add": "Member added",
  "member.role_change": "Member role changed",
  "member.remove": "Member removed",
  "member.invite": "Member invited",
  "member.invite_revoke": "Invitation revoked",
  "member.join": "Invitation accepted",
  "token.create": "API token created",
  "token.revoke": "API token revoked",
  "org.create": "Organization created",
  "webhook.create": "Webhook added",
  "webhook.delete": "Webhook removed",
};

/** Largest CSV export; narrow the date range for more. */
export const AUDIT_EXPORT_MAX_ROWS = 50_000;

const emptyToUndefined = (v: unknown) => (typeof v === "string" && v.trim() === "" ? undefined : v);
const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;
const dateParam = z.preprocess(
  emptyToUndefined,
  z
    .string()
    .trim()
    .max(40)
    .refine(
      (s) => (DATE_ONLY.test(s) ? !Number.isNaN(Date.parse(`${s}T00:00:00Z`)) : z.iso.datetime({ offset: true }).safeParse(s).success),
      "Use a date (YYYY-MM-DD) or an ISO date-time.",
    )
    .optional(),
);

export const auditQuerySchema = z.object({
  /** The actor's e-mail: exact (case-insensitive) when it contains "@", otherwise a substring. */
  actor: z.preprocess(emptyToUndefined, text(320).optional()),
  /** A full action ("alias.move") or a family ("version"). */
  action: z.preprocess(
    emptyToUndefined,
    z
      .string()
      .regex(/^[a-z_]+(\.[a-z_]+)?$/, "Unknown action.")
      .optional(),
  ),
  model: z.preprocess(emptyToUndefined, modelSlugSchema.optional()),
  /** Inclusive; a date means its start (UTC). */
  from: dateParam,
  /** Inclusive; a date means its whole day (UTC). */
  to: dateParam,
  cursor: z.preprocess(emptyToUndefined, text(200).optional()),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});
export type AuditQuery = z.infer<typeof auditQuerySchema>;

/**
 * Turns a from/to parameter into a half-open bound: from -> created_at >= bound, to -> created_at <
 * bound (a date includes its whole day, a date-time its whole millisecond).
 */
export function dateBound(value: string, edge: "from" | "to"): Date {
  const d = DATE_ONLY.test(value) ? new Date(`${value}T00:00:00Z`) : new Date(value);
  if (edge === "from") return d;
  return new Date(d.getTime() + (DATE_ONLY.test(value) ? 86_400_000 : 1));
}
