import type { AliasMoveRow, AliasRow } from "@/lib/db/queries/aliases";
import type { ModelRow } from "@/lib/db/queries/models";
import type { OrgRow } from "@/lib/db/queries/orgs";
import type { ScanFinding as ScanFindingRow, VersionRow } from "@/lib/db/queries/versions";
import type { OrgRole } from "@/lib/validations/models";

// What the services return: the row types of lib/db/queries (typed from the schema), named for the UI.

export type Org = OrgRow;
export type ModelSummary = ModelRow;
export type ModelVersion = VersionRow;
export type ScanFinding = ScanFindingRow;
export type AliasMove = AliasMoveRow;

export interface ModelDetail extends ModelSummary {
  role: OrgRole;
  versions: ModelVersion[];
  aliases: AliasRow[];
}

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}
