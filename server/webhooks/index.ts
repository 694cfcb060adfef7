import { randomUUID } from 'node:crypto';
import { type Kysely, sql } from 'kysely';
import type { Config } from '../config';
import type { DB } from '../db';
import type { DomainEventMap, DomainEvents } from '../domain-events';
import { OUTBOX_TOPICS, type OutboxMessage, type OutboxSideWrite } from '../events';
import type { Logger } from '../log';
import { WebhookDeliverer } from './deliverer';
import { postOnce } from './post';
import { createWebhookRegistry, type WebhookRegistry } from './registry';
import type { WebhookEventType, WebhookPayload } from './types';

export { isPublicAddress } from './address-guard';
export { retryDelayMs } from './backoff';
export { type ClaimedDelivery, WebhookDeliverer } from './deliverer';
export { type AttemptResult, postOnce } from './post';
export { checkWebhookUrl, MAX_WEBHOOKS_PER_OWNER, type WebhookRegistry } from './registry';
export { SIGNATURE_HEADER, signatureHeader, verifySignature } from './signature';
export * from './types';

/**
 * Webhooks: creators (their own rooms and sales) and admins (the whole platform) register URLs
 * for domain events; each event becomes a durable delivery row per matching webhook, which a
 * deliverer on any node POSTs, signed, retrying with backoff until it succeeds or runs out of
 * attempts. Money events arrive through the events outbox (`relayed`, in the relay's
 * transaction); room events from the domain events. See docs/webhooks.md.
 */
export interface Webhooks {
  readonly registry: WebhookRegistry;
  /** The deliverer of this node, when it runs one (`WEBHOOKS_ENABLED`). */
  readonly deliverer?: WebhookDeliverer;
  /** Queues deliveries of an event to every matching webhook; resolves how many were queued. */
  enqueue<T extends WebhookEventType>(type: T, data: DomainEventMap[T]): Promise<number>;
  /**
   * The outbox relay's side write: the deliveries of the money events it relays, queued in its
   * transaction under the events' own ids (a webhook never gets one twice). Call `nudge()` once
   * the relay committed.
   */
  readonly relayed: OutboxSideWrite;
  /** Lets this node's deliverer send what was just queued, now. */
  nudge(): void;
  /** Stops listening, waits for queued writes, stops the deliverer. Safe to call twice. */
  close(): Promise<void>;
}

export interface WebhooksDeps {
  db: Kysely<DB>;
  domain?: DomainEvents;
  config: Pick<
    Config,
    | 'webhooksEnabled'
    | 'webhookTimeoutMs'
    | 'webhookMaxAttempts'
    | 'webhookRetryBaseMs'
    | 'webhookRetryMaxMs'
    | 'webhookPollIntervalMs'
    | 'webhookConcurrency'
    | 'webhookAllowPrivateUrls'
    | 'webhookDeliveryRetentionDays'
  >;
  log?: Logger;
}

/** Whose event it is: a creator's webhooks get the events of their own rooms and sales. */
function creatorOf<T extends WebhookEventType>(type: T, data: DomainEventMap[T]): string {
  switch (type) {
    case 'room.started':
    case 'room.ended':
      return (data as DomainEventMap['room.started']).room.ownerId;
    case 'purchase.completed':
    case 'purchase.refunded':
      return (data as DomainEventMap['purchase.completed']).purchase.creatorId;
    default:
      return (data as DomainEventMap['tip.created' | 'subscription.started']).creatorId;
  }
}

const PRUNE_INTERVAL_MS = 3600_000;
const PRUNE_BATCH = 10_000;

/**
 * Whether webhook `w` takes event `e` (its `type` and `creator`): the rule of both the check and
 * the insert in `insertDeliveries`.
 */
const TAKES_EVENT = sql`e.type = ANY (w.events)
  AND (w.owner_id = e.creator
    -- Platform-wide only while its owner is an admin (a demotion stops it at once).
    OR (w.scope = 'platform' AND EXISTS (SELECT 1 FROM users u WHERE u.id = w.owner_id AND u.role = 'admin')))`;

