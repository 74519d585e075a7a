import type { Metadata } from "next";
import type { ReactNode } from "react";
import { Providers } from "@/components/providers";
import "./globals.css";

// IMPORTANT: every page is rendered per request, so it carries that response's CSP nonce (proxy.ts);
// a page prerendered at build time would have scripts without it, and the browser would block them.
export const dynamic = "force-dynamic";

export const metadata: Metadata = {
  title: { default: "FairMind Model Storage", template: "%s · FairMind Model Storage" },
  description: "Your organization's AI models: versioned, scanned, audited.",
};

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body className="min-h-screen">
        <Providers>{children}</Providers>
      </body>
    </html>
  );
}
