import { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { createLogger } from '../log';
import { startConsumer } from './consumer';
import type { EventLog, GroupInfo } from './event-log';
import { InMemoryEventLog } from './memory-log';
import { EventPublisher } from './publisher';
import { RedisStreamsEventLog } from './redis-log';
import { StreamRetention, safeTrimPoint } from './retention';
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

const group = (g: Partial<GroupInfo>): GroupInfo => ({
  name: 'g',
  consumers: 0,
  pending: 0,
  lastDeliveredId: '0-0',
  oldestPendingId: null,
  lag: 0,
  ...g,
});

describe('safeTrimPoint', () => {
  it('keeps everything when no group exists', () => {
    expect(safeTrimPoint([])).toBeNull();
  });

  it('keeps from the oldest pending entry, or from after the last delivered one', () => {
    expect(safeTrimPoint([group({ lastDeliveredId: '10-3' })])).toBe('10-4');
    expect(safeTrimPoint([group({ lastDeliveredId: '10-3', oldestPendingId: '7-0' })])).toBe('7-0');
    expect(safeTrimPoint([group({ lastDeliveredId: '0-0' })])).toBe('0-1');
  });

  it('takes the neediest group', () => {
    expect(
      safeTrimPoint([
        group({ name: 'fast', lastDeliveredId: '900-0' }),
        group({ name: 'slow', lastDeliveredId: '500-0', oldestPendingId: '300-2' }),
        group({ name: 'mid', lastDeliveredId: '600-0' }),
      ]),
    ).toBe('300-2');
  });
});

const keyPrefix = testKeyPrefix('retention');
afterAll(() => deleteKeys(TEST_REDIS_URL, keyPrefix));

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

/** A logger whose lines (parsed) land in `lines`. */
function capturedLogger() {
  const lines: { level: number; msg: string; group?: string; lag?: number | null }[] = [];
  const logger = createLogger('info', { write: (line: string) => void lines.push(JSON.parse(line)) });
  return { logger, lines, warnings: () => lines.filter((l) => l.level === 40) };
}

describe.each(variants)('StreamRetention on the %s', (kind, createLog) => {
  let log: EventLog;
  beforeAll(async () => {
    log = await createLog();
  });
  afterAll(() => log.close());

  const retention = (stream: string, registry = new Registry()) =>
    new StreamRetention({ log, streams: [stream], approximate: false, intervalMs: 3_600_000, registry });

  it('trims only what every group has read and acknowledged', async () => {
    const stream = uniqueName('s');
    await log.createGroup(stream, 'fast');
    await log.createGroup(stream, 'slow');
    const ids = await log.append(stream, chatEvents(100));
    await log.read(stream, 'fast', 'f', { count: 100 });
    await log.ack(stream, 'fast', ids);
    await log.read(stream, 'slow', 'dead', { count: 30 }); // 30 delivered to a consumer that died…
    await log.ack(stream, 'slow', ids.slice(0, 10)); // …after acknowledging 10
    const registry = new Registry();
    const task = retention(stream, registry);

    const [report] = await task.runOnce();
    expect(report).toMatchObject({ stream, minId: ids[10], trimmed: 10 });
    expect((await log.range(stream))[0].id).toBe(ids[10]);
    expect(await metricValue(registry, 'lectern_events_group_lag', { group: 'slow' })).toBe(70);
    expect(await metricValue(registry, 'lectern_events_group_pending', { group: 'slow' })).toBe(20);
    expect(await metricValue(registry, 'lectern_events_group_lag', { group: 'fast' })).toBe(0);

    // Everything the slow group still needs is there: its dead consumer's 20 and the 70 unread.
    const claimed = await log.reclaim(stream, 'slow', 's', { minIdleMs: 0, count: 100 });
    expect(claimed.deleted).toEqual([]);
    expect(claimed.entries.map((e) => e.id)).toEqual(ids.slice(10, 30));
    const unread = await log.read(stream, 'slow', 's', { count: 100 });
    expect(unread.map((e) => e.id)).toEqual(ids.slice(30));

    await log.ack(stream, 'slow', ids);
    const [after] = await task.runOnce();
    expect(after.trimmed).toBe(90);
    expect(await log.length(stream)).toBe(0);
    expect(await metricValue(registry, 'lectern_events_trimmed_total', { stream })).toBe(100);
    await task.close();
    await task.close();
  });

  it('counts dead letters and warns once of a lagging group, then that it caught up', async () => {
    const stream = uniqueName('s');
    await log.createGroup(stream, 'slow');
    await log.createGroup(stream, 'quick');
    const ids = await log.append(stream, chatEvents(30));
    const read = await log.read(stream, 'quick', 'c', { count: 10 });
    await log.deadLetter(stream, 'quick', 'c', [{ entry: read[0], error: 'poison' }]);
    await log.ack(stream, 'quick', ids.slice(1, 10));
    const registry = new Registry();
    const { logger, lines, warnings } = capturedLogger();
    const task = new StreamRetention({
      log,
      streams: [stream],
      intervalMs: 3_600_000,
      registry,
      logger,
      lagWarnThreshold: 25,
    });

    await task.runOnce();
    expect(await metricValue(registry, 'lectern_events_dead_letters', { stream })).toBe(1);
    expect(await metricValue(registry, 'lectern_events_group_lag', { group: 'slow' })).toBe(30);
    expect(await metricValue(registry, 'lectern_events_group_lag', { group: 'quick' })).toBe(20);
    expect(warnings()).toMatchObject([{ group: 'slow', lag: 30 }]);
    await task.runOnce();
    expect(warnings()).toHaveLength(1); // once, not on every pass

    await log.read(stream, 'slow', 'c', { count: 30 });
    await task.runOnce();
    expect(await metricValue(registry, 'lectern_events_group_lag', { group: 'slow' })).toBe(0);
    expect(lines.filter((l) => l.msg.includes('caught up'))).toMatchObject([{ group: 'slow', lag: 0 }]);
    await task.close();
  });

  if (kind === 'Redis log') {
    it('drops the lag series when Redis cannot tell the lag, and when the group is gone', async () => {
      const stream = uniqueName('s');
      await log.createGroup(stream, 'g');
      const ids = await log.append(stream, chatEvents(10));
      const registry = new Registry();
      const { logger, warnings } = capturedLogger();
      const task = new StreamRetention({ log, streams: [stream], intervalMs: 3_600_000, registry, logger });
      await task.runOnce();
      expect(await metricValue(registry, 'lectern_events_group_lag', { group: 'g' })).toBe(10);

      const raw = new Redis(TEST_REDIS_URL);
      try {
        // A group moved into the middle of the stream: Redis reports its lag as unknown (nil).
        await raw.xgroup('SETID', `${keyPrefix}${stream}`, 'g', ids[4]);
        await task.runOnce();
        expect(await metricValue(registry, 'lectern_events_group_lag', { group: 'g' })).toBeUndefined();
        expect(warnings()).toMatchObject([{ group: 'g', lag: null }]);

        await raw.xgroup('DESTROY', `${keyPrefix}${stream}`, 'g');
        await task.runOnce();
        expect(await metricValue(registry, 'lectern_events_group_pending', { group: 'g' })).toBeUndefined();
      } finally {
        raw.disconnect();
        await task.close();
      }
    });
  }

  it('trims nothing from a stream no group reads yet', async () => {
    const stream = uniqueName('s');
    await log.append(stream, chatEvents(20));
    const task = retention(stream);
    expect(await task.runOnce()).toEqual([{ stream, groups: [], minId: null, trimmed: 0 }]);
    expect(await log.length(stream)).toBe(20);
    await task.close();
  });

  it('never takes an entry from under a consumer while publishing, consuming and trimming run together', async () => {
    const stream = uniqueName('s');
    const total = 1_500;
    const seen = new Set<number>();
    let trimmedMeanwhile = 0;
    await log.createGroup(stream, 'g');
    const consumer = startConsumer({
      log,
      stream,
      group: 'g',
      batchSize: 25,
      blockMs: 50,
      claimMinIdleMs: 30_000,
      handler: async (batch) => {
        for (const e of batch) seen.add(seqOf(e.event));
        // A slow handler, so unread and pending entries pile up while trimming runs.
        await new Promise((resolve) => setTimeout(resolve, 2));
      },
    });
    const task = retention(stream);
    let trimming = true;
    const trimmer = (async () => {
      while (trimming) {
        const [report] = await task.runOnce();
        trimmedMeanwhile += report.trimmed;
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    })();
    const publisher = new EventPublisher({ log, stream, batchSize: 50, flushIntervalMs: 2 });
    for (let seq = 1; seq <= total; seq++) {
      publisher.publish(chatEvent(seq));
      if (seq % 100 === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await publisher.close();
    await waitFor(() => seen.size === total, { timeoutMs: 30_000, what: `all ${total} events consumed` });
    trimming = false;
    await trimmer;
    await consumer.close();
    await task.close();
    // Had a trim taken an unread entry, its event would be missing here.
    expect(trimmedMeanwhile).toBeGreaterThan(0);
    expect([...seen].sort((a, b) => a - b)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    expect(consumer.stats.processed).toBe(total);
    // Everything was acknowledged, so the last pass may trim it all.
    const [final] = await retention(stream).runOnce();
    expect(final.groups[0]).toMatchObject({ pending: 0, lag: 0 });
    expect(await log.length(stream)).toBe(0);
  });
});
