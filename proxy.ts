import { NextResponse, type NextRequest } from "next/server";
import { isAppError } from "@/lib/errors";
import { assertSameOrigin } from "@/lib/http/same-origin";
import { pageCsp } from "@/lib/http/security-headers";
import { updateSession } from "@/lib/supabase/proxy";

export async function proxy(request: NextRequest) {
  // Pages take POSTs only for server actions (by fetch with Next-Action, or as a form post before the
  // page hydrated). Next refuses a cross-origin action itself, but as a 500: answer 403 first.
  if (request.method !== "GET" && request.method !== "HEAD") {
    try {
      assertSameOrigin(request, process.env.APP_URL);
    } catch (e) {
      if (isAppError(e)) return NextResponse.json(e.toJSON(), { status: e.status });
      throw e;
    }
  }
  // Every page gets its own nonce; Next reads it from the request's CSP header and puts it on its scripts.
  const nonce = Buffer.from(crypto.randomUUID()).toString("base64");
  const supabase = process.env.NEXT_PUBLIC_SUPABASE_URL;
  const csp = pageCsp(nonce, { dev: process.env.NODE_ENV !== "production", connect: supabase ? [new URL(supabase).origin] : [] });
  request.headers.set("content-security-policy", csp);
  request.headers.set("x-nonce", nonce);
  const response = await updateSession(request);
  response.headers.set("content-security-policy", csp);
  return response;
}

export const config = {
  // IMPORTANT: a proxy whose matcher covers a request silently truncates its body to 10 MB (measured).
  // Every route that receives model bytes lives under /api and stays out of this matcher; the API
  // authenticates bearer tokens and cookies itself.
  matcher: ["/((?!api/|_next/static|_next/image|favicon.ico|.*\\.(?:svg|png|jpg|jpeg|gif|webp)$).*)"],
};
