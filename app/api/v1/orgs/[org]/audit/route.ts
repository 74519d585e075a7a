import { serializeAuditEvent } from "@/lib/audit/audit";
import { auditQuerySchema } from "@/lib/audit/query";
import { AppError } from "@/lib/errors";
import { apiCaller, apiRoute, json } from "@/lib/http/api";

type Ctx = { params: Promise<{ org: string }> };

/**
 * GET ?actor=&action=&model=&from=&to=&cursor=&limit= : the org's audit trail, newest first, keyset-paginated.
 * ?format=csv streams every matching event (up to 50,000 rows; X-Audit-Truncated says when there are more).
 */
export const GET = apiRoute(async (req, { params }: Ctx) => {
  const { org } = await params;
  const search = Object.fromEntries(new URL(req.url).searchParams);
  const { format, ...rest } = search;
  if (format !== undefined && format !== "csv" && format !== "json")
    throw new AppError("invalid_input", "format is csv or json.", { fields: { format: "Use csv or json." } });
  const query = auditQuerySchema.parse(rest);
  const { principal, services } = await apiCaller(req);
  if (format === "csv") {
    const { stream, truncated, maxRows } = await services.audit.exportCsv(principal, org, query);
    const stamp = new Date().toISOString().slice(0, 10);
    return new Response(stream, {
      headers: {
        "content-type": "text/csv; charset=utf-8",
        "content-disposition": `attachment; filename="audit-${org}-${stamp}.csv"`,
        "cache-control": "no-store",
        "x-content-type-options": "nosniff",
        "x-audit-max-rows": String(maxRows),
        "x-audit-truncated": truncated ? "true" : "false",
      },
    });
  }
  const page = await services.audit.list(principal, org, query);
  return json({ items: page.items.map(serializeAuditEvent), next_cursor: page.next_cursor });
});
