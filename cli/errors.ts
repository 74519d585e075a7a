// Exit codes of `fairmind` (documented in docs/cli.md). Scripts branch on them, so they never change.
export const EXIT = {
  ok: 0,
  /** Bad arguments, missing login, a path that is not there. */
  usage: 1,
  /** The server answered with an error (4xx or 5xx): its code and message are printed. */
  server: 2,
  /** The server could not be reached (refused, DNS, reset, timeout). */
  network: 3,
  /** Bytes did not match their SHA-256 (a download, or an upload the server stored differently). */
  checksum: 4,
  /** `inspect` found a dangerous file. */
  dangerous: 5,
} as const;

/** An error the CLI reports and exits with; `code` is the server's error code when it sent one. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
    readonly code?: string,
    readonly status?: number,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

export const usageError = (message: string) => new CliError(message, EXIT.usage, "usage");
export const checksumError = (message: string) => new CliError(message, EXIT.checksum, "checksum_mismatch");

/** Node's fetch and http report an unreachable server as these; anything else is a bug, not the network. */
export function networkError(e: unknown, url: string): CliError | null {
  const err = e as { code?: string; cause?: { code?: string; message?: string }; message?: string; name?: string };
  const code = err.cause?.code ?? err.code;
  const NET = [
    "ECONNREFUSED",
    "ECONNRESET",
    "ENOTFOUND",
    "EAI_AGAIN",
    "ETIMEDOUT",
    "EPIPE",
    "EHOSTUNREACH",
    "ENETUNREACH",
    "UND_ERR_SOCKET",
  ];
  if ((code && NET.includes(code)) || err.message === "fetch failed" || err.name === "TimeoutError")
    return new CliError(`Cannot reach ${url}: ${err.cause?.message ?? err.message ?? code}`, EXIT.network, "network");
  return null;
}
