import "server-only";
import { headers } from "next/headers";
import { getConfig } from "@/lib/config";

/** The app's public origin for copy-ready snippets: APP_URL when configured, else this request's host. */
export async function requestOrigin(): Promise<string> {
  const configured = getConfig().appUrl;
  if (configured) return configured.replace(/\/$/, "");
  const h = await headers();
  const host = h.get("x-forwarded-host") ?? h.get("host") ?? "localhost:3000";
  const proto = h.get("x-forwarded-proto") ?? (host.startsWith("localhost") || host.startsWith("127.") ? "http" : "https");
  return `${proto.split(",")[0]}://${host.split(",")[0]}`;
}
