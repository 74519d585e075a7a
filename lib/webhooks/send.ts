import http from "node:http";
import https from "node:https";
import type { LookupFunction } from "node:net";
import { isAppError, type AppError } from "@/lib/errors";
import { resolveWebhookTarget } from "./ssrf";

// One HTTP attempt of a webhook delivery: resolve and check the target (lib/webhooks/ssrf.ts), then
// POST the body to an address that passed — redirects are not followed (a 3xx is a failed attempt),
// and the attempt ends after `timeoutMs` whatever the receiver does.

export interface SendResult {
  ok: boolean;
  statusCode: number | null;
  error: string | null;
  durationMs: number;
}

const USER_AGENT = "FairMind-Webhooks/1";

/** POSTs `body` with `headers` to `url`; never throws (a refused target or a network error is a result). */
export async function sendWebhook(
  url: string,
  body: string,
  headers: Record<string, string>,
  opts: { allowPrivate: boolean; timeoutMs: number },
): Promise<SendResult> {
  const started = performance.now();
  const done = (r: Omit<SendResult, "durationMs">): SendResult => ({ ...r, durationMs: Math.round(performance.now() - started) });
  let target;
  try {
    target = await resolveWebhookTarget(url, { allowPrivate: opts.allowPrivate });
  } catch (e) {
    return done({ ok: false, statusCode: null, error: isAppError(e) ? refusal(e) : (e as Error).message });
  }
  const pinned = target.addresses;
  // IMPORTANT: the socket connects to an address checked above, not to a fresh answer from DNS.
  const lookup: LookupFunction = (_host, options, callback) => {
    if ((options as { all?: boolean }).all) (callback as (e: null, a: typeof pinned) => void)(null, pinned);
    else callback(null, pinned[0]!.address, pinned[0]!.family);
  };
  const lib = target.url.protocol === "https:" ? https : http;
  return new Promise<SendResult>((resolve) => {
    let settled = false;
    const finish = (r: Omit<SendResult, "durationMs">) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(done(r));
    };
    const req = lib.request(
      target.url,
      {
        method: "POST",
        lookup,
        agent: false,
        headers: {
          ...headers,
          "content-type": "application/json",
          "content-length": String(Buffer.byteLength(body)),
          "user-agent": USER_AGENT,
        },
      },
      (res) => {
        const status = res.statusCode ?? 0;
        // The answer's body is not kept; read it to the end so the attempt's duration includes it.
        res.resume();
        res.on("end", () =>
          finish({ ok: status >= 200 && status < 300, statusCode: status, error: status >= 200 && status < 300 ? null : `HTTP ${status}` }),
        );
        res.on("error", (e) => finish({ ok: false, statusCode: status, error: e.message }));
      },
    );
    const timer = setTimeout(() => {
      req.destroy();
      finish({ ok: false, statusCode: null, error: `timed out after ${opts.timeoutMs} ms` });
    }, opts.timeoutMs);
    req.on("error", (e: NodeJS.ErrnoException) =>
      finish({ ok: false, statusCode: null, error: e.code ? `${e.code}: ${e.message}` : e.message }),
    );
    req.end(body);
  });
}

function refusal(e: AppError): string {
  const url = (e.details?.fields as Record<string, string> | undefined)?.url;
  return `refused: ${url ?? e.message}`;
}
