import { QueryClient, isServer } from "@tanstack/react-query";

let browserClient: QueryClient | undefined;

function makeQueryClient() {
  return new QueryClient({ defaultOptions: { queries: { staleTime: 30_000, refetchOnWindowFocus: false } } });
}

/** One QueryClient per server request, one for the whole browser session. */
export function getQueryClient() {
  if (isServer) return makeQueryClient();
  browserClient ??= makeQueryClient();
  return browserClient;
}

/** Every query key in one place, so mutations invalidate exactly what they change. */
export const queryKeys = {
  models: (org: string) => ["orgs", org, "models"] as const,
  modelList: (org: string, params: Record<string, string | undefined>) => ["orgs", org, "models", "list", params] as const,
  model: (org: string, model: string) => ["orgs", org, "models", model] as const,
  usage: (org: string) => ["orgs", org, "usage"] as const,
  audit: (org: string, params: Record<string, string | undefined>) => ["orgs", org, "audit", params] as const,
  tokens: (org: string) => ["orgs", org, "tokens"] as const,
};
