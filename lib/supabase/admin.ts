import "server-only";
import type { SupabaseSettings } from "@/lib/config";
import { createNodeSupabaseClient } from "./node-client";

/**
 * IMPORTANT: the service-role client bypasses RLS. Seeding, migration and admin tools only — never
 * a user request. Throws when the key is missing rather than falling back to anything.
 */
export function createAdminClient(supabase: SupabaseSettings) {
  if (!supabase.serviceRoleKey) throw new Error("SUPABASE_SERVICE_ROLE_KEY is required for this admin tool.");
  return createNodeSupabaseClient(supabase.url, supabase.serviceRoleKey);
}
