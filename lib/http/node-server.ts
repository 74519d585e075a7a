import http from "node:http";
import type { Duplex } from "node:stream";
import { PEER_HEADER } from "./client-address";

/**
 * IMPORTANT: Next drops Content-Length from route handlers' responses (send-response.js), so every
 * download would go out chunked, without a length for progress bars and length checks. A handler
 * that knows its body's length says so in this header; the hook below turns it into Content-Length
 * just before the headers are written.
 */
export const LENGTH_HEADER = "x-fairmind-content-length";

/**
 * Upload bodies are read straight from Node's request stream, not through the web stream Next
 * builds from it (two extra stream layers per 64 KiB chunk: measured as most of an upload's CPU).
 * The hook files each request under an id (overwriting any such header a client sent); a route
 * handler finds it with rawRequestOf(). globalThis: instrumentation and routes are separate bundles.
 */
const RAW_ID_HEADER = "x-fairmind-raw-request";
interface RawExchange {
  req: http.IncomingMessage;
  res: http.ServerResponse;
}
const RAW = ((globalThis as { __fairmindRaw?: Map<string, RawExchange> }).__fairmindRaw ??= new Map());
let rawIds = 0;

/** Node's own request stream behind a route handler's Request (undefined outside our server, e.g. in tests). */
export function rawRequestOf(req: Request): http.IncomingMessage | undefined {
  return rawExchangeOf(req)?.req;
}

function rawExchangeOf(req: Request): RawExchange | undefined {
  const id = req.headers.get(RAW_ID_HEADER);
  return id ? RAW.get(id) : undefined;
}

/**
 * Node's own response behind a route handler's Request. Only for writing a body Next has already
 * been handed headers for (lib/http/download.ts): the status and headers still come from the
 * Response the handler returns.
 */
export function rawResponseOf(req: Request): http.ServerResponse | undefined {
  return rawExchangeOf(req)?.res;
}

// What the app adjusts on Node's HTTP server, which `next start` creates without a hook of its own.
// Called once per process from instrumentation.ts, before the first request.
//
// - Every request is stamped with its socket address (PEER_HEADER, overwriting whatever a client
//   sent under that name): lib/http/client-address.ts needs it to decide the client's address.
// - A download's length reaches the client (LENGTH_HEADER, above).
// - A path whose percent-encoding is not UTF-8 is a JSON 400, and an API method a route does not
//   have is a JSON 405: Next would answer a plain-text 500 and an empty 405.
// - A request the HTTP parser refuses (headers over 16 KiB, malformed) is a JSON 431/400 followed
//   by a graceful close, never a reset (answerClientError).
// - Node's requestTimeout (5 minutes by default) would cut a multi-gigabyte PUT upload on a slow
//   link; it is raised to a day. A connection that goes quiet is still closed after IDLE_TIMEOUT_MS
//   (the socket timeout), so a stalled client cannot hold an upload and its reservation for ever.

const IDLE_TIMEOUT_MS = 120_000;
/** How much of a refused upload's body is read and dropped before the connection is closed instead. */
const DRAIN_LIMIT_BYTES = 8 * 1024 * 1024;

/**
 * Abandons a request body the handler refused without reading (lib/storage/hash-stream.ts
 * discardBody). Destroying the stream would destroy the socket before the answer is written; closing
 * it with unread bytes makes the kernel reset the connection, which can discard the answer on the
 * client's side. So: read and drop what the client sends; a body larger than DRAIN_LIMIT_BYTES is not
 * read to its end — the answer says `Connection: close` and the socket closes once it is sent.
 */
function abandonBody(req: http.IncomingMessage, res: http.ServerResponse): void {
  let drained = 0;
  let closing = false;
  req.on("data", (chunk: Buffer) => {
    drained += chunk.length;
    if (drained <= DRAIN_LIMIT_BYTES || closing) return;
    closing = true;
    req.pause();
    if (res.writableFinished) req.socket?.destroy();
    else {
      if (!res.headersSent) res.setHeader("connection", "close");
      res.once("finish", () => req.socket?.destroy());
    }
  });
  req.resume();
}
const REQUEST_TIMEOUT_MS = 24 * 3600_000;

/** How long a connection whose request the parser refused is read and dropped before it is closed. */
const LINGER_MS = 5_000;
const lingering = new WeakSet<Duplex>();

/**
 * A request Node's HTTP parser refuses (headers over 16 KiB, a malformed line, too slow to send its
 * headers). Node's own answer writes the status and destroys the socket at once; the client's bytes
 * the parser did not read are still in the kernel, and closing a socket with unread bytes makes it
 * reset the connection — the client can see ECONNRESET instead of the 431 (seen in CI). So this
 * answers with our JSON error shape and then closes gracefully: FIN after the answer, the rest of
 * the request read and dropped for up to LINGER_MS (nginx's lingering close), then the socket goes.
 */
function answerClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  // The parser reports again for each chunk read while the connection lingers.
  if (lingering.has(socket)) return;
  const inFlight = (socket as Duplex & { _httpMessage?: http.ServerResponse })._httpMessage;
  if (err.code === "ECONNRESET" || !socket.writable || inFlight?.headersSent) {
    socket.destroy();
    return;
  }
  lingering.add(socket);
  const [status, message] =
    err.code === "HPE_HEADER_OVERFLOW"
      ? [431, "The request line and headers are larger than 16 KiB."]
      : err.code === "ERR_HTTP_REQUEST_TIMEOUT"
        ? [408, "The request's headers took too long to arrive."]
        : err.code === "HPE_CHUNK_EXTENSIONS_OVERFLOW"
          ? [413, "The request's chunk extensions are too large."]
          : [400, "The request is not valid HTTP/1.1."];
  const code = status === 408 ? "request_timeout" : status === 413 ? "payload_too_large" : "bad_request";
  const body = JSON.stringify({ error: { code, message } });
  socket.end(
    `HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\ncontent-type: application/json\r\n` +
      `content-length: ${Buffer.byteLength(body)}\r\ncache-control: no-store\r\nconnection: close\r\n\r\n${body}`,
  );
  const timer = setTimeout(() => socket.destroy(), LINGER_MS);
  timer.unref();
  socket.once("close", () => clearTimeout(timer));
  socket.on("data", () => {});
  socket.resume();
}

/** True when every percent-escape in the URL's path decodes as UTF-8. */
function wellFormedPath(url: string): boolean {
  try {
    decodeURIComponent(url.split("?")[0]!);
    return true;
  } catch {
    return false;
  }
}

function sendJson(res: http.ServerResponse, status: number, code: string, message: string): void {
  const body = JSON.stringify({ error: { code, message } });
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(body), "cache-control": "no-store" });
  res.end(body);
}

const METHOD_NOT_ALLOWED = JSON.stringify({ error: { code: "method_not_allowed", message: "This endpoint does not take that method." } });

/**
 * Next answers a method a route does not export with an empty (or plain-text) 405. On the API, the
 * body becomes our error shape; the Allow header Next sets stays.
 */
function jsonMethodNotAllowed(res: http.ServerResponse): void {
  const writeHead = res.writeHead as (this: http.ServerResponse, ...args: unknown[]) => http.ServerResponse;
  const write = res.write as (this: http.ServerResponse, ...args: unknown[]) => boolean;
  const end = res.end as (this: http.ServerResponse, ...args: unknown[]) => http.ServerResponse;
  let replacing = false;
  const start = (self: http.ServerResponse, status: unknown) => {
    if (replacing || (status ?? self.statusCode) !== 405 || self.headersSent) return;
    replacing = true;
    self.setHeader("content-type", "application/json");
    self.removeHeader("content-length");
  };
  res.writeHead = function (this: http.ServerResponse, ...args: unknown[]) {
    start(this, args[0]);
    return writeHead.apply(this, args);
  } as typeof res.writeHead;
  res.write = function (this: http.ServerResponse, ...args: unknown[]) {
    if (!replacing) return write.apply(this, args);
    const cb = args.find((a) => typeof a === "function") as (() => void) | undefined;
    cb?.();
    return true;
  } as typeof res.write;
  res.end = function (this: http.ServerResponse, ...args: unknown[]) {
    start(this, undefined);
    if (!replacing) return end.apply(this, args);
    const cb = args.find((a) => typeof a === "function");
    return end.call(this, this.req?.method === "HEAD" ? undefined : METHOD_NOT_ALLOWED, cb);
  } as typeof res.end;
}

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
    if (event === "clientError") {
      answerClientError(args[0] as NodeJS.ErrnoException, args[1] as Duplex);
      return true;
    }
    if (event === "request") {
      if (!tuned.has(this)) {
        tuned.add(this);
        this.requestTimeout = REQUEST_TIMEOUT_MS;
        this.setTimeout(IDLE_TIMEOUT_MS);
      }
      const req = args[0] as http.IncomingMessage;
      const res = args[1] as http.ServerResponse;
      req.headers[PEER_HEADER] = req.socket?.remoteAddress ?? "";
      const id = `${process.pid}-${++rawIds}`;
      req.headers[RAW_ID_HEADER] = id;
      RAW.set(id, { req, res });
      (req as unknown as Record<symbol, unknown>)[Symbol.for("fairmind.abandonBody")] = () => abandonBody(req, res);
      res.once("close", () => RAW.delete(id));
      if (!wellFormedPath(req.url ?? "/")) {
        // Next would answer this with a plain-text 500 ("URI malformed") before any route runs.
        sendJson(res, 400, "bad_request", "The URL's percent-encoding is not valid UTF-8.");
        return true;
      }
      if ((req.url ?? "").startsWith("/api/")) jsonMethodNotAllowed(res);
    }
    return emit.call(this, event, ...args);
  } as typeof proto.emit;
  proto.__fairmindTuned = true;
}
