import "server-only";
import { createClient } from "@supabase/supabase-js";
import { getConfig } from "@/lib/config";

/**
 * IMPORTANT: the service-role client bypasses RLS. Seeding, migration and admin tools only — never
 * a user request. Throws when the key is missing rather than falling back to anything.
 */
export function createAdminClient() {
  const cfg = getConfig().supabase;
  const key = process.env.SUPABASE_SERVICE_ROLE_KEY;
  if (!cfg) throw new Error("Supabase is not configured (SUPABASE_URL).");
  if (!key) throw new Error("SUPABASE_SERVICE_ROLE_KEY is required for this admin tool.");
  return createClient(cfg.url, key, { auth: { persistSession: false, autoRefreshToken: false } });
}
