import type { NextConfig } from "next";
import { API_CSP, STATIC_SECURITY_HEADERS } from "./lib/http/security-headers";

const nextConfig: NextConfig = {
  // PGlite ships WASM + data files and pg has optional native bits: load them from node_modules at
  // run time instead of bundling them into server chunks.
  serverExternalPackages: ["@electric-sql/pglite", "pg", "@tus/server", "@tus/file-store"],
  poweredByHeader: false,
  typescript: { ignoreBuildErrors: true },
  experimental: {
    // Server actions never carry model bytes (those go through streamed route handlers and tus),
    // so keep the default small body limit for them.
    serverActions: { bodySizeLimit: "1mb" },
  },
  async headers() {
    return [
      { source: "/:path*", headers: STATIC_SECURITY_HEADERS },
      { source: "/api/:path*", headers: [{ key: "Content-Security-Policy", value: API_CSP }] },
    ];
  },
};

export default nextConfig;
