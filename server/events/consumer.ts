import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { Registry } from 'prom-client';
import type { Logger } from '../log';
import { type DeadLetterInput, type EventLog, type LogEntry, NoGroupError, type ReadEntry } from './event-log';
import { type EventMetrics, eventMetrics } from './metrics';
import { EventBusyError } from './seen-events';
import { ZERO_ID } from './stream-id';

/**
 * Processes one batch. Resolve only when the batch's effects are done: the entries are
 * acknowledged right after. Throwing leaves them to be retried (see `Consumer`). Delivery is at
 * least once, so effects must be idempotent: wrap per-event work in `onceEach`.
 */
export type BatchHandler = (batch: readonly LogEntry[], context: { signal: AbortSignal }) => Promise<void>;

export interface ConsumerOptions {
  log: EventLog;
  /** Default `engagement`. */
  stream?: string;
  group: string;
  /** Unique among the group's live consumers. Default `<hostname>-<pid>-<random>`. */
  consumer?: string;
  handler: BatchHandler;
  /** Most entries per handler call. Default 100. */
  batchSize?: number;
  /** How long one read waits for new entries (also bounds how long `close()` can wait on it). Default 2,000 ms. */
  blockMs?: number;
  /**
   * A pending entry idle this long is taken to belong to a dead (or stuck) consumer and is
   * claimed by a live one. Must exceed the slowest batch's processing time, or entries still
   * being processed get a second, concurrent delivery. Also the delay before a failed entry is
   * retried. Default 60,000 ms.
   */
  claimMinIdleMs?: number;
  /** How often to look for such entries. Default a quarter of `claimMinIdleMs`, at most 15,000 ms. */
  reclaimIntervalMs?: number;
  /**
   * Deliveries an entry gets. One that fails on its last delivery, or is claimed after more
   * (its consumers kept dying on it), moves to `<stream>:dead` with the error and is acknowledged,
   * so it never blocks the group. Default 5.
   */
  maxDeliveries?: number;
  /** Where a group created by this consumer starts: `0` (what the stream retains, default) or `$` (new only). */
  startId?: string;
  /** Backoff after an error of the log itself (unreachable, …): doubles from this… Default 250 ms. */
  errorBackoffMs?: number;
  /** …up to this. Default 5,000 ms. */
  errorBackoffMaxMs?: number;
  /** Where `lectern_events_*` metrics go. Default: a private registry. */
  registry?: Registry;
  logger?: Logger;
}

export interface ConsumerStats {
  processed: number;
  failed: number;
  deadLettered: number;
  reclaimed: number;
  /** Pending entries found deleted from the stream when reclaimed (see `lectern_events_lost_total`). */
  lost: number;
}

export function defaultConsumerName(): string {
  const host =
    hostname()
      .replace(/[^A-Za-z0-9._-]/g, '_')
      .slice(0, 64) || 'host';
  return `${host}-${process.pid}-${randomBytes(3).toString('hex')}`;
}

/** Starts a consumer; `close()` it to stop. */
export function startConsumer(options: ConsumerOptions): Consumer {
  return new Consumer(options);
}

/**
 * Runs a consumer of a group: reads batches, hands them to the handler, acknowledges them when it
 * succeeds. Periodically claims entries left idle by dead consumers (and its own failed ones) and
 * processes them too.
 *
 * Failures: a failed batch is retried entry by entry at once, to find the failing entry and let
 * the rest through. A failed entry stays pending and is retried after `claimMinIdleMs`, up to
 * `maxDeliveries` deliveries, then dead-lettered. Order is not kept across retries. An entry whose
 * event another handler is still working on (`EventBusyError` from `onceEach`) is not a failure:
 * it stays pending, uncounted, and is never dead-lettered for it.
 */
export class Consumer {
  readonly name: string;
  readonly stream: string;
  readonly group: string;
  private readonly log: EventLog;
  private readonly handler: BatchHandler;
  private readonly batchSize: number;
  private readonly blockMs: number;
  private readonly claimMinIdleMs: number;
  private readonly reclaimIntervalMs: number;
  private readonly maxDeliveries: number;
  private readonly startId: string;
  private readonly backoffMinMs: number;
  private readonly backoffMaxMs: number;
  private readonly metrics: EventMetrics;
  private readonly labels: { stream: string; group: string };
  private readonly logger?: Logger;
  private readonly stopSignal = new AbortController();
  /** The last handler error of entries left pending, for the dead letter if they never succeed. */
  private readonly lastErrors = new Map<string, string>();
  /** Entries left pending because their event was busy: a redelivery of them runs, however many deliveries it took. */
  private readonly busy = new Set<string>();
  private readonly counts: ConsumerStats = { processed: 0, failed: 0, deadLettered: 0, reclaimed: 0, lost: 0 };
  private readonly loop: Promise<void>;
  private closing?: Promise<void>;

