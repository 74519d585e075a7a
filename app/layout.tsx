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
        {/* The first thing Tab reaches: past the header and navigation, straight to the page. */}
        <a
          href="#main"
          className="sr-only z-50 rounded-md bg-white px-3 py-2 text-sm font-medium text-brand-700 shadow focus:not-sr-only focus:fixed focus:left-3 focus:top-3"
          data-testid="skip-link"
        >
          Skip to content
        </a>
        <Providers>{children}</Providers>
      </body>
    </html>
  );
}
