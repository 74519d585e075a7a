import type { OrgRole } from "@/lib/validations/models";

export interface Org {
  id: string;
  slug: string;
  name: string;
  role: OrgRole;
  created_at: Date;
}

export interface ModelSummary {
  id: string;
  org_id: string;
  slug: string;
  name: string;
  task_type: string;
  framework: string | null;
  description: string;
  tags: string[];
  latest_version: string | null;
  latest_size_bytes: number | null;
  latest_scan_verdict: string | null;
  latest_created_at: Date | null;
  latest_created_by_email: string | null;
  latest_aliases: string[];
  version_count: number;
  total_bytes: number;
  created_at: Date;
  updated_at: Date;
}

export interface ScanFinding {
  severity: "info" | "warning" | "danger" | "error";
  code: string;
  message: string;
  location?: string;
}

export interface ModelVersion {
  id: string;
  model_id: string;
  org_id: string;
  version: string;
  status: "pending" | "ready" | "quarantined" | "deleted";
  object_key: string;
  storage_backend: "local" | "supabase";
  file_name: string;
  size_bytes: number | null;
  sha256: string | null;
  content_type: string | null;
  format: string | null;
  framework: string | null;
  metadata: Record<string, unknown>;
  scan_verdict: "not_scanned" | "safe" | "suspicious" | "dangerous";
  scan_findings: ScanFinding[];
  created_by: string | null;
  created_by_email: string | null;
  created_at: Date;
  ready_at: Date | null;
  deleted_at: Date | null;
  aliases: string[];
}

export interface AliasMove {
  alias: string;
  from_version: string | null;
  to_version: string | null;
  moved_by_email: string | null;
  moved_at: Date;
}

export interface ModelDetail extends ModelSummary {
  role: OrgRole;
  versions: ModelVersion[];
  aliases: { alias: string; version: string; updated_at: Date; updated_by_email: string | null }[];
}

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}
