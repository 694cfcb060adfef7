/**
 * Throughput of the event pipeline against a real Redis (not part of the test suite):
 *
 *   npx tsx server/events/publisher.bench.ts [redis-url] [events]
 *
 * 1. the hot path: `newEvent` (validation) + `publish`, synchronous calls per second;
 * 2. end to end: publish a burst and wait until Redis confirmed every append (events/s, and the
 *    average batch per round trip), after a warm-up burst so the JIT has settled;
 * 3. a consumer group draining the stream (read + handler + ack, events/s).
 * It works under a key prefix of its own and deletes it afterwards.
 */
import { randomUUID } from 'node:crypto';
import { Registry } from 'prom-client';
import { startConsumer } from './consumer';
import { EventPublisher } from './publisher';
import { RedisStreamsEventLog } from './redis-log';
import { deleteKeys, metricValue, TEST_REDIS_URL, testKeyPrefix, waitFor } from './testing';
import { type EngagementEvent, newEvent } from './types';

async function main(): Promise<void> {
  const url = process.argv[2] ?? TEST_REDIS_URL;
  const total = Number(process.argv[3] ?? 200_000);
  const keyPrefix = testKeyPrefix('bench');
  const log = new RedisStreamsEventLog({ url, keyPrefix });
  if (!(await log.ready())) throw new Error(`no Redis at ${url}`);
  const registry = new Registry();
  const publisher = new EventPublisher({ log, registry, bufferLimit: total });
  const roomId = randomUUID();
  const users = Array.from({ length: 1000 }, () => randomUUID());
  const chat = (i: number): EngagementEvent =>
    newEvent('chat.sent', { roomId, userId: users[i % users.length], data: { messageId: randomUUID(), length: 40 } });

  try {
    // Warm-up: the same path, not measured.
    for (let i = 0; i < 20_000; i++) publisher.publish(chat(i));
    await waitFor(() => publisher.buffered === 0, { timeoutMs: 60_000, intervalMs: 5 });
    const warmBatches = (await metricValue(registry, 'lectern_events_append_batches_total')) ?? 0;

    // 1. The hot path, measured alone: build + publish, no awaiting.
    const t0 = performance.now();
    const events: EngagementEvent[] = [];
    for (let i = 0; i < total; i++) events.push(chat(i));
    const built = performance.now();
    for (const e of events) publisher.publish(e);
    const published = performance.now();
    console.log(
      `hot path: newEvent ${rate(total, built - t0)} events/s, publish ${rate(total, published - built)} calls/s ` +
        `(${(((published - built) * 1000) / total).toFixed(2)} µs per call)`,
    );

    // 2. End to end: until Redis has confirmed every append.
    await waitFor(() => publisher.buffered === 0, { timeoutMs: 300_000, intervalMs: 5 });
    const appended = performance.now();
    const batches = ((await metricValue(registry, 'lectern_events_append_batches_total')) ?? 0) - warmBatches;
    console.log(
      `append: ${total} events in ${(appended - built).toFixed(0)} ms from the first publish = ` +
        `${rate(total, appended - built)} events/s, ${batches} round trips (avg ${(total / batches).toFixed(0)} per batch)`,
    );

    // 3. One consumer draining the stream.
    let consumed = 0;
    const c0 = performance.now();
    const consumer = startConsumer({
      log,
      group: 'bench',
      batchSize: 500,
      blockMs: 100,
      handler: async (batch) => {
        consumed += batch.length;
      },
    });
    await waitFor(() => consumed >= total, { timeoutMs: 300_000, intervalMs: 5 });
    console.log(`consume: ${rate(total, performance.now() - c0)} events/s (read 500 + handler + XACK)`);
    await consumer.close();
  } finally {
    await publisher.close();
    await log.close();
    await deleteKeys(url, keyPrefix);
  }
}

const rate = (n: number, ms: number) => Math.round((n / ms) * 1000).toLocaleString('en-US');

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
