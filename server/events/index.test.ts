import { Registry } from 'prom-client';
import { createEvents, ENGAGEMENT_STREAM, type EventsOptions, type LogEntry, onceEach } from '.';
import { chatEvents, deleteKeys, metricValue, seqOf, TEST_REDIS_URL, testKeyPrefix, waitFor } from './testing';

const keyPrefix = testKeyPrefix('index');
afterAll(() => deleteKeys(TEST_REDIS_URL, keyPrefix));

describe.each<[string, EventsOptions]>([
  ['embedded (in-process log)', {}],
  ['production (Redis)', { redisUrl: TEST_REDIS_URL, redis: { keyPrefix } }],
])('createEvents, %s', (_mode, options) => {
  it('publishes, consumes idempotently, reports health and metrics, and closes everything', async () => {
    const registry = new Registry();
    const events = createEvents({ ...options, registry, publisher: { flushIntervalMs: 5 } });
    const counted: number[] = [];
    const seen = events.seenEvents('analytics');
    const consumer = events.consume({
      group: 'analytics',
      blockMs: 100,
      handler: onceEach<LogEntry>(seen, async (event) => void counted.push(seqOf(event))),
    });
    for (const event of chatEvents(40)) events.publish(event);
    await waitFor(() => counted.length === 40, { what: '40 events consumed' });
    expect(counted).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    expect(events.health()).toMatchObject({ status: 'ok', log: 'up', appended: 40, dropped: 0 });
    expect(await metricValue(registry, 'lectern_events_appended_total', { stream: ENGAGEMENT_STREAM })).toBe(40);
    await waitFor(async () => (await metricValue(registry, 'lectern_events_consumer_processed_total')) === 40);
    expect(consumer.stream).toBe(ENGAGEMENT_STREAM);
    await events.close();
    await events.close();
    expect(events.log.status()).toBe('closed');
    expect(events.health().status).toBe('closed');
  });
});
