import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { withService, withUser } from "@/lib/db/client";
import { DB_KINDS, openTestDatabase, type TestDatabase } from "@/test/db";
import { errorCode as code, makeWorld, type World } from "@/test/world";
import { WebhookDispatcher } from "./dispatcher";
import { verifySignature } from "./signing";

/** A real HTTP receiver: answers with the next status of `statuses` (the last one repeats). */
async function receiver(statuses: number[] = [200]) {
  const got: { headers: http.IncomingHttpHeaders; body: string }[] = [];
  const server = http.createServer((req, res) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (c: string) => (body += c));
    req.on("end", () => {
      got.push({ headers: req.headers, body });
      res.statusCode = statuses[Math.min(got.length - 1, statuses.length - 1)]!;
      res.end("ok");
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  return { url, got, close: () => new Promise<void>((r) => server.close(() => r())) };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.each(DB_KINDS)("webhooks on %s", (kind) => {
  let t: TestDatabase;
  const cleanups: (() => unknown)[] = [];
  const world = async (env: Record<string, string> = {}) => {
    const w = await makeWorld(t.db, {
      env: { WEBHOOKS_ALLOW_PRIVATE: "true", WEBHOOKS_RETRY_BASE_MS: "300", WEBHOOKS_MAX_ATTEMPTS: "3", ...env },
    });
    cleanups.push(() => w.cleanup());
    return w;
  };
  const dispatcher = (w: World, extra: Partial<World["config"]["webhooks"]> = {}) =>
    new WebhookDispatcher(async () => t.db, { ...w.config.webhooks, timeoutMs: 3000, ...extra });
  const rx = async (statuses?: number[]) => {
    const r = await receiver(statuses);
    cleanups.push(r.close);
    return r;
  };
  beforeAll(async () => {
    t = await openTestDatabase(kind);
  });
  afterEach(async () => {
    for (const c of cleanups.splice(0)) await c();
    // The queue is shared by the file's tests: settle what one left, so the next counts only its own.
    await withService(t.db, (tx) =>
      tx.query("update public.webhook_deliveries set status = 'failed' where status in ('pending', 'delivering')"),
    );
  });
  afterAll(async () => {
    await t?.cleanup();
  });

  it("lets admins (and nobody below) register endpoints; the secret is shown once and never readable in SQL", async () => {
    const w = await world();
    const r = await rx();
    const created = await w.services.webhooks.createEndpoint(w.users.admin, w.orgs.a.slug, { url: r.url, events: ["alias.moved"] });
    expect(created.secret).toMatch(/^whsec_/);
    expect(created.url).toBe(r.url);
    const listed = await w.services.webhooks.listEndpoints(w.users.owner, w.orgs.a.slug);
    expect(listed.map((e) => e.id)).toEqual([created.id]);
    expect(listed[0]).not.toHaveProperty("secret");
    expect(await code(w.services.webhooks.listEndpoints(w.users.member, w.orgs.a.slug))).toBe("forbidden");
    expect(await code(w.services.webhooks.createEndpoint(w.users.member, w.orgs.a.slug, { url: r.url, events: ["alias.moved"] }))).toBe(
      "forbidden",
    );
    expect(await code(w.services.webhooks.listEndpoints(w.users.outsider, w.orgs.a.slug))).toBe("not_found");
    // Even an admin's own SQL (the Data API in supabase mode) cannot read the secret column.
    await expect(
      withUser(t.db, w.users.admin.claims, (tx) => tx.query("select secret from public.webhook_endpoints where id = $1", [created.id])),
    ).rejects.toThrow(/permission denied/);
    // …nor raise events or forge deliveries outside the app server's transactions.
    await expect(
      t.db.transaction((tx) => tx.query("select public.enqueue_webhook_event($1, 'alias.moved', '{}')", [w.orgs.a.id]), {
        setup: `select set_config('role', 'authenticated', true), set_config('request.jwt.claims', '${JSON.stringify(w.users.admin.claims)}', true)`,
      }),
    ).rejects.toThrow(/raised by the server/);
    await expect(
      withUser(t.db, w.users.admin.claims, (tx) =>
        tx.query(
          "insert into public.webhook_deliveries (org_id, endpoint_id, event_id, event_type, payload) values ($1, $2, gen_random_uuid(), 'x', '{}')",
          [w.orgs.a.id, created.id],
        ),
      ),
    ).rejects.toThrow(/permission denied/);
    // RLS itself, below the service: members and other orgs see no endpoint, delivery or attempt, and cannot register one.
    await w.upload("member", "m", "1.0");
    await w.services.aliases.setAlias(w.users.member, w.orgs.a.slug, "m", "production", "1.0");
    const count = (who: keyof World["users"], table: string) =>
      withUser(t.db, w.users[who].claims, async (tx) =>
        Number((await tx.query<{ n: string }>(`select count(*) as n from public.${table} where org_id = $1`, [w.orgs.a.id])).rows[0]!.n),
      );
    expect(await count("admin", "webhook_deliveries")).toBe(1);
    expect(await count("owner", "webhook_endpoints")).toBe(1);
    for (const who of ["member", "viewer", "outsider"] as const) {
      expect(await count(who, "webhook_endpoints"), who).toBe(0);
      expect(await count(who, "webhook_deliveries"), who).toBe(0);
      expect(await count(who, "webhook_attempts"), who).toBe(0);
    }
    const insertAs = (who: keyof World["users"]) =>
      withUser(t.db, w.users[who].claims, (tx) =>
        tx.query(
          "insert into public.webhook_endpoints (org_id, url, events, secret) values ($1, 'https://example.com/', '{alias.moved}', 'a-secret-of-16-chars')",
          [w.orgs.a.id],
        ),
      );
    await expect(insertAs("member")).rejects.toThrow(/row-level security/);
    await expect(insertAs("outsider")).rejects.toThrow(/row-level security/);
    await expect(
      withUser(t.db, w.users.member.claims, (tx) => tx.query("select public.redeliver_webhook(id) from public.webhook_deliveries")),
    ).resolves.toMatchObject({ rowCount: 0 }); // sees none to redeliver
    const [delivery] = await w.services.webhooks.listDeliveries(w.users.admin, w.orgs.a.slug);
    await expect(
      withUser(t.db, w.users.member.claims, (tx) => tx.query("select public.redeliver_webhook($1)", [delivery!.id])),
    ).rejects.toThrow(/no such webhook delivery/);
    await expect(
      withUser(t.db, w.users.outsider.claims, (tx) => tx.query("select public.ping_webhook_endpoint($1)", [created.id])),
    ).rejects.toThrow(/no such webhook endpoint/);
    await w.services.webhooks.deleteEndpoint(w.users.admin, w.orgs.a.slug, created.id);
    expect(await w.services.webhooks.listEndpoints(w.users.admin, w.orgs.a.slug)).toEqual([]);
  });

  it("must refuse loopback and private targets unless WEBHOOKS_ALLOW_PRIVATE, at registration and at delivery", async () => {
    const strict = await world({ WEBHOOKS_ALLOW_PRIVATE: "false" });
    for (const url of ["http://127.0.0.1:9/hook", "http://localhost/hook", "http://169.254.169.254/", "ftp://example.com/"]) {
      expect(
        await code(strict.services.webhooks.createEndpoint(strict.users.admin, strict.orgs.a.slug, { url, events: ["alias.moved"] })),
        url,
      ).toBe("invalid_input");
    }
    // Registered while allowed; a strict dispatcher still refuses to connect (and retries later).
    const w = await world();
    const r = await rx();
    await w.services.webhooks.createEndpoint(w.users.admin, w.orgs.a.slug, { url: r.url, events: ["alias.moved"] });
    await w.upload("member", "m", "1.0");
    await w.services.aliases.setAlias(w.users.member, w.orgs.a.slug, "m", "production", "1.0");
    await dispatcher(w, { allowPrivate: false }).runOnce();
    const [d] = await w.services.webhooks.listDeliveries(w.users.admin, w.orgs.a.slug);
    expect(r.got).toHaveLength(0);
    expect(d).toMatchObject({ status: "pending", attempts: 1, last_status_code: null });
    expect(d!.last_error).toMatch(/^refused: .*127\.0\.0\.1/);
  });

  it("raises signed events for uploads, quarantines, alias moves and deletes, in the changing transaction", async () => {
    const w = await world();
    const r = await rx();
    const ep = await w.services.webhooks.createEndpoint(w.users.admin, w.orgs.a.slug, {
      url: r.url,
      events: ["version.created", "version.quarantined", "version.deleted", "alias.moved"],
    });
    await w.upload("member", "credit", "1.0");
    await w.upload("member", "evil", "1.0", "malicious_os_system.pkl");
    await w.services.aliases.setAlias(w.users.member, w.orgs.a.slug, "credit", "production", "1.0");
    await w.services.aliases.setAlias(w.users.member, w.orgs.a.slug, "credit", "production", "1.0"); // no move: no event
    await w.services.catalog.deleteVersion(w.users.admin, w.orgs.a.slug, "evil", "1.0");
    // A failed change raises nothing (viewer cannot move aliases).
    await code(w.services.aliases.setAlias(w.users.viewer, w.orgs.a.slug, "credit", "staging", "1.0"));
    // Org B's events never reach org A's endpoint.
    await w.upload("both", "elsewhere", "1.0").catch(() => {});
    const d = dispatcher(w);
    while ((await d.runOnce()) > 0);
    const events = r.got.map(
      (g) => JSON.parse(g.body) as { id: string; type: string; org: { slug: string }; data: Record<string, unknown> },
    );
    expect(events.map((e) => e.type).sort()).toEqual(
      ["alias.moved", "version.created", "version.created", "version.deleted", "version.quarantined"].sort(),
    );
    for (const g of r.got) {
      expect(verifySignature(ep.secret!, g.body, g.headers["fairmind-signature"] as string)).toBe(true);
      expect(g.headers["content-type"]).toBe("application/json");
      expect(g.headers["user-agent"]).toBe("FairMind-Webhooks/1");
    }
    const moved = events.find((e) => e.type === "alias.moved")!;
    expect(moved.org.slug).toBe(w.orgs.a.slug);
    expect(moved.data).toMatchObject({ alias: "production", from: null, to: "1.0", model: { slug: "credit" } });
    expect(r.got.find((g) => JSON.parse(g.body).type === "alias.moved")!.headers["fairmind-event"]).toBe("alias.moved");
    const deleted = events.find((e) => e.type === "version.deleted")!;
    expect(deleted.data).toMatchObject({
      reason: "version_deleted",
      model: { slug: "evil" },
      version: { version: "1.0", status: "deleted" },
    });
    const quarantined = events.find((e) => e.type === "version.quarantined")!;
    expect(quarantined.data).toMatchObject({ version: { status: "quarantined", scan_verdict: "dangerous" } });
    const deliveries = await w.services.webhooks.listDeliveries(w.users.admin, w.orgs.a.slug);
    expect(deliveries.every((x) => x.status === "succeeded" && x.attempt_log.length === 1 && x.attempt_log[0]!.status_code === 200)).toBe(
      true,
    );
  });

  it("retries a failing receiver with backoff, then gives up after the last attempt; redelivery and ping start afresh", async () => {
    const w = await world();
    const flaky = await rx([500, 200]);
    const dead = await rx([503]);
    await w.services.webhooks.createEndpoint(w.users.admin, w.orgs.a.slug, { url: flaky.url, events: ["alias.moved"] });
    const deadEp = await w.services.webhooks.createEndpoint(w.users.admin, w.orgs.a.slug, { url: dead.url, events: ["alias.moved"] });
    await w.upload("member", "m", "1.0");
    await w.services.aliases.setAlias(w.users.member, w.orgs.a.slug, "m", "production", "1.0");
    const d = dispatcher(w);
    expect(await d.runOnce()).toBe(2);
    let all = await w.services.webhooks.listDeliveries(w.users.admin, w.orgs.a.slug);
    for (const x of all) {
      expect(x).toMatchObject({ status: "pending", attempts: 1 });
      const wait = new Date(x.next_attempt_at!).getTime() - new Date(x.attempt_log[0]!.started_at).getTime();
      expect(wait).toBeGreaterThanOrEqual(250); // WEBHOOKS_RETRY_BASE_MS=300 × 1
      expect(wait).toBeLessThan(2000);
    }
    expect(await d.runOnce()).toBe(0); // not due yet
    await sleep(400);
    expect(await d.runOnce()).toBe(2);
    all = await w.services.webhooks.listDeliveries(w.users.admin, w.orgs.a.slug);
    const flakyD = all.find((x) => x.endpoint_id !== deadEp.id)!;
    const deadD = all.find((x) => x.endpoint_id === deadEp.id)!;
    expect(flakyD).toMatchObject({ status: "succeeded", attempts: 2, last_status_code: 200 });
    expect(flakyD.attempt_log.map((a) => [a.attempt, a.status_code, a.error])).toEqual([
      [1, 500, "HTTP 500"],
      [2, 200, null],
    ]);
    expect(flakyD.attempt_log.every((a) => a.duration_ms >= 0)).toBe(true);
    expect(deadD).toMatchObject({ status: "pending", attempts: 2 });
    // Second retry waits 5 × the base.
    expect(new Date(deadD.next_attempt_at!).getTime() - new Date(deadD.attempt_log[1]!.started_at).getTime()).toBeGreaterThanOrEqual(1400);
    await sleep(1600);
    expect(await d.runOnce()).toBe(1);
    const failed = await w.services.webhooks.getDelivery(w.users.admin, w.orgs.a.slug, deadD.id);
    expect(failed).toMatchObject({ status: "failed", attempts: 3, last_status_code: 503, next_attempt_at: null });
    expect(dead.got).toHaveLength(3);
    // The same event id in every attempt and in the redelivery.
    const again = await w.services.webhooks.redeliver(w.users.admin, w.orgs.a.slug, deadD.id);
    expect(again).toMatchObject({ status: "pending", attempts: 0, event_id: deadD.event_id, redelivery_of: deadD.id });
    expect(await code(w.services.webhooks.redeliver(w.users.member, w.orgs.a.slug, deadD.id))).toBe("forbidden");
    const ping = await w.services.webhooks.ping(w.users.admin, w.orgs.a.slug, deadEp.id);
    expect(ping.event_type).toBe("ping");
    await d.runOnce();
    expect(new Set(dead.got.map((g) => JSON.parse(g.body).id)).size).toBe(2); // the event, and the ping
    expect(dead.got.filter((g) => JSON.parse(g.body).id === deadD.event_id)).toHaveLength(4);
  });

  it("claims each due delivery once across dispatchers, and takes over one whose lease ran out", async () => {
    const w = await world();
    const r = await rx();
    const ep = await w.services.webhooks.createEndpoint(w.users.admin, w.orgs.a.slug, { url: r.url, events: ["alias.moved"] });
    await w.upload("member", "m", "1.0");
    await w.upload("member", "m", "1.1");
    for (let i = 0; i < 6; i++) await w.services.aliases.setAlias(w.users.member, w.orgs.a.slug, "m", "production", i % 2 ? "1.1" : "1.0");
    const { claimDueDeliveries } = await import("@/lib/db/queries/webhooks");
    // Other tests' retries may be due too: only this endpoint's six are counted.
    const mine = (rows: { id: string; endpoint_id: string }[]) => rows.filter((x) => x.endpoint_id === ep.id).map((x) => x.id);
    const [a, b] = await Promise.all([
      withService(t.db, (tx) => claimDueDeliveries(tx, 5, 60_000)),
      withService(t.db, (tx) => claimDueDeliveries(tx, 5, 60_000)),
    ]);
    const all = [...a, ...b].map((x) => x.id);
    expect(new Set(all).size).toBe(all.length); // nothing claimed twice
    let ids = mine([...a, ...b]);
    if (ids.length < 6) ids = [...ids, ...mine(await withService(t.db, (tx) => claimDueDeliveries(tx, 50, 60_000)))];
    expect(new Set(ids).size).toBe(6);
    // A dispatcher that died holding a claim: after the lease, another takes it (as a new attempt).
    await withService(t.db, (tx) =>
      tx.query("update public.webhook_deliveries set locked_until = now() - interval '1 second' where id = $1", [ids[0]]),
    );
    const taken = (await withService(t.db, (tx) => claimDueDeliveries(tx, 50, 60_000))).filter((x) => x.endpoint_id === ep.id);
    expect(taken.map((x) => [x.id, x.attempts])).toEqual([[ids[0], 2]]);
  });
});
