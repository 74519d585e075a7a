import type { ReactNode } from "react";
import { loadModel } from "@/components/model/load-model";

// Resolves the model before the page's loading state (./loading.tsx) streams, so an unknown or
// foreign model answers a real 404 — rendered by ../not-found.tsx inside the org shell.
export default async function ModelLayout({ children, params }: { children: ReactNode; params: Promise<{ org: string; model: string }> }) {
  const { org, model } = await params;
  await loadModel(org, model);
  return children;
}
