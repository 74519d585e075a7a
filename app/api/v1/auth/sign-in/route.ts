import { signInLocal } from "@/lib/auth/local";
import { getConfig } from "@/lib/config";
import { isAppError } from "@/lib/errors";
import { apiRoute, json, readJson, requestMeta } from "@/lib/http/api";
import { signInSchema } from "@/lib/validations/auth";

/** {email, password} -> {access_token, token_type, expires_in}: a bearer token for scripts. */
export const POST = apiRoute(async (req) => {
  const input = signInSchema.parse(await readJson(req));
  const meta = requestMeta(req);
  if (getConfig().mode === "supabase") {
    const { signInWithSupabase } = await import("@/lib/auth/supabase-auth");
    return json(await signInWithSupabase(input));
  }
  try {
    const { accessToken, expiresIn, user } = await signInLocal({ ...input, ip: meta.ip, userAgent: meta.userAgent });
    return json({ access_token: accessToken, token_type: "bearer", expires_in: expiresIn, user });
  } catch (e) {
    if (isAppError(e) && e.code === "rate_limited") {
      return json(e.toJSON(), { status: 429, headers: { "retry-after": String(e.details?.retryAfterSeconds ?? 60) } });
    }
    throw e;
  }
});
