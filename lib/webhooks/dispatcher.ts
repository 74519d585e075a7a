import "server-only";
import type { WebhookSettings } from "@/lib/config";
import { withService } from "@/lib/db/client";
import { claimDueDeliveries, recordAttempt, type ClaimedDelivery } from "@/lib/db/queries/webhooks";
import type { Database } from "@/lib/db/types";
import { sendWebhook, type SendResult } from "./send";
import { SIGNATURE_HEADER, signatureHeader } from "./signing";

// The background job that sends webhook deliveries. Events never wait for it: they are rows written
// in the transaction of the change (the outbox). Every app server may run one; they share the queue
// through `for update skip locked` claims with a lease, so a delivery goes out once at a time and
// one whose server died is taken over when its lease ends. No transaction is held while sending
// (PGlite serves one at a time, and a slow receiver must not hold a row lock for 10 s).

/** Delays before retries 1…5, in multiples of WEBHOOKS_RETRY_BASE_MS: 1 m, 5 m, 30 m, 2 h, 6 h by default. */
export const RETRY_MULTIPLIERS = [1, 5, 30, 120, 360] as const;
const BATCH = 10;

/** When the next attempt is due after `attempts` failed ones, or null when none is left. */
export function nextAttemptAt(attempts: number, s: Pick<WebhookSettings, "retryBaseMs" | "maxAttempts">, now = Date.now()): Date | null {
  if (attempts >= s.maxAttempts) return null;
  const multiplier = RETRY_MULTIPLIERS[Math.min(attempts, RETRY_MULTIPLIERS.length) - 1] ?? 1;
  return new Date(now + s.retryBaseMs * multiplier);
}

export class WebhookDispatcher {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;
  private lastError = "";
  private stopped = false;

  constructor(
    private readonly database: () => Promise<Database>,
    private readonly settings: WebhookSettings,
  ) {}

  /** Claims the due deliveries (one batch) and sends them; how many it sent. */
  async runOnce(): Promise<number> {
    const db = await this.database();
    const leaseMs = this.settings.timeoutMs + 30_000;
    const claimed = await withService(db, (tx) => claimDueDeliveries(tx, BATCH, leaseMs));
    await Promise.all(claimed.map((d) => this.deliver(db, d)));
    return claimed.length;
  }

  private async deliver(db: Database, d: ClaimedDelivery): Promise<void> {
    const startedAt = new Date();
    const body = JSON.stringify(d.payload);
    const result: SendResult = d.active
      ? await sendWebhook(
          d.url,
          body,
          {
            [SIGNATURE_HEADER]: signatureHeader(d.secret, body),
            "FairMind-Event": d.event_type,
            "FairMind-Delivery": d.id,
          },
          { allowPrivate: this.settings.allowPrivate, timeoutMs: this.settings.timeoutMs },
        )
      : { ok: false, statusCode: null, error: "the endpoint is disabled", durationMs: 0 };
    const retryAt = result.ok || !d.active ? null : nextAttemptAt(d.attempts, this.settings);
    await withService(db, (tx) =>
      recordAttempt(tx, {
        deliveryId: d.id,
        attempt: d.attempts,
        startedAt,
        durationMs: result.durationMs,
        statusCode: result.statusCode,
        error: result.error,
        ok: result.ok,
        retryAt,
      }),
    );
  }

  /** Polls every WEBHOOKS_POLL_MS (a full batch is followed at once by the next). Idempotent. */
  start(): void {
    if (this.timer) return;
    this.stopped = false;
    const tick = async () => {
      if (this.stopped) return;
      try {
        this.running = this.runOnce();
        const n = (await this.running) as number;
        this.lastError = "";
        this.timer = setTimeout(tick, n === BATCH ? 0 : this.settings.pollMs);
      } catch (e) {
        // A database that is down: say so once, then keep trying quietly.
        const message = (e as Error).message;
        if (message !== this.lastError) console.error(`[fairmind] webhook dispatcher: ${message}`);
        this.lastError = message;
        this.timer = setTimeout(tick, Math.max(this.settings.pollMs, 5_000));
      }
      this.timer.unref();
    };
    this.timer = setTimeout(tick, 0);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => {});
  }
}

const STATE = globalThis as unknown as { __fairmindWebhookDispatcher?: WebhookDispatcher };

/** Starts this process's dispatcher once (instrumentation.ts), unless WEBHOOKS_DISPATCHER=off. */
export function startWebhookDispatcher(database: () => Promise<Database>, settings: WebhookSettings): void {
  if (!settings.dispatcher || STATE.__fairmindWebhookDispatcher) return;
  STATE.__fairmindWebhookDispatcher = new WebhookDispatcher(database, settings);
  STATE.__fairmindWebhookDispatcher.start();
}
