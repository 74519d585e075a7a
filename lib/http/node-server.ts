import type http from "node:http";
import { PEER_HEADER } from "./client-address";

/**
 * IMPORTANT: Next drops Content-Length from route handlers' responses (send-response.js), so every
 * download would go out chunked, without a length for progress bars and length checks. A handler
 * that knows its body's length says so in this header; the hook below turns it into Content-Length
 * just before the headers are written.
 */
export const LENGTH_HEADER = "x-fairmind-content-length";

// What the app adjusts on Node's HTTP server, which `next start` creates without a hook of its own.
// Called once per process from instrumentation.ts, before the first request.
//
// - Every request is stamped with its socket address (PEER_HEADER, overwriting whatever a client
//   sent under that name): lib/http/client-address.ts needs it to decide the client's address.
// - A download's length reaches the client (LENGTH_HEADER, above).
// - Node's requestTimeout (5 minutes by default) would cut a multi-gigabyte PUT upload on a slow
//   link; it is raised to a day. A connection that goes quiet is still closed after IDLE_TIMEOUT_MS
//   (the socket timeout), so a stalled client cannot hold an upload and its reservation for ever.

const IDLE_TIMEOUT_MS = 120_000;
const REQUEST_TIMEOUT_MS = 24 * 3600_000;

export function tuneNodeServer(httpModule: typeof http): void {
  const proto = httpModule.Server.prototype as http.Server & { __fairmindTuned?: boolean };
  if (proto.__fairmindTuned) return;
  const res = httpModule.ServerResponse.prototype;
  const writeHead = res.writeHead as (this: http.ServerResponse, ...args: unknown[]) => http.ServerResponse;
  res.writeHead = function (this: http.ServerResponse, ...args: unknown[]) {
    const length = this.getHeader(LENGTH_HEADER);
    if (length !== undefined) {
      this.removeHeader(LENGTH_HEADER);
      if (this.getHeader("transfer-encoding") === undefined && /^\d+$/.test(String(length)))
        this.setHeader("content-length", String(length));
    }
    return writeHead.apply(this, args);
  } as typeof res.writeHead;
  const emit = proto.emit as (this: http.Server, event: string | symbol, ...args: unknown[]) => boolean;
  const tuned = new WeakSet<object>();
  proto.emit = function (this: http.Server, event: string | symbol, ...args: unknown[]) {
    if (event === "request") {
      if (!tuned.has(this)) {
        tuned.add(this);
        this.requestTimeout = REQUEST_TIMEOUT_MS;
        this.setTimeout(IDLE_TIMEOUT_MS);
      }
      const req = args[0] as http.IncomingMessage;
      req.headers[PEER_HEADER] = req.socket?.remoteAddress ?? "";
    }
    return emit.call(this, event, ...args);
  } as typeof proto.emit;
  proto.__fairmindTuned = true;
}
