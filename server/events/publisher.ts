import { Registry } from 'prom-client';
import type { Logger } from '../log';
import { AppendError, type EventLog } from './event-log';
import { type EventMetrics, eventMetrics } from './metrics';
import { type EngagementEvent, validateEvent } from './types';

export interface EventPublisherOptions {
  log: EventLog;
  /** Stream the events go to. Default `engagement`. */
  stream?: string;
  /** Append as soon as this many events wait. Default 200. */
  batchSize?: number;
  /** …or this long after the first of them arrived, whichever is first. Default 20 ms. */
  flushIntervalMs?: number;
  /** Most events per append round trip (a backlog after an outage goes in chunks this big). Default 1,000. */
  maxAppendBatch?: number;
  /**
   * Events held in memory while they cannot be appended (log unreachable). Beyond it new events
   * are dropped and counted (`dropped`), never silently. Default 100,000 (~30-60 MB at worst).
   */
  bufferLimit?: number;
  /** After a failed append, retry after this long, doubling up to `retryMaxMs`. Default 100 ms. */
  retryMinMs?: number;
  /** Default 2,000 ms. */
  retryMaxMs?: number;
  /** `close()` keeps trying to append what is buffered for this long, then counts it as dropped. Default 5,000 ms. */
  closeTimeoutMs?: number;
  /** Where `lectern_events_*` metrics go. Default: a private registry (metrics not exported). */
  registry?: Registry;
  logger?: Logger;
}

export interface PublisherHealth {
  /**
   * `degraded`: the last append failed, so events are buffering until one succeeds (retried with
   * backoff). The same state as the `lectern_events_publisher_degraded` gauge.
   */
  status: 'ok' | 'degraded' | 'closed';
  /** The log's connection right now (`down` with nothing to append is not degraded yet). */
  log: 'up' | 'down' | 'closed';
  /** Accepted, not yet appended. */
  buffered: number;
  /** Appended since start. */
  appended: number;
  /** Not recorded since start, by any reason (see `droppedByReason`). */
  dropped: number;
  droppedByReason: Record<DropReason, number>;
  lastError: string | null;
  /** Epoch ms the current failure episode began; null when appends work. */
  degradedSince: number | null;
}

export type DropReason = 'buffer_full' | 'closed' | 'shutdown';

/**
 * The producers' side of the event log. The hot path (a chat message, a like) calls `publish`,
 * which validates and buffers synchronously and never waits on the network; batches are appended
 * in the background, one pipelined round trip per batch, strictly in publish order.
 *
 * When the log is unreachable the publisher keeps accepting into a bounded buffer, reports
 * `degraded`, retries with backoff, and on recovery appends the backlog in order. An append that
 * failed part-way resumes after its confirmed prefix. An append whose reply was lost may have
 * landed anyway, so an event can be appended twice: consumers dedupe on `event.id`.
 */
export class EventPublisher {
  readonly stream: string;
  private readonly log: EventLog;
  private readonly batchSize: number;
  private readonly flushIntervalMs: number;
  private readonly maxAppendBatch: number;
  private readonly bufferLimit: number;
  private readonly retryMinMs: number;
  private readonly retryMaxMs: number;
  private readonly closeTimeoutMs: number;
  private readonly metrics: EventMetrics;
  private readonly logger?: Logger;

  /** Accepted events; those before `head` are appended (kept until compaction). */
  private queue: EngagementEvent[] = [];
  private head = 0;
  /** The background drain, if one runs (only one does). */
  private running: Promise<void> | null = null;
  /** Appends run one after another on this chain: order on the wire is publish order. */
  private tail: Promise<unknown> = Promise.resolve();
  private flushTimer: NodeJS.Timeout | null = null;
  private flushImmediate: NodeJS.Immediate | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private retryDelayMs: number;
  private failing = false;
  private degradedSince: number | null = null;
  private lastError: string | null = null;
  private appendedTotal = 0;
  private readonly dropped: Record<DropReason, number> = { buffer_full: 0, closed: 0, shutdown: 0 };
  private droppedThisEpisode = 0;
  private closed = false;
  private closing?: Promise<void>;

