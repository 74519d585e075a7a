import { createBrowserClient } from "@supabase/ssr";

/** The browser's Supabase client (supabase mode only; the URL and anon key are public by design). */
export function createClient() {
  return createBrowserClient(process.env.NEXT_PUBLIC_SUPABASE_URL!, process.env.NEXT_PUBLIC_SUPABASE_ANON_KEY!);
}
