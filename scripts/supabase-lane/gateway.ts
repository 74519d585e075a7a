// A stand-in for Supabase's API gateway in front of a bare Storage server: supabase-js and the app
// call <SUPABASE_URL>/storage/v1/…, the server serves at /. Strips /storage/v1, passes every header,
// sets x-forwarded-prefix (so tus Location headers point back through here), streams both ways.
//
//   npx tsx scripts/supabase-lane/gateway.ts        # GATEWAY_PORT=54321, STORAGE_UPSTREAM=http://127.0.0.1:5000
import http from "node:http";
import path from "node:path";

const PREFIX = "/storage/v1";

export interface GatewayOptions {
  port?: number;
  host?: string;
  upstream?: string;
}

/** Starts the gateway; resolves once it listens. */
export function startGateway(opts: GatewayOptions = {}): Promise<http.Server> {
  const upstream = new URL(opts.upstream ?? "http://127.0.0.1:5000");
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

  const server = http.createServer((req, res) => {
    const url = req.url ?? "/";
    if (url !== PREFIX && !url.startsWith(`${PREFIX}/`) && !url.startsWith(`${PREFIX}?`)) {
      res
        .writeHead(404, { "content-type": "application/json" })
        .end(JSON.stringify({ message: "no route matched (this gateway serves /storage/v1 only)" }));
      req.resume();
      return;
    }
    const headers: http.OutgoingHttpHeaders = { ...req.headers };
    headers["x-forwarded-prefix"] = PREFIX;
    headers["x-forwarded-host"] ??= req.headers.host;
    headers["x-forwarded-proto"] ??= "http";
    headers["x-forwarded-for"] = [req.headers["x-forwarded-for"], req.socket.remoteAddress].filter(Boolean).join(", ");
    headers.host = upstream.host;

    const up = http.request({
      protocol: upstream.protocol,
      hostname: upstream.hostname,
      port: upstream.port,
      method: req.method,
      path: url.slice(PREFIX.length) || "/",
      headers,
      agent,
    });
    let requestEnded = false;
    req.on("end", () => (requestEnded = true));

    up.on("response", (upRes) => {
      res.writeHead(upRes.statusCode ?? 502, upRes.statusMessage, upRes.rawHeaders);
      upRes.pipe(res);
      // IMPORTANT: Storage may answer before reading the body and close its socket; do the same to
      // the client once the answer is through, so callers see what they would see in production.
      upRes.on("end", () => {
        if (!requestEnded) {
          res.once("finish", () => req.socket.destroySoon());
          req.unpipe(up);
          req.resume();
        }
      });
    });
    up.on("error", (e) => {
      if (!res.headersSent) {
        res
          .writeHead(502, { "content-type": "application/json" })
          .end(JSON.stringify({ message: `gateway: upstream failed: ${e.message}` }));
      } else res.destroy(e);
    });
    req.on("aborted", () => up.destroy());
    res.on("close", () => {
      if (!res.writableFinished) up.destroy();
    });
    req.pipe(up);
  });
  server.keepAliveTimeout = 65_000;
  server.requestTimeout = 0; // multi-gigabyte bodies
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 54321, opts.host ?? "127.0.0.1", () => resolve(server));
  });
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename)) {
  const port = Number(process.env.GATEWAY_PORT ?? 54321);
  const upstream = process.env.STORAGE_UPSTREAM ?? "http://127.0.0.1:5000";
  startGateway({ port, upstream }).then(
    () => console.log(`gateway: http://127.0.0.1:${port}${PREFIX} -> ${upstream}`),
    (e: Error) => {
      console.error(`gateway: ${e.message}`);
      process.exit(1);
    },
  );
}
