import "server-only";
import { createServerClient } from "@supabase/ssr";
import { cookies } from "next/headers";
import type { SupabaseSettings } from "@/lib/config";
import { REALTIME_OPTIONS } from "./realtime";

/** A Supabase client for this request (server components, actions, route handlers). Never cache it in a module. */
export async function createClient(supabase: Pick<SupabaseSettings, "url" | "anonKey">) {
  const cookieStore = await cookies();
  return createServerClient(supabase.url, supabase.anonKey, {
    realtime: REALTIME_OPTIONS,
    cookies: {
      getAll: () => cookieStore.getAll(),
      setAll(cookiesToSet) {
        try {
          for (const { name, value, options } of cookiesToSet) cookieStore.set(name, value, options);
        } catch {
          // Called from a server component: cookies are read-only there; proxy.ts refreshes sessions.
        }
      },
    },
  });
}
