import { Registry } from 'prom-client';
import { startConsumer } from './consumer';
import { EventPublisher } from './publisher';
import { RedisStreamsEventLog } from './redis-log';
import { chatEvent, chatEvents, metricValue, PrivateRedis, seqOf, waitFor } from './testing';

/**
 * Redis going away must not take producers down: the publisher buffers (bounded), reports
 * degraded, counts what it cannot hold, and appends the backlog in order once Redis is back.
 * These tests own a redis-server process (no persistence), stop it and start it again.
 */
describe('EventPublisher when Redis goes away', () => {
  let redis: PrivateRedis;
  const closers: (() => Promise<unknown>)[] = [];

  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
    await redis?.stop();
  });

  const setUp = (options: { bufferLimit: number }) => {
    const registry = new Registry();
    const log = new RedisStreamsEventLog({ url: redis.url, commandTimeoutMs: 1_000, reconnectMaxDelayMs: 100 });
    const publisher = new EventPublisher({
      log,
      registry,
      batchSize: 20,
      flushIntervalMs: 5,
      retryMaxMs: 100,
      bufferLimit: options.bufferLimit,
      closeTimeoutMs: 500,
    });
    closers.push(
      () => log.close(),
      () => publisher.close(),
    );
    const metric = (name: string, labels: Record<string, string> = {}) =>
      metricValue(registry, name, { stream: publisher.stream, ...labels });
    return { log, publisher, metric };
  };

  it('buffers while Redis is down, reports degraded, counts drops, then appends the backlog in order', async () => {
    redis = await PrivateRedis.start();
    const { log, publisher, metric } = setUp({ bufferLimit: 250 });
    expect(await log.ready()).toBe(true);

    for (let seq = 1; seq <= 100; seq++) publisher.publish(chatEvent(seq));
    await waitFor(() => publisher.health().appended === 100, { what: 'the first 100 appended' });
    expect(publisher.health().status).toBe('ok');

    await redis.stop();
    // The gateway keeps publishing; nothing throws, nothing waits.
    const accepted: boolean[] = [];
    for (let seq = 101; seq <= 300; seq++) accepted.push(publisher.publish(chatEvent(seq)));
    await waitFor(() => publisher.health().status === 'degraded', { what: 'degraded' });
    expect(accepted.every(Boolean)).toBe(true);
    expect(publisher.buffered).toBe(200);
    expect(await metric('lectern_events_publisher_degraded')).toBe(1);
    expect(await metric('lectern_events_buffered')).toBe(200);
    expect(publisher.health().lastError).toEqual(expect.any(String));

    // Beyond the bound: refused and counted, never silently lost.
    for (let seq = 301; seq <= 400; seq++) accepted.push(publisher.publish(chatEvent(seq)));
    expect(accepted.filter((ok) => !ok)).toHaveLength(50);
    expect(publisher.buffered).toBe(250);
    expect(publisher.health()).toMatchObject({ dropped: 50, droppedByReason: { buffer_full: 50 } });
    expect(await metric('lectern_events_dropped_total', { reason: 'buffer_full' })).toBe(50);

    // A fresh server (no persistence): it holds exactly what was appended after it came back.
    await redis.start();
    await waitFor(() => publisher.buffered === 0 && publisher.health().status === 'ok', {
      timeoutMs: 20_000,
      what: 'the backlog to be appended',
    });
    const stored = await log.range(publisher.stream);
    expect(stored.map((e) => seqOf(e.event))).toEqual(Array.from({ length: 250 }, (_, i) => 101 + i));
    expect(await metric('lectern_events_publisher_degraded')).toBe(0);
    expect(await metric('lectern_events_buffered')).toBe(0);
    expect(await metric('lectern_events_appended_total')).toBe(350);
    expect(publisher.health()).toMatchObject({ appended: 350, dropped: 50, degradedSince: null });
  });

  it('starts with Redis unreachable and catches up once it appears', async () => {
    redis = await PrivateRedis.reserve();
    const { log, publisher } = setUp({ bufferLimit: 1_000 });
    expect(log.status()).toBe('down');
    for (let seq = 1; seq <= 30; seq++) publisher.publish(chatEvent(seq));
    await waitFor(() => publisher.health().status === 'degraded', { what: 'degraded' });
    expect(publisher.buffered).toBe(30);
    await redis.start();
    await waitFor(() => publisher.buffered === 0, { timeoutMs: 20_000, what: 'the backlog to be appended' });
    expect((await log.range(publisher.stream)).map((e) => seqOf(e.event))).toEqual(
      Array.from({ length: 30 }, (_, i) => i + 1),
    );
    expect(publisher.health().status).toBe('ok');
  });

  it('close() gives up after closeTimeoutMs and counts what it could not append', async () => {
    redis = await PrivateRedis.start();
    const { log, publisher, metric } = setUp({ bufferLimit: 1_000 });
    expect(await log.ready()).toBe(true);
    await redis.stop();
    for (let seq = 1; seq <= 10; seq++) publisher.publish(chatEvent(seq));
    await publisher.close();
    expect(publisher.health()).toMatchObject({ status: 'closed', buffered: 0, droppedByReason: { shutdown: 10 } });
    expect(await metric('lectern_events_dropped_total', { reason: 'shutdown' })).toBe(10);
    expect(await metric('lectern_events_publisher_degraded')).toBe(0);
  });
});

describe('Consumer when Redis goes away', () => {
  let redis: PrivateRedis | undefined;
  afterEach(() => redis?.stop());

  it('keeps running through a restart and carries on (recreating its group on the empty server)', async () => {
    redis = await PrivateRedis.start();
    const log = new RedisStreamsEventLog({ url: redis.url, commandTimeoutMs: 1_000, reconnectMaxDelayMs: 100 });
    expect(await log.ready()).toBe(true);
    const handled: number[] = [];
    const consumer = startConsumer({
      log,
      group: 'g',
      blockMs: 100,
      errorBackoffMs: 20,
      errorBackoffMaxMs: 100,
      handler: async (batch) => void handled.push(...batch.map((e) => seqOf(e.event))),
    });
    try {
      await log.append('engagement', chatEvents(10, 1));
      await waitFor(() => handled.length === 10, { what: 'the first 10' });

      await redis.stop();
      await waitFor(() => log.status() === 'down', { what: 'the log to notice' });
      await new Promise((resolve) => setTimeout(resolve, 300)); // the consumer meets errors meanwhile

      await redis.start();
      expect(await log.ready(10_000)).toBe(true);
      await log.append('engagement', chatEvents(5, 11));
      await waitFor(() => handled.length === 15, { timeoutMs: 20_000, what: 'the 5 appended after the restart' });
      expect(handled).toEqual(Array.from({ length: 15 }, (_, i) => i + 1));
    } finally {
      await consumer.close();
      await log.close();
    }
  });
});
