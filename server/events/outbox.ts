import { type CompiledQuery, type Kysely, sql } from 'kysely';
import type pg from 'pg';
import { Registry } from 'prom-client';
import type { DB } from '../db';
import { kyselyOn, onPooledClient, RoundTrip } from '../db/round-trip';
import type { DomainEventMap, DomainEvents } from '../domain-events';
import type { Logger } from '../log';
import { engagementEventOf } from './domain-bridge';
import type { EventLog } from './event-log';
import { type EventMetrics, eventMetrics } from './metrics';
import type { EngagementEvent } from './types';

/**
 * The transactional outbox of money events. A payment's transaction writes the domain events that
 * analytics and webhooks need (`stageDomainEvent`) next to the money itself, so they commit or
 * roll back together. A relay on every node moves the rows into the engagement log and the
 * webhook queue: at once when this node committed one (the domain event is its cue), and in a
 * periodic sweep that picks up what a node that died after its commit left behind.
 *
 * A pass claims rows with `FOR UPDATE SKIP LOCKED` (nodes never relay the same row at the same
 * time), appends their events and waits for the log to confirm them, queues the webhook
 * deliveries in the same transaction, and deletes the rows in it too. A crash after the append
 * and before the commit relays the rows again: the events keep their ids (the row's `event_id`)
 * and times, so consumers' deduplication absorbs the repeat, and the webhook deliveries, written
 * in the transaction that failed, are not repeated.
 */

/** The domain events that go through the outbox: the ones that move money. */
export const OUTBOX_TOPICS = [
  'purchase.completed',
  'purchase.refunded',
  'subscription.started',
  'tip.created',
] as const;
export type OutboxTopic = (typeof OUTBOX_TOPICS)[number];

/** A relayed row: the domain event, its stable id and when it happened. */
export type OutboxMessage = {
  [K in OutboxTopic]: { id: string; topic: K; payload: DomainEventMap[K]; at: Date };
}[OutboxTopic];

/**
 * Writes a domain event into the outbox in the caller's transaction (`trx`): relayed if, and only
 * if, that transaction commits.
 */
export async function stageDomainEvent<K extends OutboxTopic>(
  trx: Kysely<DB>,
  topic: K,
  payload: DomainEventMap[K],
): Promise<void> {
  // The node's clock, as for every other event's `at`.
  await trx
    .insertInto('events_outbox')
    .values({ topic, payload: JSON.stringify(payload), created_at: new Date() })
    .execute();
}

/**
 * Writes that must commit together with the relayed rows' removal (the webhook queue), so they
 * happen once per row.
 */
export interface OutboxSideWrite {
  /**
   * Sent with the claim, in its round trip: no row means `write` has nothing to do (no webhook
   * takes money events), and the pass is then two round trips.
   */
  probe: CompiledQuery;
  /** In the relay's transaction, after the append. */
  write(trx: Kysely<DB>, messages: readonly OutboxMessage[]): Promise<unknown>;
}

export interface OutboxRelayOptions {
  db: Kysely<DB>;
  /** The pool under `db`: a pass takes one client, for its round trips of several statements. */
  pool: pg.Pool;
  log: EventLog;
  /** Default `engagement`. */
  stream?: string;
  /** With it, every outbox topic committed on this node starts a pass at once. */
  domain?: DomainEvents;
  sideWrite?: OutboxSideWrite;
  /** After the commit, with what was relayed. Its errors are logged, never thrown. */
  relayed?: (messages: readonly OutboxMessage[], events: readonly EngagementEvent[]) => void;
  /** How often to look for rows nobody relayed (a node died). Default 5,000 ms. */
  sweepIntervalMs?: number;
  /**
   * A commit's cue starts a pass at once unless one started less than this long ago; then one
   * pass starts when this much has passed, for everything committed meanwhile. Default 100 ms.
   */
  paceMs?: number;
  /** Rows per transaction. Default 100. */
  batchSize?: number;
  registry?: Registry;
  logger?: Logger;
}

/** Moves outbox rows into the event log (and the webhook queue); `close()` stops it. */
export class OutboxRelay {
  private readonly db: Kysely<DB>;
  private readonly log: EventLog;
  private readonly stream: string;
  private readonly batchSize: number;
  private readonly metrics: EventMetrics;
  private readonly logger?: Logger;
  private readonly timer: NodeJS.Timeout;
  private readonly unsubscribe: (() => void)[];
  /** Passes run one after another on this node; `queued` is the next one, not started yet. */
  private tail: Promise<unknown> = Promise.resolve();
  private queued: Promise<number> | null = null;
  private failing = false;
  private closed = false;
  /** When the last pass started, and the paced pass waiting to start (see `paceMs`). */
  private lastPassAt = Number.NEGATIVE_INFINITY;
  private paced?: NodeJS.Timeout;

  constructor(private readonly options: OutboxRelayOptions) {
    this.db = options.db;
    this.log = options.log;
    this.stream = options.stream ?? 'engagement';
    this.batchSize = options.batchSize ?? 100;
    this.metrics = eventMetrics(options.registry ?? new Registry());
    this.logger = options.logger;
    this.timer = setInterval(() => this.nudge(), options.sweepIntervalMs ?? 5_000);
    this.timer.unref();
    this.unsubscribe = OUTBOX_TOPICS.map((topic) => options.domain?.on(topic, () => this.cue()) ?? (() => {}));
    // What a previous run of this node (or another, dead, node) left behind.
    this.nudge();
  }

