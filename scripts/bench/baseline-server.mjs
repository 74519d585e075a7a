// npm run bench's baseline: a bare Node http server that streams uploads to disk with SHA-256 (and
// fsyncs them, as the app does) and streams files from disk. Its own process, started like the app
// (the bench passes the app's NODE_OPTIONS), so both sides of each ratio are a server process beside
// the bench's client: run inside the bench's process it shared the client's event loop and CPU.
//   node scripts/bench/baseline-server.mjs <dir>   → prints {"port": N} once it listens
import crypto from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { pipeline } from "node:stream/promises";

const dir = process.argv[2];
const MiB = 1024 * 1024;

const server = http.createServer(async (req, res) => {
  try {
    if (req.method === "PUT") {
      const h = crypto.createHash("sha256");
      const file = path.join(dir, crypto.randomUUID());
      req.on("data", (c) => h.update(c));
      await pipeline(req, fs.createWriteStream(file));
      const fd = fs.openSync(file, "r");
      fs.fsyncSync(fd);
      fs.closeSync(fd);
      res.end(JSON.stringify({ sha256: h.digest("hex") }));
      fs.rmSync(file);
    } else {
      const file = new URL(req.url, "http://x").searchParams.get("file");
      res.writeHead(200, { "content-length": String(fs.statSync(file).size) });
      await pipeline(fs.createReadStream(file, { highWaterMark: MiB }), res);
    }
  } catch (e) {
    if (!res.headersSent) res.writeHead(500).end(String(e));
    else res.destroy();
  }
});
server.listen(0, "127.0.0.1", () => console.log(JSON.stringify({ port: server.address().port })));
