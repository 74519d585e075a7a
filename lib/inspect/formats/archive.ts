import type { Report } from "../report";

/**
 * The uploaded file is a plain archive (zip, tar, 7z) rather than a model layout: stored as format
 * "archive", each member inspected from its bytes. Safe only when every member was identified and
 * judged safe; members no parser reads (text, unknown binaries) leave it suspicious.
 */
export function judgePlainArchive(
  report: Report,
  kind: string,
  members: Array<{ name: string; kind: string | null }>,
  count: number,
  meta: Record<string, unknown>,
): void {
  report.format = "archive";
  const unread = members.filter((m) => m.kind === null || m.kind === "other" || m.kind === "empty");
  const kinds: Record<string, number> = {};
  for (const m of members) kinds[m.kind ?? "unread"] = (kinds[m.kind ?? "unread"] ?? 0) + 1;
  Object.assign(meta, { archive: kind, memberKinds: kinds });
  if (count === 0) report.fail("archive-empty", `an empty ${kind} archive, not a model file`);
  else if (unread.length || members.length < count)
    report.flag(
      "archive-unidentified-members",
      `a plain ${kind} archive: ${unread.length + count - members.length} of ${count} members are not a format we read (${unread
        .slice(0, 5)
        .map((m) => m.name)
        .join(", ")
        .slice(0, 200)}); nothing vouches for them`,
    );
  else report.info("archive-members", `a plain ${kind} archive: every member was identified and inspected`);
}
