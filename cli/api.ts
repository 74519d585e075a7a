import { CliError, EXIT, networkError } from "./errors";

// The REST API v1 over fetch (JSON calls). Streamed transfers use node:http in transfer.ts.

export interface ApiErrorBody {
  error?: { code?: string; message?: string; details?: unknown };
}

/** Turns an error answer into a CliError carrying the server's code and message. */
export async function errorFromResponse(res: Response): Promise<CliError> {
  let body: ApiErrorBody = {};
  try {
    body = (await res.json()) as ApiErrorBody;
  } catch {
    /* not JSON: a proxy's page */
  }
  const code = body.error?.code ?? `http_${res.status}`;
  const message = body.error?.message ?? `${res.status} ${res.statusText}`;
  return new CliError(message, EXIT.server, code, res.status, body.error?.details);
}

export class Api {
  constructor(
    readonly url: string,
    readonly token: string | null,
  ) {}

  headers(extra: Record<string, string> = {}): Record<string, string> {
    return {
      "user-agent": "fairmind-cli",
      ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
      ...extra,
    };
  }

  /** A JSON call; an error answer throws a CliError (exit 2), an unreachable server exit 3. */
  async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await this.raw(method, path, {
      headers: this.headers(body === undefined ? {} : { "content-type": "application/json" }),
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!res.ok) throw await errorFromResponse(res);
    if (res.status === 204) return undefined as T;
    return (await res.json()) as T;
  }

  async raw(method: string, path: string, init: RequestInit = {}): Promise<Response> {
    try {
      return await fetch(this.url + path, { method, ...init, headers: init.headers ?? this.headers() });
    } catch (e) {
      throw networkError(e, this.url) ?? e;
    }
  }
}

export const enc = encodeURIComponent;