  constructor(options: ConsumerOptions) {
    this.log = options.log;
    this.stream = options.stream ?? 'engagement';
    this.group = options.group;
    this.name = options.consumer ?? defaultConsumerName();
    this.handler = options.handler;
    this.batchSize = options.batchSize ?? 100;
    this.blockMs = options.blockMs ?? 2_000;
    this.claimMinIdleMs = options.claimMinIdleMs ?? 60_000;
    // Often enough that an entry is claimed soon after it has been idle long enough.
    this.reclaimIntervalMs = options.reclaimIntervalMs ?? Math.min(15_000, Math.max(100, this.claimMinIdleMs / 4));
    this.maxDeliveries = options.maxDeliveries ?? 5;
    this.startId = options.startId ?? '0';
    this.backoffMinMs = options.errorBackoffMs ?? 250;
    this.backoffMaxMs = options.errorBackoffMaxMs ?? 5_000;
    this.metrics = eventMetrics(options.registry ?? new Registry());
    this.labels = { stream: this.stream, group: this.group };
    this.logger = options.logger?.child({ stream: this.stream, group: this.group, consumer: this.name });
    this.loop = this.run();
  }

  get stats(): ConsumerStats {
    return { ...this.counts };
  }

  /**
   * Stops reading, lets the batch in flight finish (handler and ack), and removes this consumer
   * from the group if it owns no pending entries. Does not close the log. Safe to call twice.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.stopSignal.abort();
      await this.loop;
    })();
    return this.closing;
  }

  private get stopping(): boolean {
    return this.stopSignal.signal.aborted;
  }

  private async run(): Promise<void> {
    let groupReady = false;
    let nextReclaimAt = 0;
    let backoff = this.backoffMinMs;
    let failing = false;
    while (!this.stopping) {
      try {
        if (!groupReady) {
          await this.log.createGroup(this.stream, this.group, { startId: this.startId });
          groupReady = true;
        }
        if (Date.now() >= nextReclaimAt) {
          await this.reclaimIdle();
          nextReclaimAt = Date.now() + this.reclaimIntervalMs;
        }
        if (this.stopping) break;
        const entries = await this.log.read(this.stream, this.group, this.name, {
          count: this.batchSize,
          // Wake up in time for the next reclaim pass even when nothing arrives.
          blockMs: Math.max(1, Math.min(this.blockMs, nextReclaimAt - Date.now())),
          signal: this.stopSignal.signal,
        });
        if (entries.length > 0) await this.process(entries);
        if (failing) this.logger?.info('event consumer recovered');
        failing = false;
        backoff = this.backoffMinMs;
      } catch (err) {
        if (this.stopping && this.log.status() === 'closed') break;
        if (err instanceof NoGroupError) groupReady = false; // the stream was deleted: recreate
        if (!failing) this.logger?.warn({ err: message(err) }, 'event consumer: log error, backing off');
        failing = true;
        await sleep(backoff, this.stopSignal.signal);
        backoff = Math.min(backoff * 2, this.backoffMaxMs);
      }
    }
    if (this.log.status() !== 'closed') {
      await this.log.removeConsumerIfIdle(this.stream, this.group, this.name).catch(() => {});
    }
  }

  /** Claims entries idle past `claimMinIdleMs` (a full scan of the pending list) and processes them. */
  private async reclaimIdle(): Promise<void> {
    let cursor = ZERO_ID;
    do {
      const result = await this.log.reclaim(this.stream, this.group, this.name, {
        minIdleMs: this.claimMinIdleMs,
        count: this.batchSize,
        cursor,
      });
      if (result.deleted.length > 0) this.lost(result.deleted);
      if (result.entries.length > 0) {
        this.counts.reclaimed += result.entries.length;
        this.metrics.reclaimed.inc(this.labels, result.entries.length);
        await this.process(result.entries);
      }
      cursor = result.cursor;
    } while (cursor !== ZERO_ID && !this.stopping);
  }

