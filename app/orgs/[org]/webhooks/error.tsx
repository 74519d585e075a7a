"use client";

import { RouteError } from "@/components/model/route-error";

export default function WebhooksError({ error, retry }: { error: unknown; retry: () => void }) {
  return <RouteError error={error} retry={retry} what="Webhooks" />;
}
