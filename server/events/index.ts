import type { Registry } from 'prom-client';
import type { Logger } from '../log';
import { type Consumer, type ConsumerOptions, startConsumer } from './consumer';
import type { EventLog, SeenEvents, SeenEventsOptions } from './event-log';
import { InMemoryEventLog, type InMemoryEventLogOptions } from './memory-log';
import { EventPublisher, type EventPublisherOptions, type PublisherHealth } from './publisher';
import { type RedisEventLogOptions, RedisStreamsEventLog } from './redis-log';
import { type RetentionOptions, StreamRetention } from './retention';
import type { EngagementEvent } from './types';

/**
 * The engagement event log subsystem: producers publish events, consumer groups process them
 * at least once. With a Redis URL it runs on Redis Streams; without, on the in-process log of the
 * embedded single-node mode. See `event-log.ts` for the port and `retention.ts` for the
 * retention rule.
 */

export { type BatchHandler, Consumer, type ConsumerOptions, type ConsumerStats, startConsumer } from './consumer';
export { engagementEventOf } from './domain-bridge';
export * from './event-log';
export { InMemoryEventLog, type InMemoryEventLogOptions } from './memory-log';
export { type EventMetrics, eventMetrics } from './metrics';
export {
  OUTBOX_TOPICS,
  type OutboxMessage,
  OutboxRelay,
  type OutboxRelayOptions,
  type OutboxSideWrite,
  type OutboxTopic,
  stageDomainEvent,
} from './outbox';
export { type DropReason, EventPublisher, type EventPublisherOptions, type PublisherHealth } from './publisher';
export { type RedisEventLogOptions, RedisStreamsEventLog } from './redis-log';
export { type RetentionOptions, type RetentionReport, StreamRetention, safeTrimPoint } from './retention';
export { EventBusyError, onceEach, SEEN_DEFAULTS, seenOptionsFor } from './seen-events';
export * from './types';

/** The stream engagement events go to. */
export const ENGAGEMENT_STREAM = 'engagement';

export interface EventsOptions {
  /** Redis URL; unset: the in-process log (single node). */
  redisUrl?: string;
  /** Options of the Redis log (`redis-log.ts`), when `redisUrl` is set. */
  redis?: Omit<RedisEventLogOptions, 'url' | 'logger'>;
  /** Options of the in-process log (`memory-log.ts`), when it is not. */
  memory?: InMemoryEventLogOptions;
  /** Options of the engagement publisher (`publisher.ts`). */
  publisher?: Omit<EventPublisherOptions, 'log' | 'stream' | 'registry' | 'logger'>;
  /** Options of the retention task (`retention.ts`). */
  retention?: Omit<RetentionOptions, 'log' | 'streams' | 'registry' | 'logger'>;
  /** Metrics registry (`lectern_events_*`). */
  registry?: Registry;
  logger?: Logger;
}

export interface Events {
  readonly log: EventLog;
  readonly publisher: EventPublisher;
  /** Hot path: buffers the event for appending, returns at once (see `EventPublisher.publish`). */
  publish(event: EngagementEvent): boolean;
  /** Starts a consumer of the engagement stream (or `options.stream`); closed with the subsystem. */
  consume(options: Omit<ConsumerOptions, 'log' | 'registry' | 'logger'>): Consumer;
  /** A seen-ids store for idempotent handlers, shared by every consumer using `namespace`. */
  seenEvents(namespace: string, options?: SeenEventsOptions): SeenEvents;
  health(): PublisherHealth;
  /** Stops consumers (in-flight batches finish), flushes the publisher, stops retention, closes the log. */
  close(): Promise<void>;
}

export function createEventLog(options: Pick<EventsOptions, 'redisUrl' | 'redis' | 'memory' | 'logger'>): EventLog {
  return options.redisUrl
    ? new RedisStreamsEventLog({ ...options.redis, url: options.redisUrl, logger: options.logger })
    : new InMemoryEventLog(options.memory);
}

/** The subsystem's factory: the log, the engagement publisher and retention, ready to use. */
export function createEvents(options: EventsOptions = {}): Events {
  const log = createEventLog(options);
  const shared = { registry: options.registry, logger: options.logger };
  const publisher = new EventPublisher({ ...options.publisher, ...shared, log, stream: ENGAGEMENT_STREAM });
  const retention = new StreamRetention({ ...options.retention, ...shared, log, streams: [ENGAGEMENT_STREAM] });
  const consumers = new Set<Consumer>();
  let closing: Promise<void> | undefined;
  return {
    log,
    publisher,
    publish: (event) => publisher.publish(event),
    consume(consumerOptions) {
      const consumer = startConsumer({ stream: ENGAGEMENT_STREAM, ...consumerOptions, ...shared, log });
      consumers.add(consumer);
      return consumer;
    },
    seenEvents: (namespace, seenOptions) => log.seenEvents(namespace, seenOptions),
    health: () => publisher.health(),
    close() {
      closing ??= (async () => {
        await Promise.all([...consumers].map((c) => c.close()));
        await publisher.close();
        await retention.close();
        await log.close();
      })();
      return closing;
    },
  };
}
