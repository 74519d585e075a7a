import "server-only";
import { cookies, headers } from "next/headers";
import type { AppConfig } from "@/lib/config";
import { SESSION_COOKIE, SESSION_TTL_SECONDS } from "./session-token";

/** Stores a local session: httpOnly, SameSite=Lax, Secure when the site is served over https. */
export async function setSessionCookie(token: string, config: Pick<AppConfig, "appUrl">) {
  const h = await headers();
  const https = h.get("x-forwarded-proto") === "https" || (config.appUrl ?? "").startsWith("https://");
  (await cookies()).set(SESSION_COOKIE, token, {
    httpOnly: true,
    sameSite: "lax",
    secure: https,
    path: "/",
    maxAge: SESSION_TTL_SECONDS,
  });
}

export async function clearSessionCookie() {
  (await cookies()).delete(SESSION_COOKIE);
}
