"use client";

import { RouteError } from "@/components/model/route-error";

export default function TokensError({ error, retry }: { error: unknown; retry: () => void }) {
  return <RouteError error={error} retry={retry} what="API tokens" />;
}