  private async process(entries: readonly ReadEntry[]): Promise<void> {
    const poison: DeadLetterInput[] = [];
    const runnable: LogEntry[] = [];
    for (const entry of entries) {
      if (entry.event === null) {
        poison.push({ entry, error: `undecodable entry: ${entry.reason}` });
      } else if (entry.deliveries > this.maxDeliveries && !this.busy.has(entry.id)) {
        const last = this.lastErrors.get(entry.id);
        poison.push({
          entry,
          error:
            last ?? `delivered ${entry.deliveries} times without being acknowledged (its consumers died or stalled)`,
        });
      } else {
        runnable.push(entry);
      }
    }
    if (poison.length > 0) await this.deadLetter(poison);
    if (runnable.length === 0) return;

    const failure = await this.attempt(runnable);
    if (!failure) return this.ack(runnable);
    if (runnable.length === 1) return this.failedEntry(runnable[0], failure.error);
    // Isolate the failing entries; the others go through now instead of waiting for a retry.
    for (const entry of runnable) {
      const single = await this.attempt([entry]);
      if (single) await this.failedEntry(entry, single.error);
      else await this.ack([entry]);
    }
  }

  /** Runs the handler; undefined on success, the error otherwise (a handler may throw anything). */
  private async attempt(batch: LogEntry[]): Promise<{ error: unknown } | undefined> {
    try {
      await this.handler(batch, { signal: this.stopSignal.signal });
      return undefined;
    } catch (error) {
      return { error };
    }
  }

  private async ack(entries: readonly LogEntry[]): Promise<void> {
    // If this fails (log unreachable) the entries stay pending and come back by reclaim: the
    // handler sees them again, which is why handlers must be idempotent.
    await this.log.ack(
      this.stream,
      this.group,
      entries.map((e) => e.id),
    );
    this.forget(entries.map((e) => e.id));
    this.counts.processed += entries.length;
    this.metrics.processed.inc(this.labels, entries.length);
  }

  private async failedEntry(entry: LogEntry, error: unknown): Promise<void> {
    if (error instanceof EventBusyError) {
      // Another handler holds the event: a live one, or a dead one whose lease has not lapsed yet
      // (it lapses within `claimMinIdleMs`, see `seenOptionsFor`). Left pending, it comes back
      // by reclaim and is then done (skipped) or free (run); its deliveries are not failures.
      this.logger?.debug({ entryId: entry.id, deliveries: entry.deliveries }, 'event busy elsewhere; left pending');
      if (this.busy.size >= 10_000) this.busy.delete(this.busy.values().next().value!);
      this.busy.add(entry.id);
      return;
    }
    this.counts.failed++;
    this.metrics.failed.inc(this.labels);
    const text = message(error);
    if (entry.deliveries >= this.maxDeliveries) {
      await this.deadLetter([{ entry, error: text }]);
      return;
    }
    this.logger?.debug({ entryId: entry.id, deliveries: entry.deliveries, err: text }, 'event handler failed');
    // Bounded: an id is forgotten once acked or dead-lettered; a cap covers entries claimed away.
    if (this.lastErrors.size >= 10_000) this.lastErrors.delete(this.lastErrors.keys().next().value!);
    this.lastErrors.set(entry.id, text);
  }

  private async deadLetter(letters: DeadLetterInput[]): Promise<void> {
    await this.log.deadLetter(this.stream, this.group, this.name, letters);
    this.forget(letters.map((l) => l.entry.id));
    this.counts.deadLettered += letters.length;
    this.metrics.deadLettered.inc(this.labels, letters.length);
    this.logger?.warn(
      { entries: letters.map((l) => ({ id: l.entry.id, deliveries: l.entry.deliveries, error: l.error })) },
      'event consumer: entries moved to the dead-letter stream',
    );
  }

  /**
   * Pending entries whose stream entry was deleted (the length cap trimmed them before the group
   * acknowledged them): reclaim drops them from the pending list. They may never have been
   * processed, so they are counted and logged, not dropped silently.
   */
  private lost(ids: readonly string[]): void {
    this.forget(ids);
    this.counts.lost += ids.length;
    this.metrics.lost.inc(this.labels, ids.length);
    this.logger?.warn(
      { count: ids.length, first: ids[0], last: ids.at(-1) },
      'event consumer: pending entries were deleted from the stream before being acknowledged (lost)',
    );
  }

  /** Entries that left the pending list: nothing more to remember about them. */
  private forget(ids: readonly string[]): void {
    for (const id of ids) {
      this.lastErrors.delete(id);
      this.busy.delete(id);
    }
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

const message = (err: unknown) => (err instanceof Error ? err.message : String(err));
