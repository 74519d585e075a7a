// The one place for security headers. next.config.ts sends STATIC_SECURITY_HEADERS with every answer
// (pages, API, files) and API_CSP with the API's; proxy.ts gives each page a Content-Security-Policy
// with a fresh nonce (pageCsp), which Next puts on its own scripts.

export const STATIC_SECURITY_HEADERS: { key: string; value: string }[] = [
  { key: "X-Content-Type-Options", value: "nosniff" },
  // No page may frame ours (clickjacking); frame-ancestors in the CSPs says the same to new browsers.
  { key: "X-Frame-Options", value: "DENY" },
  // Signed links carry their token in the URL: never hand a URL of ours to another site. (Not
  // no-referrer: with it Chrome sends `Origin: null` on our own form posts, which server actions refuse.)
  { key: "Referrer-Policy", value: "same-origin" },
  { key: "Permissions-Policy", value: "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()" },
  { key: "Cross-Origin-Opener-Policy", value: "same-origin" },
  { key: "Cross-Origin-Resource-Policy", value: "same-origin" },
];

/** API answers are data, never documents: nothing in them may run or be framed. */
export const API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/**
 * A page's policy: scripts only with this response's nonce (and what they load: 'strict-dynamic');
 * styles from our stylesheet and inline style attributes (charts and progress bars set widths).
 * 'wasm-unsafe-eval' lets the uploader compile its SHA-256 WebAssembly (hash-wasm: the browser
 * hashes each file before a commit announces it); it allows WebAssembly only, not eval().
 */
export function pageCsp(nonce: string, opts: { dev?: boolean; connect?: string[] } = {}): string {
  return [
    "default-src 'self'",
    `script-src 'self' 'nonce-${nonce}' 'strict-dynamic' 'wasm-unsafe-eval'${opts.dev ? " 'unsafe-eval'" : ""}`,
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self'",
    `connect-src 'self'${opts.connect?.length ? ` ${opts.connect.join(" ")}` : ""}`,
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join("; ");
}
