import { Counter, Gauge, type Registry } from 'prom-client';

/**
 * The event log's Prometheus metrics, `lectern_events_*`. Created once per registry and shared
 * by every publisher, consumer and retention task registered there (prom-client refuses a name
 * twice in one registry). Gauges that several instances contribute to move by inc/dec, so they
 * add up instead of overwriting each other.
 */
export interface EventMetrics {
  /** Events appended to a stream (confirmed by the log). */
  appended: Counter<'stream'>;
  /** Append round trips: appended / batches is the batching factor. */
  appendBatches: Counter<'stream'>;
  /** Append round trips that failed (the events stay buffered and are retried). */
  appendFailures: Counter<'stream'>;
  /** Events accepted by a publisher and not yet confirmed appended. */
  buffered: Gauge<'stream'>;
  /** Events that could not be recorded: `buffer_full`, `closed` (published after close), `shutdown`. */
  dropped: Counter<'stream' | 'reason'>;
  /** Publishers currently unable to append (1 per degraded publisher). */
  degraded: Gauge<'stream'>;
  /** Entries a consumer's handler finished (and that were then acknowledged). */
  processed: Counter<'stream' | 'group'>;
  /** Handler failures, counted per entry; the entry is retried or dead-lettered. */
  failed: Counter<'stream' | 'group'>;
  /** Entries moved to `<stream>:dead`. */
  deadLettered: Counter<'stream' | 'group'>;
  /** Entries a consumer took over from idle (dead) consumers. */
  reclaimed: Counter<'stream' | 'group'>;
  /** Entries not yet delivered to the group (XINFO GROUPS lag), per retention pass. */
  groupLag: Gauge<'stream' | 'group'>;
  /** Entries delivered to the group and not yet acknowledged, per retention pass. */
  groupPending: Gauge<'stream' | 'group'>;
  /** Entries removed by retention (safe MINID trims). */
  trimmed: Counter<'stream'>;
  /** Pending entries deleted from the stream (length cap) before their group acknowledged them. */
  lost: Counter<'stream' | 'group'>;
  /** Entries in `<stream>:dead`, per retention pass. */
  deadLetters: Gauge<'stream'>;
  /** Domain events moved from the Postgres outbox into the stream (`outbox.ts`). */
  outboxRelayed: Counter<'stream'>;
  /** Outbox relay passes that failed (the rows stay and are retried). */
  outboxFailures: Counter<'stream'>;
}

const byRegistry = new WeakMap<Registry, EventMetrics>();

export function eventMetrics(registry: Registry): EventMetrics {
  let metrics = byRegistry.get(registry);
  if (metrics) return metrics;
  const registers = [registry];
  metrics = {
    appended: new Counter({
      name: 'lectern_events_appended_total',
      help: 'Engagement events appended to the event log',
      labelNames: ['stream'],
      registers,
    }),
    appendBatches: new Counter({
      name: 'lectern_events_append_batches_total',
      help: 'Append round trips (pipelined batches) to the event log',
      labelNames: ['stream'],
      registers,
    }),
    appendFailures: new Counter({
      name: 'lectern_events_append_failures_total',
      help: 'Append round trips that failed; their events stay buffered and are retried',
      labelNames: ['stream'],
      registers,
    }),
    buffered: new Gauge({
      name: 'lectern_events_buffered',
      help: 'Events accepted by publishers and not yet appended',
      labelNames: ['stream'],
      registers,
    }),
    dropped: new Counter({
      name: 'lectern_events_dropped_total',
      help: 'Events that could not be recorded, by reason (buffer_full, closed, shutdown)',
      labelNames: ['stream', 'reason'],
      registers,
    }),
    degraded: new Gauge({
      name: 'lectern_events_publisher_degraded',
      help: 'Publishers currently unable to append to the event log (buffering)',
      labelNames: ['stream'],
      registers,
    }),
    processed: new Counter({
      name: 'lectern_events_consumer_processed_total',
      help: 'Entries processed and acknowledged by consumers',
      labelNames: ['stream', 'group'],
      registers,
    }),
    failed: new Counter({
      name: 'lectern_events_consumer_failed_total',
      help: 'Entries whose handler failed (retried later or dead-lettered)',
      labelNames: ['stream', 'group'],
      registers,
    }),
    deadLettered: new Counter({
      name: 'lectern_events_consumer_dead_lettered_total',
      help: 'Entries moved to the dead-letter stream',
      labelNames: ['stream', 'group'],
      registers,
    }),
    reclaimed: new Counter({
      name: 'lectern_events_consumer_reclaimed_total',
      help: 'Entries claimed from idle consumers',
      labelNames: ['stream', 'group'],
      registers,
    }),
    groupLag: new Gauge({
      name: 'lectern_events_group_lag',
      help: 'Entries not yet delivered to the consumer group',
      labelNames: ['stream', 'group'],
      registers,
    }),
    groupPending: new Gauge({
      name: 'lectern_events_group_pending',
      help: 'Entries delivered to the consumer group and not yet acknowledged',
      labelNames: ['stream', 'group'],
      registers,
    }),
    trimmed: new Counter({
      name: 'lectern_events_trimmed_total',
      help: 'Entries removed by retention',
      labelNames: ['stream'],
      registers,
    }),
    lost: new Counter({
      name: 'lectern_events_lost_total',
      help: 'Pending entries deleted from the stream (length cap) before the group acknowledged them',
      labelNames: ['stream', 'group'],
      registers,
    }),
    deadLetters: new Gauge({
      name: 'lectern_events_dead_letters',
      help: 'Entries in the dead-letter stream',
      labelNames: ['stream'],
      registers,
    }),
    outboxRelayed: new Counter({
      name: 'lectern_events_outbox_relayed_total',
      help: 'Domain events relayed from the Postgres outbox into the event log',
      labelNames: ['stream'],
      registers,
    }),
    outboxFailures: new Counter({
      name: 'lectern_events_outbox_failures_total',
      help: 'Outbox relay passes that failed; their rows stay in the outbox and are retried',
      labelNames: ['stream'],
      registers,
    }),
  };
  byRegistry.set(registry, metrics);
  return metrics;
}
