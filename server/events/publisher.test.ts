import { Registry } from 'prom-client';
import type { EventLog } from './event-log';
import { InMemoryEventLog } from './memory-log';
import { EventPublisher, type EventPublisherOptions } from './publisher';
import { RedisStreamsEventLog } from './redis-log';
import {
  chatEvent,
  chatEvents,
  deleteKeys,
  metricValue,
  seqOf,
  TEST_REDIS_URL,
  testKeyPrefix,
  uniqueName,
  waitFor,
} from './testing';
import { InvalidEventError } from './types';

const keyPrefix = testKeyPrefix('publisher');

const variants: [string, () => Promise<EventLog>][] = [
  ['in-memory log', async () => new InMemoryEventLog()],
  [
    'Redis log',
    async () => {
      const log = new RedisStreamsEventLog({ url: TEST_REDIS_URL, keyPrefix });
      if (!(await log.ready())) throw new Error(`no Redis at ${TEST_REDIS_URL}`);
      return log;
    },
  ],
];

afterAll(() => deleteKeys(TEST_REDIS_URL, keyPrefix));

describe.each(variants)('EventPublisher on the %s', (_kind, createLog) => {
  let log: EventLog;
  const publishers: EventPublisher[] = [];
  beforeAll(async () => {
    log = await createLog();
  });
  afterEach(async () => {
    await Promise.all(publishers.splice(0).map((p) => p.close()));
  });
  afterAll(() => log.close());

  const publisher = (options: Omit<EventPublisherOptions, 'log'> = {}) => {
    const p = new EventPublisher({ log, stream: uniqueName('s'), ...options });
    publishers.push(p);
    return p;
  };

  it('batches a burst into a few pipelined appends and keeps publish order', async () => {
    const registry = new Registry();
    const p = publisher({ batchSize: 100, flushIntervalMs: 60_000, registry });
    const events = chatEvents(1000);
    // The hot path: synchronous calls, no awaiting.
    expect(events.map((e) => p.publish(e))).toEqual(events.map(() => true));
    expect(p.buffered).toBe(1000);
    await waitFor(() => p.buffered === 0, { what: 'the burst to be appended' });
    const stored = await log.range(p.stream);
    expect(stored.map((e) => seqOf(e.event))).toEqual(events.map((e) => seqOf(e)));
    const labels = { stream: p.stream };
    expect(await metricValue(registry, 'lectern_events_appended_total', labels)).toBe(1000);
    expect(await metricValue(registry, 'lectern_events_append_batches_total', labels)).toBeLessThanOrEqual(10);
    expect(await metricValue(registry, 'lectern_events_buffered', labels)).toBe(0);
    expect(p.health()).toMatchObject({ status: 'ok', appended: 1000, buffered: 0, dropped: 0 });
  });

  it('appends a partial batch after flushIntervalMs', async () => {
    const p = publisher({ batchSize: 1000, flushIntervalMs: 10 });
    for (let i = 1; i <= 5; i++) p.publish(chatEvent(i));
    await waitFor(async () => (await log.length(p.stream)) === 5, { what: 'the timed flush' });
    expect(p.buffered).toBe(0);
  });

  it('throws on an invalid event without buffering it', () => {
    const p = publisher();
    const bad = { ...chatEvent(), userId: undefined };
    expect(() => p.publish(bad as never)).toThrow(InvalidEventError);
    expect(() => p.publish({ ...chatEvent(), extra: 1 } as never)).toThrow(/Unrecognized key/);
    expect(p.buffered).toBe(0);
  });

  it('flush() appends what is buffered now; close() flushes, then counts later events as dropped', async () => {
    const registry = new Registry();
    const p = publisher({ batchSize: 1000, flushIntervalMs: 60_000, registry });
    p.publish(chatEvent(1));
    p.publish(chatEvent(2));
    expect(await p.flush()).toBe(true);
    expect(await log.length(p.stream)).toBe(2);
    p.publish(chatEvent(3));
    await p.close();
    await p.close();
    expect(await log.length(p.stream)).toBe(3);
    expect(p.publish(chatEvent(4))).toBe(false);
    expect(p.health()).toMatchObject({ status: 'closed', dropped: 1, droppedByReason: { closed: 1 } });
    expect(await metricValue(registry, 'lectern_events_dropped_total', { reason: 'closed' })).toBe(1);
  });
});
