import type { NextRequest } from "next/server";
import { updateSession } from "@/lib/supabase/proxy";

export async function proxy(request: NextRequest) {
  return updateSession(request);
}

export const config = {
  // IMPORTANT: a proxy whose matcher covers a request silently truncates its body to 10 MB (measured).
  // Every route that receives model bytes lives under /api and stays out of this matcher; the API
  // authenticates bearer tokens and cookies itself.
  matcher: ["/((?!api/|_next/static|_next/image|favicon.ico|.*\\.(?:svg|png|jpg|jpeg|gif|webp)$).*)"],
};
