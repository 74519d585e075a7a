import { createServerClient } from "@supabase/ssr";
import { REALTIME_OPTIONS } from "./realtime";
import { NextResponse, type NextRequest } from "next/server";

/** Refreshes the Supabase session cookie on navigation (supabase mode). A no-op otherwise. */
export async function updateSession(request: NextRequest) {
  let response = NextResponse.next({ request });
  const url = process.env.SUPABASE_URL ?? process.env.NEXT_PUBLIC_SUPABASE_URL;
  const anonKey = process.env.NEXT_PUBLIC_SUPABASE_ANON_KEY;
  if (!url || !anonKey || !process.env.SUPABASE_URL) return response;
  const supabase = createServerClient(url, anonKey, {
    realtime: REALTIME_OPTIONS,
    cookies: {
      getAll: () => request.cookies.getAll(),
      setAll(cookiesToSet) {
        for (const { name, value } of cookiesToSet) request.cookies.set(name, value);
        response = NextResponse.next({ request });
        for (const { name, value, options } of cookiesToSet) response.cookies.set(name, value, options);
      },
    },
  });
  // IMPORTANT: nothing between createServerClient and getClaims(), or sessions randomly drop.
  await supabase.auth.getClaims();
  return response;
}