  constructor(options: EventPublisherOptions) {
    this.log = options.log;
    this.stream = options.stream ?? 'engagement';
    this.batchSize = options.batchSize ?? 200;
    this.flushIntervalMs = options.flushIntervalMs ?? 20;
    this.maxAppendBatch = Math.max(options.maxAppendBatch ?? 1_000, this.batchSize);
    this.bufferLimit = options.bufferLimit ?? 100_000;
    this.retryMinMs = options.retryMinMs ?? 100;
    this.retryMaxMs = options.retryMaxMs ?? 2_000;
    this.closeTimeoutMs = options.closeTimeoutMs ?? 5_000;
    this.retryDelayMs = this.retryMinMs;
    this.metrics = eventMetrics(options.registry ?? new Registry());
    this.logger = options.logger;
  }

  /**
   * Accepts an event for appending; returns at once. False when it had to be dropped (buffer
   * full, or the publisher is closed), which is counted. Throws `InvalidEventError` for an event
   * that does not match the schema: that is a bug in the caller.
   */
  publish(event: EngagementEvent): boolean {
    const valid = validateEvent(event);
    if (this.closed) return this.drop('closed', 1);
    if (this.buffered >= this.bufferLimit) return this.drop('buffer_full', 1);
    this.queue.push(valid);
    this.metrics.buffered.inc({ stream: this.stream });
    this.schedule();
    return true;
  }

  /** Events accepted and not yet appended. */
  get buffered(): number {
    return this.queue.length - this.head;
  }

  health(): PublisherHealth {
    const log = this.log.status();
    const dropped = this.dropped.buffer_full + this.dropped.closed + this.dropped.shutdown;
    return {
      status: this.closed ? 'closed' : this.failing ? 'degraded' : 'ok',
      log,
      buffered: this.buffered,
      appended: this.appendedTotal,
      dropped,
      droppedByReason: { ...this.dropped },
      lastError: this.lastError,
      degradedSince: this.degradedSince,
    };
  }

  /**
   * Appends what is buffered now, without waiting for the batch timer or a retry backoff.
   * Resolves true once the buffer is empty, false if an append failed (events stay buffered).
   */
  async flush(): Promise<boolean> {
    if (this.closed) {
      await this.closing;
      return this.buffered === 0;
    }
    this.clearTimers();
    while (this.buffered > 0) {
      if (!(await this.appendNext())) {
        this.scheduleRetry();
        return false;
      }
    }
    return true;
  }

  /**
   * Stops accepting events (later ones are counted as dropped, reason `closed`), then tries for
   * up to `closeTimeoutMs` to append what is buffered; what is still buffered after that is
   * counted as dropped (reason `shutdown`). Does not close the log. Safe to call twice.
   */
  close(): Promise<void> {
    this.closing ??= this.shutDown();
    return this.closing;
  }

  // --- internals ------------------------------------------------------------------------------

  private schedule(): void {
    if (this.running || this.retryTimer) return; // the running drain or the retry picks them up
    if (this.buffered >= this.batchSize) {
      // setImmediate, not now: events published in the same tick join this batch.
      this.flushImmediate ??= setImmediate(() => {
        this.flushImmediate = null;
        this.kick();
      });
    } else if (!this.flushTimer) {
      this.flushTimer = setTimeout(() => {
        this.flushTimer = null;
        this.kick();
      }, this.flushIntervalMs);
      this.flushTimer.unref();
    }
  }

  private kick(): void {
    if (this.running || this.closed || this.buffered === 0) return;
    this.clearTimers();
    this.running = this.drain().finally(() => {
      this.running = null;
      if (!this.closed && !this.retryTimer && this.buffered > 0) this.schedule();
    });
  }

  /** Appends chunks until the rest is smaller than a batch (it waits for the timer) or one fails. */
  private async drain(): Promise<void> {
    while (this.buffered > 0) {
      if (!(await this.appendNext())) {
        this.scheduleRetry();
        return;
      }
      if (this.buffered < this.batchSize && !this.closed) return;
    }
  }

