"use client";

import { RouteError } from "@/components/model/route-error";

export default function UploadError({ error, retry }: { error: unknown; retry: () => void }) {
  return <RouteError error={error} retry={retry} what="the uploader" />;
}
