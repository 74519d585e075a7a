// Runs once when the server starts, before it serves anything:
// - tunes Node's HTTP server: the client's socket address on every request, upload-friendly
//   timeouts (lib/http/node-server.ts); sets V8's heap growth and warns when the process lacks its
//   start options (lib/http/server-process.ts);
// - starts the webhook dispatcher (WEBHOOKS_DISPATCHER=off to run none in this process);
// - opens the database, so the first start of the embedded default creates its schema and demo
//   before anyone signs in. A database that cannot be opened is reported at once; an embedded one
//   held by another process stops this server (two processes on one PGlite directory corrupt it,
//   and a server that cannot open its database serves nothing useful).
export async function register() {
  if (process.env.NEXT_RUNTIME !== "nodejs" || process.env.NEXT_PHASE === "phase-production-build") return;
  const { tuneNodeServer } = await import("@/lib/http/node-server");
  tuneNodeServer(await import("node:http"));
  const { APP_NODE_OPTIONS, startedWithAppNodeOptions, tuneHeapGrowth } = await import("@/lib/http/server-process");
  tuneHeapGrowth();
  if (process.env.NODE_ENV === "production" && !startedWithAppNodeOptions())
    console.warn(
      `[fairmind] started without ${APP_NODE_OPTIONS} in NODE_OPTIONS (npm start sets it): big downloads and uploads may cost ` +
        "more CPU. See docs/operations.md, 'Running the app server'.",
    );
  const { getServices } = await import("@/lib/services/services");
  const { ensureDemo } = await import("@/lib/demo/seed");
  try {
    await ensureDemo(await getServices());
  } catch (e) {
    const message = (e as Error).message;
    console.error("[fairmind] could not open the database:", message);
    if (/already open in another process/.test(message)) {
      console.error("[fairmind] stopping: another process holds this embedded database. Stop it, or set DATA_DIR to another directory.");
      process.exit(1);
    }
    // Otherwise (a database server that is down) keep running: /api/health and the UI banner say so.
  }
  // Webhook deliveries queued in the database are sent from here (docs/webhooks.md); a database that
  // is down now is retried by the dispatcher itself.
  const { getConfig } = await import("@/lib/config");
  const { startWebhookDispatcher } = await import("@/lib/webhooks/dispatcher");
  startWebhookDispatcher(async () => (await getServices()).db, getConfig().webhooks);
}