  /** Queues one append round trip behind any in flight; resolves whether it succeeded. */
  private appendNext(): Promise<boolean> {
    const next = this.tail.then(() => (this.buffered > 0 ? this.appendChunk() : true));
    this.tail = next;
    return next;
  }

  /** One append round trip of the oldest buffered events (taken when it runs). Never throws. */
  private async appendChunk(): Promise<boolean> {
    const batch = this.queue.slice(this.head, this.head + Math.min(this.buffered, this.maxAppendBatch));
    this.metrics.appendBatches.inc({ stream: this.stream });
    try {
      const ids = await this.log.append(this.stream, batch);
      this.confirm(ids.length);
      this.recovered();
      return true;
    } catch (err) {
      // A partial append landed a prefix, in order: confirm it, retry from the first missing.
      if (err instanceof AppendError) this.confirm(err.appended.length);
      this.failed(err);
      return false;
    }
  }

  private confirm(count: number): void {
    if (count === 0) return;
    this.head += count;
    this.appendedTotal += count;
    this.metrics.appended.inc({ stream: this.stream }, count);
    this.metrics.buffered.dec({ stream: this.stream }, count);
    // Drop appended events from memory once they are most of the array (amortised O(1)).
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }

  private failed(err: unknown): void {
    this.metrics.appendFailures.inc({ stream: this.stream });
    this.lastError = err instanceof Error ? err.message : String(err);
    if (this.failing) return;
    this.failing = true;
    this.degradedSince = Date.now();
    this.droppedThisEpisode = 0;
    this.metrics.degraded.inc({ stream: this.stream });
    this.logger?.warn(
      { stream: this.stream, err: this.lastError, buffered: this.buffered },
      'event publisher degraded: buffering events until the log is reachable',
    );
  }

  private recovered(): void {
    this.retryDelayMs = this.retryMinMs;
    if (!this.failing) return;
    this.failing = false;
    this.metrics.degraded.dec({ stream: this.stream });
    this.logger?.info(
      {
        stream: this.stream,
        degradedMs: Date.now() - (this.degradedSince ?? Date.now()),
        buffered: this.buffered,
        dropped: this.droppedThisEpisode,
      },
      'event publisher recovered',
    );
    this.degradedSince = null;
  }

  private scheduleRetry(): void {
    if (this.closed || this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.kick();
    }, this.retryDelayMs);
    this.retryTimer.unref();
    this.retryDelayMs = Math.min(this.retryDelayMs * 2, this.retryMaxMs);
  }

  private drop(reason: DropReason, count: number): false {
    this.dropped[reason] += count;
    this.droppedThisEpisode += count;
    this.metrics.dropped.inc({ stream: this.stream, reason }, count);
    // One line per episode; the counter has the numbers.
    if (this.droppedThisEpisode === count) {
      this.logger?.warn({ stream: this.stream, reason }, 'event publisher dropping events');
    }
    return false;
  }

  private clearTimers(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    if (this.flushImmediate) clearImmediate(this.flushImmediate);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.flushTimer = null;
    this.flushImmediate = null;
    this.retryTimer = null;
  }

  private async shutDown(): Promise<void> {
    this.closed = true;
    this.clearTimers();
    const deadline = Date.now() + this.closeTimeoutMs;
    let backoff = this.retryMinMs;
    while (this.buffered > 0 && this.log.status() !== 'closed') {
      if (await this.appendNext()) continue;
      const wait = Math.min(backoff, deadline - Date.now());
      if (wait <= 0) break;
      await new Promise((resolve) => setTimeout(resolve, wait));
      backoff = Math.min(backoff * 2, this.retryMaxMs);
    }
    if (this.buffered > 0) {
      const lost = this.buffered;
      this.metrics.buffered.dec({ stream: this.stream }, lost);
      this.queue = [];
      this.head = 0;
      this.drop('shutdown', lost);
      this.logger?.error({ stream: this.stream, lost }, 'event publisher closed with events it could not append');
    }
    if (this.failing) {
      this.failing = false;
      this.metrics.degraded.dec({ stream: this.stream });
    }
  }
}
