import { apiRoute, json } from "@/lib/http/api";
import { readJson } from "@/lib/http/body";
import { requestMetaFrom } from "@/lib/http/caller";
import { getServices } from "@/lib/services/services";
import { signInSchema } from "@/lib/validations/auth";

/** {email, password} -> {access_token, token_type, expires_in}: a bearer token for scripts. */
export const POST = apiRoute(async (req) => {
  const input = signInSchema.parse(await readJson(req));
  const { platform } = await getServices();
  const { accessToken, expiresIn, user } = await platform.auth.signIn(input, requestMetaFrom(req.headers));
  return json({ access_token: accessToken, token_type: "bearer", expires_in: expiresIn, user });
});
