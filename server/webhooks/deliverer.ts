import { type Kysely, sql } from 'kysely';
import type { DB } from '../db';
import type { Logger } from '../log';
import { retryDelayMs } from './backoff';
import type { AttemptResult } from './post';
import { SIGNATURE_HEADER, signatureHeader } from './signature';

/** One claimed delivery: what to send, where, and which attempt this is. */
export interface ClaimedDelivery {
  id: string;
  eventId: string;
  eventType: string;
  body: string;
  attempt: number;
  url: string;
  secret: string;
}

export type Send = (url: string, body: string, headers: Record<string, string>) => Promise<AttemptResult>;

export interface DelivererOptions {
  db: Kysely<DB>;
  send: Send;
  timeoutMs: number;
  maxAttempts: number;
  retryBaseMs: number;
  retryMaxMs: number;
  pollIntervalMs: number;
  concurrency: number;
  log?: Logger;
  random?: () => number;
}

/** A claim outlives the attempt by this much, so it only lapses when its node is gone. */
/** Why a platform webhook's pending delivery was dropped. */
const OWNER_NOT_ADMIN = 'the webhook’s owner is no longer an admin';
const CLAIM_MARGIN_MS = 30_000;

/**
 * Sends the queued deliveries. Any number of nodes may run one over the same database: a node
 * claims due rows with `FOR UPDATE SKIP LOCKED` and moves their `next_attempt_at` past the
 * attempt's timeout, so nobody else picks them up while it sends; if the node dies, the claim
 * lapses and another node retries. Each attempt is counted when claimed, so a delivery that
 * crashes its nodes still runs out of attempts.
 *
 * Delivery is at least once (a node can die after the POST and before recording it); every
 * attempt carries the same event id for receivers to dedupe on.
 */
export class WebhookDeliverer {
  private readonly stopSignal = new AbortController();
  private readonly inFlight = new Set<Promise<void>>();
  private wake: (() => void) | undefined;
  private nudged = false;
  private readonly loop: Promise<void>;
  private closing?: Promise<void>;

  constructor(private readonly options: DelivererOptions) {
    this.loop = this.run();
  }

  /** Looks for due deliveries now rather than at the next poll (new deliveries were queued). */
  nudge(): void {
    this.nudged = true;
    this.wake?.();
  }

  /** Stops claiming and waits for the attempts in flight (bounded by the timeout). Safe to call twice. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.stopSignal.abort();
      this.wake?.();
      await this.loop;
      await Promise.all(this.inFlight);
    })();
    return this.closing;
  }

  private get stopping(): boolean {
    return this.stopSignal.signal.aborted;
  }

  private async run(): Promise<void> {
    let failing = false;
    while (!this.stopping) {
      this.nudged = false;
      const room = this.options.concurrency - this.inFlight.size;
      if (room > 0) {
        try {
          const batch = await this.claim(room);
          for (const delivery of batch) this.track(this.attempt(delivery));
          if (failing) this.options.log?.info('webhook deliverer recovered');
          failing = false;
        } catch (err) {
          if (!failing) this.options.log?.warn({ err }, 'webhook deliverer: cannot claim deliveries');
          failing = true;
        }
      }
      // Nothing more due, or every slot busy: wait for the next poll, new deliveries (nudge) or
      // a free slot (each finished attempt nudges).
      if (!this.stopping && !this.nudged) await this.sleep(this.options.pollIntervalMs);
    }
  }

  private track(attempt: Promise<void>): void {
    this.inFlight.add(attempt);
    void attempt.finally(() => {
      this.inFlight.delete(attempt);
      this.nudge(); // a slot is free
    });
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = () => {
        this.wake = undefined;
        done();
      };
    });
  }

  /** Claims up to `limit` due deliveries for this node. */
  async claim(limit: number): Promise<ClaimedDelivery[]> {
    const leaseMs = this.options.timeoutMs + CLAIM_MARGIN_MS;
    // What a platform webhook had queued before its owner stopped being an admin is not sent.
    await sql`
      UPDATE webhook_deliveries d
      SET status = 'failed', last_error = ${OWNER_NOT_ADMIN}, next_attempt_at = now()
      FROM webhooks w JOIN users u ON u.id = w.owner_id
      WHERE w.scope = 'platform' AND u.role <> 'admin' AND d.webhook_id = w.id AND d.status = 'pending'
    `.execute(this.options.db);
    const { rows } = await sql<{
      id: string;
      event_id: string;
      event_type: string;
      body: string;
      attempts: number;
      url: string;
      secret: string;
    }>`
      UPDATE webhook_deliveries d
      SET attempts = d.attempts + 1,
          last_attempt_at = now(),
          next_attempt_at = now() + ${leaseMs} * interval '1 millisecond'
      FROM webhooks w
      WHERE w.id = d.webhook_id
        AND d.id IN (
          SELECT id FROM webhook_deliveries
          WHERE status = 'pending' AND next_attempt_at <= now()
          ORDER BY next_attempt_at
          LIMIT ${limit}
          FOR UPDATE SKIP LOCKED)
      RETURNING d.id, d.event_id, d.event_type, d.body, d.attempts, w.url, w.secret
    `.execute(this.options.db);
    return rows.map((r) => ({
      id: r.id,
      eventId: r.event_id,
      eventType: r.event_type,
      body: r.body,
      attempt: r.attempts,
      url: r.url,
      secret: r.secret,
    }));
  }

  private async attempt(delivery: ClaimedDelivery): Promise<void> {
    let result: AttemptResult;
    try {
      result = await this.options.send(delivery.url, delivery.body, {
        'content-type': 'application/json',
        'user-agent': 'Lectern-Webhooks/1',
        [SIGNATURE_HEADER]: signatureHeader(delivery.secret, delivery.body),
        'Lectern-Event-Id': delivery.eventId,
        'Lectern-Event-Type': delivery.eventType,
        'Lectern-Delivery-Id': delivery.id,
        'Lectern-Delivery-Attempt': String(delivery.attempt),
      });
    } catch (err) {
      result = { ok: false, statusCode: null, error: err instanceof Error ? err.message : String(err) };
    }
    try {
      await this.record(delivery, result);
    } catch (err) {
      // The claim lapses and the delivery is attempted again: at least once.
      this.options.log?.warn({ err, deliveryId: delivery.id }, 'webhook deliverer: cannot record an attempt');
    }
  }

  /** Stores the attempt's outcome, unless the claim lapsed and another node took the delivery over. */
  private async record(delivery: ClaimedDelivery, result: AttemptResult): Promise<void> {
    const { maxAttempts, retryBaseMs, retryMaxMs, random } = this.options;
    const exhausted = delivery.attempt >= maxAttempts;
    const status = result.ok ? 'succeeded' : exhausted ? 'failed' : 'pending';
    const retryInMs = status === 'pending' ? retryDelayMs(delivery.attempt, retryBaseMs, retryMaxMs, random) : 0;
    await this.options.db
      .updateTable('webhook_deliveries')
      .set({
        status,
        last_status_code: result.statusCode,
        last_error: result.ok ? null : (result.error ?? 'failed').slice(0, 500),
        next_attempt_at: sql<Date>`now() + ${retryInMs} * interval '1 millisecond'`,
        delivered_at: result.ok ? sql<Date>`now()` : null,
      })
      .where('id', '=', delivery.id)
      .where('attempts', '=', delivery.attempt)
      .where('status', '=', 'pending')
      .execute();
    if (status === 'failed') {
      this.options.log?.warn(
        { deliveryId: delivery.id, attempts: delivery.attempt, error: result.error },
        'webhook delivery failed for good',
      );
    }
  }
}
