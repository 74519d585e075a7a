import { isAppError } from "@/lib/errors";
import { apiRoute, json, readJson } from "@/lib/http/api";
import { requestMetaFrom } from "@/lib/http/caller";
import { getServices } from "@/lib/services/services";
import { signInSchema } from "@/lib/validations/auth";

/** {email, password} -> {access_token, token_type, expires_in}: a bearer token for scripts. */
export const POST = apiRoute(async (req) => {
  const input = signInSchema.parse(await readJson(req));
  const { platform } = await getServices();
  try {
    const { accessToken, expiresIn, user } = await platform.auth.signIn(input, requestMetaFrom(req.headers));
    return json({ access_token: accessToken, token_type: "bearer", expires_in: expiresIn, user });
  } catch (e) {
    if (isAppError(e) && e.code === "rate_limited") {
      return json(e.toJSON(), { status: 429, headers: { "retry-after": String(e.details?.retryAfterSeconds ?? 60) } });
    }
    throw e;
  }
});
