// Vitest runs outside React Server Components; "server-only" is a guard for the Next bundle only.
export {};
