import "server-only";
import { createClient, type SupabaseClient } from "@supabase/supabase-js";
import { REALTIME_OPTIONS } from "./realtime";

/** A server-side client with no session of its own (admin tools, password sign-in for API tokens, Storage). */
export function createNodeSupabaseClient(
  url: string,
  key: string,
  opts: { accessToken?: string; fetch?: typeof fetch } = {},
): SupabaseClient {
  return createClient(url, key, {
    global: {
      ...(opts.accessToken ? { headers: { Authorization: `Bearer ${opts.accessToken}` } } : {}),
      ...(opts.fetch ? { fetch: opts.fetch } : {}),
    },
    auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
    realtime: REALTIME_OPTIONS,
  });
}
