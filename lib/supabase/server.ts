import "server-only";
import { createServerClient } from "@supabase/ssr";
import { cookies } from "next/headers";
import { getConfig } from "@/lib/config";

/** A Supabase client for this request (server components, actions, route handlers). Never cache it in a module. */
export async function createClient() {
  const { supabase } = getConfig();
  if (!supabase) throw new Error("Supabase is not configured");
  const cookieStore = await cookies();
  return createServerClient(supabase.url, supabase.anonKey, {
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