  /** Starts a pass soon, unless one is already waiting to start (it will see the new rows). */
  nudge(): void {
    if (this.closed) return;
    this.drain().catch(() => {}); // reported by the pass itself
  }

  /**
   * A commit on this node: a pass now, or, within `paceMs` of the last one, one pass then. In a
   * gift storm a batch commits every few milliseconds; a pass per commit paid a transaction, the
   * event log's append and every consumer's wake-up for a handful of rows each time.
   */
  private cue(): void {
    if (this.closed || this.paced) return;
    const wait = this.lastPassAt + (this.options.paceMs ?? 100) - performance.now();
    if (wait <= 0) {
      this.nudge();
      return;
    }
    this.paced = setTimeout(() => {
      this.paced = undefined;
      this.nudge();
    }, wait);
  }

  /**
   * Relays every row there is (rows another node is relaying right now excepted), after any pass
   * in progress on this node; resolves how many rows it relayed, or rejects if a pass failed (the
   * rows stay for the next one).
   */
  drain(): Promise<number> {
    if (this.queued) return this.queued;
    const pass = this.tail.then(() => {
      this.queued = null;
      this.lastPassAt = performance.now();
      return this.relayAll();
    });
    this.queued = pass;
    this.tail = pass.catch(() => {});
    return pass;
  }

  /** Stops sweeping and listening; waits for a pass in progress. Rows left stay for the next start. Safe to call twice. */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    clearTimeout(this.paced);
    for (const off of this.unsubscribe) off();
    await this.tail;
  }

  private async relayAll(): Promise<number> {
    let total = 0;
    try {
      for (;;) {
        const n = await this.relayBatch();
        total += n;
        if (n < this.batchSize || this.closed) break;
      }
    } catch (err) {
      this.metrics.outboxFailures.inc({ stream: this.stream });
      if (!this.failing) {
        this.logger?.warn({ err: message(err) }, 'events outbox: relay failed; the rows stay and are retried');
      }
      this.failing = true;
      throw err;
    }
    if (this.failing) this.logger?.info('events outbox: relaying again');
    this.failing = false;
    return total;
  }

  /**
   * One transaction: claim a batch, append its events (confirmed), queue webhooks, delete the
   * rows. Two round trips (`BEGIN` and the claim; the delete and `COMMIT`), not one per statement:
   * in a storm a pass runs ten times a second on the main thread, and each round trip is a write
   * to the socket and a turn of the event loop.
   */
  private async relayBatch(): Promise<number> {
    const { sideWrite } = this.options;
    const done = await onPooledClient(this.options.pool, async (client) => {
      const claim = new RoundTrip();
      claim.add('BEGIN');
      const claimed = claim.add<{
        id: number;
        event_id: string;
        topic: OutboxTopic;
        payload: unknown;
        created_at: Date;
      }>(
        this.db
          .selectFrom('events_outbox')
          .select(['id', 'event_id', 'topic', 'payload', 'created_at'])
          // Topics of a newer build stay for a node that knows them.
          .where('topic', 'in', [...OUTBOX_TOPICS])
          .orderBy('id')
          .limit(this.batchSize)
          .forUpdate()
          .skipLocked()
          .compile(),
      );
      const probed = sideWrite ? claim.add(sideWrite.probe) : () => [];
      await claim.send(client);
      const rows = claimed();
      if (rows.length === 0) {
        await client.query('COMMIT');
        return null;
      }
      const messages = rows.map(
        (r) => ({ id: r.event_id, topic: r.topic, payload: r.payload, at: r.created_at }) as OutboxMessage,
      );
      const events: EngagementEvent[] = [];
      for (const m of messages) {
        try {
          const event = engagementEventOf(m);
          if (event) events.push(event);
        } catch (err) {
          // Retrying cannot fix a row whose event is invalid: it is logged in full, not kept.
          this.logger?.error({ err: message(err), row: m }, 'events outbox: a row makes no valid event; skipped');
        }
      }
      // Resolves once the log holds them (Redis replied to XADD): only then may the rows go.
      if (events.length > 0) await this.log.append(this.stream, events);
      if (probed().length > 0) await sideWrite?.write(kyselyOn(client), messages);
      const finish = new RoundTrip();
      // One array parameter, not one per row.
      finish.add(sql`DELETE FROM events_outbox WHERE id = any(${rows.map((r) => r.id)}::int8[])`.compile(this.db));
      finish.add('COMMIT');
      await finish.send(client);
      return { count: rows.length, messages, events };
    });
    if (!done) return 0;
    this.metrics.outboxRelayed.inc({ stream: this.stream }, done.events.length);
    try {
      this.options.relayed?.(done.messages, done.events);
    } catch (err) {
      this.logger?.warn({ err: message(err) }, 'events outbox: a listener of relayed events failed');
    }
    return done.count;
  }
}

const message = (err: unknown) => (err instanceof Error ? err.message : String(err));