export function createWebhooks(deps: WebhooksDeps): Webhooks {
  const { db, config, log } = deps;
  const registry = createWebhookRegistry({ db, allowPrivateUrls: config.webhookAllowPrivateUrls });
  const deliverer = config.webhooksEnabled
    ? new WebhookDeliverer({
        db,
        send: (url, body, headers) =>
          postOnce(url, body, headers, {
            timeoutMs: config.webhookTimeoutMs,
            allowPrivate: config.webhookAllowPrivateUrls,
          }),
        timeoutMs: config.webhookTimeoutMs,
        maxAttempts: config.webhookMaxAttempts,
        retryBaseMs: config.webhookRetryBaseMs,
        retryMaxMs: config.webhookRetryMaxMs,
        pollIntervalMs: config.webhookPollIntervalMs,
        concurrency: config.webhookConcurrency,
        log: log?.child({ component: 'webhooks' }),
      })
    : undefined;

  /**
   * One delivery row per (event, matching webhook), for any number of events in one statement:
   * the deliveries exist (durably) before anything is sent, a webhook registered a moment later
   * does not get a half-set, and a relayed batch of a gift storm's events costs one round trip
   * (two when a webhook matches).
   */
  async function insertDeliveries(executor: Kysely<DB>, payloads: readonly WebhookPayload[]): Promise<number> {
    if (payloads.length === 0) return 0;
    const types = payloads.map((p) => p.type);
    const creators = payloads.map((p) => creatorOf(p.type, p.data as never));
    // Most events have no webhook: asked first with only their distinct types and creators (a
    // storm's hundreds of events are a pair or two), so that its events are not serialised and
    // sent to Postgres to match nothing.
    const pairs = [...new Map(types.map((type, i) => [`${type} ${creators[i]}`, i])).values()];
    const { rows } = await sql`
      SELECT 1 FROM unnest(${pairs.map((i) => types[i])}::text[], ${pairs.map((i) => creators[i])}::uuid[]) AS e(type, creator)
      JOIN webhooks w ON ${TAKES_EVENT} LIMIT 1
    `.execute(executor);
    if (rows.length === 0) return 0;
    const result = await sql`
      INSERT INTO webhook_deliveries (webhook_id, event_id, event_type, body)
      SELECT w.id, e.id, e.type, e.body
      FROM unnest(${payloads.map((p) => p.id)}::uuid[], ${types}::text[],
                  ${payloads.map((p) => JSON.stringify(p))}::text[],
                  ${creators}::uuid[]) AS e(id, type, body, creator)
      JOIN webhooks w ON ${TAKES_EVENT}
      ON CONFLICT (webhook_id, event_id) DO NOTHING
    `.execute(executor);
    return Number(result.numAffectedRows ?? 0);
  }

  async function enqueue<T extends WebhookEventType>(type: T, data: DomainEventMap[T]): Promise<number> {
    const payload = { id: randomUUID(), type, createdAt: new Date().toISOString(), data } as WebhookPayload;
    const queued = await insertDeliveries(db, [payload]);
    if (queued > 0) deliverer?.nudge();
    return queued;
  }

  function queueRelayed(trx: Kysely<DB>, messages: readonly OutboxMessage[]): Promise<number> {
    return insertDeliveries(
      trx,
      messages.map(
        (m) => ({ id: m.id, type: m.topic, createdAt: m.at.toISOString(), data: m.payload }) as WebhookPayload,
      ),
    );
  }

  // Writes in progress, so close() can wait for them before the database goes away.
  const writing = new Set<Promise<unknown>>();
  const listen = <T extends WebhookEventType>(type: T) =>
    deps.domain?.on(type, (data) => {
      const write = enqueue(type, data).catch((err) =>
        log?.error({ err, type }, 'webhooks: deliveries of an event could not be queued'),
      );
      writing.add(write);
      void write.finally(() => writing.delete(write));
    });
  // Money events (purchase.completed, tip.created, subscription.started) come through the outbox.
  const unsubscribe = [listen('room.started'), listen('room.ended')];

  async function prune(): Promise<void> {
    const cutoff = sql<Date>`now() - ${config.webhookDeliveryRetentionDays} * interval '1 day'`;
    for (;;) {
      const result = await db
        .deleteFrom('webhook_deliveries')
        .where(
          'id',
          'in',
          db
            .selectFrom('webhook_deliveries')
            .select('id')
            .where('status', '<>', 'pending')
            .where('created_at', '<', cutoff)
            .limit(PRUNE_BATCH),
        )
        .executeTakeFirst();
      if (Number(result.numDeletedRows) < PRUNE_BATCH) return;
    }
  }
  const pruner = deliverer
    ? setInterval(
        () => prune().catch((err) => log?.warn({ err }, 'webhooks: pruning deliveries failed')),
        PRUNE_INTERVAL_MS,
      )
    : undefined;
  pruner?.unref();

  let closing: Promise<void> | undefined;
  return {
    registry,
    deliverer,
    enqueue,
    relayed: {
      // Any webhook that takes a money event at all; without one a storm's relay writes nothing here.
      probe: sql`SELECT 1 FROM webhooks WHERE events && ${[...OUTBOX_TOPICS]}::text[] LIMIT 1`.compile(db),
      write: queueRelayed,
    },
    nudge: () => deliverer?.nudge(),
    close() {
      closing ??= (async () => {
        for (const off of unsubscribe) off?.();
        if (pruner) clearInterval(pruner);
        await Promise.all(writing);
        await deliverer?.close();
      })();
      return closing;
    },
  };
}
