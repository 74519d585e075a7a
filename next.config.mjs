/** @type {import('next').NextConfig} */
const nextConfig = {
  // PGlite ships WASM + data files and pg has optional native bits: load them from node_modules at
  // run time instead of bundling them into server chunks.
  serverExternalPackages: ["@electric-sql/pglite", "pg", "@tus/server", "@tus/file-store"],
  poweredByHeader: false,
  experimental: {
    // Server actions never carry model bytes (those go through streamed route handlers and tus),
    // so keep the default small body limit for them.
    serverActions: { bodySizeLimit: "1mb" },
  },
};

export default nextConfig;
