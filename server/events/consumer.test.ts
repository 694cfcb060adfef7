import { spawn } from 'node:child_process';
import path from 'node:path';
import { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { type Consumer, type ConsumerOptions, startConsumer } from './consumer';
import type { EventLog, LogEntry } from './event-log';
import { InMemoryEventLog } from './memory-log';
import { RedisStreamsEventLog } from './redis-log';
import { onceEach, seenOptionsFor } from './seen-events';
import {
  chatEvents,
  deleteKeys,
  metricValue,
  seqOf,
  TEST_REDIS_URL,
  testKeyPrefix,
  uniqueName,
  waitFor,
} from './testing';

const keyPrefix = testKeyPrefix('consumer');

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

describe.each(variants)('Consumer on the %s', (kind, createLog) => {
  let log: EventLog;
  const consumers: Consumer[] = [];
  beforeAll(async () => {
    log = await createLog();
  });
  afterEach(async () => {
    await Promise.all(consumers.splice(0).map((c) => c.close()));
  });
  afterAll(() => log.close());

  /** Fast timings so retries and reclaims happen within a test. */
  const start = (options: Omit<ConsumerOptions, 'log'>) => {
    const consumer = startConsumer({
      log,
      blockMs: 100,
      claimMinIdleMs: 100,
      reclaimIntervalMs: 30,
      errorBackoffMs: 20,
      ...options,
    });
    consumers.push(consumer);
    return consumer;
  };

  it('hands every entry to the handler once and acknowledges it; leaves the group when closed', async () => {
    const stream = uniqueName('s');
    await log.append(stream, chatEvents(50));
    const seen: number[] = [];
    const consumer = start({
      stream,
      group: 'g',
      batchSize: 20,
      handler: async (batch) => {
        seen.push(...batch.map((e) => seqOf(e.event)));
      },
    });
    await waitFor(() => seen.length === 50, { what: '50 events handled' });
    await waitFor(async () => (await log.pending(stream, 'g')).count === 0, { what: 'acks' });
    expect(seen).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    await consumer.close();
    await consumer.close();
    expect(consumer.stats).toMatchObject({ processed: 50, failed: 0, deadLettered: 0 });
    expect((await log.groups(stream))[0].consumers).toBe(0);
  });

  it('takes over the pending entries of a consumer that died and finishes them', async () => {
    const stream = uniqueName('s');
    await log.createGroup(stream, 'g');
    const ids = await log.append(stream, chatEvents(10));
    // What a consumer killed mid-batch leaves behind: entries delivered to it, never acknowledged.
    await log.read(stream, 'g', 'killed', { count: 6 });
    const handled: LogEntry[] = [];
    start({ stream, group: 'g', handler: async (batch) => void handled.push(...batch) });
    await waitFor(async () => (await log.pending(stream, 'g')).count === 0 && handled.length >= 10, {
      what: 'all entries finished',
    });
    expect(handled.map((e) => e.id).sort()).toEqual([...ids].sort());
    const reclaimed = handled.filter((e) => e.deliveries === 2).map((e) => e.id);
    expect(reclaimed.sort()).toEqual(ids.slice(0, 6).sort());
  });

  it('looks for idle entries as often as its claimMinIdleMs asks, not every 15 s', async () => {
    const stream = uniqueName('s');
    await log.createGroup(stream, 'g');
    const ids = await log.append(stream, chatEvents(3));
    await log.read(stream, 'g', 'killed', { count: 3 });
    const handled: LogEntry[] = [];
    start({
      stream,
      group: 'g',
      claimMinIdleMs: 300,
      reclaimIntervalMs: undefined,
      handler: async (batch) => void handled.push(...batch),
    });
    await waitFor(() => handled.length === 3, { what: 'the idle entries claimed', timeoutMs: 3000 });
    expect(handled.map((e) => e.id).sort()).toEqual([...ids].sort());
  });

  it('moves a poison entry to the dead-letter stream with its error and lets the rest through', async () => {
    const stream = uniqueName('s');
    await log.append(stream, chatEvents(10));
    const handled: number[] = [];
    let attemptsOnPoison = 0;
    const registry = new Registry();
    const consumer = start({
      stream,
      group: 'g',
      maxDeliveries: 3,
      registry,
      handler: async (batch) => {
        if (batch.some((e) => seqOf(e.event) === 4)) {
          attemptsOnPoison++;
          throw new Error('cannot handle seq 4');
        }
        handled.push(...batch.map((e) => seqOf(e.event)));
      },
    });
    const dead = await waitFor(
      async () => {
        const letters = await log.deadLetters(stream);
        return letters.length > 0 && letters;
      },
      { what: 'a dead letter' },
    );
    await waitFor(async () => (await log.pending(stream, 'g')).count === 0, { what: 'nothing pending' });
    expect(dead).toHaveLength(1);
    expect(seqOf(dead[0].event)).toBe(4);
    expect(dead[0]).toMatchObject({ group: 'g', consumer: consumer.name, deliveries: 3, error: 'cannot handle seq 4' });
    expect(handled.sort((a, b) => a - b)).toEqual([1, 2, 3, 5, 6, 7, 8, 9, 10]);
    expect(consumer.stats).toMatchObject({ processed: 9, deadLettered: 1, failed: 3 });
    // The batch attempt plus one attempt per delivery: three deliveries, never a fourth.
    expect(attemptsOnPoison).toBe(4);
    const metrics = await registry.getMetricsAsJSON();
    const value = (name: string) => metrics.find((m) => m.name === name)?.values[0]?.value;
    expect(value('lectern_events_consumer_dead_lettered_total')).toBe(1);
    expect(value('lectern_events_consumer_processed_total')).toBe(9);
    expect(value('lectern_events_consumer_failed_total')).toBe(3);
  });

  it('dead-letters, without running it, an entry whose consumers keep dying on it', async () => {
    const stream = uniqueName('s');
    await log.createGroup(stream, 'g');
    await log.append(stream, chatEvents(2));
    await log.read(stream, 'g', 'killed', { count: 1 }); // delivery 1, then the process died
    const handled: number[] = [];
    start({
      stream,
      group: 'g',
      maxDeliveries: 1,
      handler: async (batch) => void handled.push(...batch.map((e) => seqOf(e.event))),
    });
    const [letter] = await waitFor(async () => {
      const letters = await log.deadLetters(stream);
      return letters.length > 0 && letters;
    });
    expect(seqOf(letter.event)).toBe(1);
    expect(letter.deliveries).toBe(2);
    expect(letter.error).toMatch(/delivered 2 times without being acknowledged/);
    expect(handled).toEqual([2]);
  });

  it('counts each event once through onceEach, however often it is delivered', async () => {
    const stream = uniqueName('s');
    const events = chatEvents(20);
    await log.append(stream, events);
    await log.append(stream, events.slice(0, 3)); // a retried append landed twice
    const counted = new Map<string, number>();
    const seen = log.seenEvents(uniqueName('analytics'));
    const countOnce = onceEach(seen, async (event) => {
      counted.set(event.id, (counted.get(event.id) ?? 0) + 1);
    });
    let redeliveries = 0;
    start({
      stream,
      group: 'g',
      handler: async (batch) => {
        await countOnce(batch);
        // The effects are done but the acknowledgement is "lost" on every first delivery, so
        // each entry comes back (by reclaim) and meets the events it already counted.
        if (batch.some((e) => e.deliveries === 1)) throw new Error('lost before ack');
        redeliveries += batch.length;
      },
    });
    await waitFor(async () => (await log.pending(stream, 'g')).count === 0 && redeliveries >= 23, {
      what: 'every entry redelivered and acknowledged',
    });
    expect(counted.size).toBe(20);
    expect([...counted.values()].every((n) => n === 1)).toBe(true);
  });

  it('finishes, without dead-lettering, what a consumer stopped mid-batch left claimed in onceEach', async () => {
    const stream = uniqueName('s');
    const ns = uniqueName('ns');
    const claimMinIdleMs = 300;
    await log.createGroup(stream, 'g');
    const ids = await log.append(stream, chatEvents(6));
    // What a consumer stopped abruptly leaves behind: entries delivered to it whose events its
    // onceEach claimed, never committed nor released.
    const taken = await log.read(stream, 'g', 'stopped', { count: 4 });
    await log.seenEvents(ns, seenOptionsFor(claimMinIdleMs)).begin(taken.map((e) => e.event!.id));

    const counted = new Map<string, number>();
    const survivor = start({
      stream,
      group: 'g',
      claimMinIdleMs,
      reclaimIntervalMs: 50,
      maxDeliveries: 2,
      handler: onceEach(log.seenEvents(ns, seenOptionsFor(claimMinIdleMs)), async (event) => {
        counted.set(event.id, (counted.get(event.id) ?? 0) + 1);
      }),
    });
    await waitFor(async () => (await log.pending(stream, 'g')).count === 0 && counted.size === 6, {
      what: 'the survivor to finish the stopped consumer’s entries',
    });
    expect([...counted.values()]).toEqual([1, 1, 1, 1, 1, 1]);
    expect(await log.deadLetters(stream)).toEqual([]);
    expect(survivor.stats).toMatchObject({ processed: ids.length, failed: 0, deadLettered: 0 });
  });

  it('never fails nor dead-letters an entry whose event another handler is still working on', async () => {
    const stream = uniqueName('s');
    const ns = uniqueName('ns');
    const events = chatEvents(3);
    // The same event twice (a retried append): one copy is in the hands of a live handler.
    await log.append(stream, [...events, events[1]]);
    const holder = log.seenEvents(ns, { leaseMs: 60_000 });
    expect(await holder.begin([events[1].id])).toEqual(['new']);

    const counted: number[] = [];
    const registry = new Registry();
    const consumer = start({
      stream,
      group: 'g',
      maxDeliveries: 2,
      registry,
      handler: onceEach(log.seenEvents(ns), async (event) => void counted.push(seqOf(event))),
    });
    // Busy, it stays pending and is claimed again and again, well past maxDeliveries…
    await waitFor(async () => (await log.pendingEntries(stream, 'g', { count: 10 })).some((p) => p.deliveries >= 4), {
      what: 'the busy entry to be redelivered',
    });
    expect(await log.deadLetters(stream)).toEqual([]);
    // …until the holder finishes: then it is skipped as done and acknowledged.
    await holder.commit([events[1].id]);
    await waitFor(async () => (await log.pending(stream, 'g')).count === 0, { what: 'nothing pending' });
    expect(counted.sort()).toEqual([1, 3]);
    expect(await log.deadLetters(stream)).toEqual([]);
    expect(consumer.stats).toMatchObject({ processed: 4, failed: 0, deadLettered: 0 });
    expect(await metricValue(registry, 'lectern_events_consumer_failed_total')).toBeUndefined();
  });

  it('counts pending entries deleted from the stream before they were acknowledged as lost', async () => {
    const stream = uniqueName('s');
    await log.createGroup(stream, 'g');
    await log.append(stream, chatEvents(10));
    await log.read(stream, 'g', 'killed', { count: 4 });
    await log.trim(stream, { maxLength: 7, approximate: false }); // the cap took 3 of them
    const registry = new Registry();
    const handled: number[] = [];
    const consumer = start({
      stream,
      group: 'g',
      registry,
      handler: async (batch) => void handled.push(...batch.map((e) => seqOf(e.event))),
    });
    await waitFor(async () => (await log.pending(stream, 'g')).count === 0 && handled.length === 7, {
      what: 'the rest handled',
    });
    expect(consumer.stats.lost).toBe(3);
    expect(await metricValue(registry, 'lectern_events_lost_total', { stream, group: 'g' })).toBe(3);
  });

  it('close() waits for the batch in flight, which is then acknowledged', async () => {
    const stream = uniqueName('s');
    await log.append(stream, chatEvents(3));
    let entered = false;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let finished = false;
    const consumer = start({
      stream,
      group: 'g',
      handler: async () => {
        entered = true;
        await gate;
        finished = true;
      },
    });
    await waitFor(() => entered, { what: 'handler entered' });
    let closed = false;
    const closing = consumer.close().then(() => {
      closed = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(closed).toBe(false);
    release();
    await closing;
    expect(finished).toBe(true);
    expect((await log.pending(stream, 'g')).count).toBe(0);
    expect(consumer.stats.processed).toBe(3);
  });

  if (kind === 'Redis log') {
    it('dead-letters an entry that is not a valid event instead of retrying it', async () => {
      const stream = uniqueName('s');
      const raw = new Redis(TEST_REDIS_URL);
      try {
        await raw.xadd(`${keyPrefix}${stream}`, '*', 'event', '{"type":"made-up"}');
        await raw.xadd(`${keyPrefix}${stream}`, '*', 'other', 'x');
      } finally {
        raw.disconnect();
      }
      await log.append(stream, chatEvents(1));
      const handled: number[] = [];
      start({ stream, group: 'g', handler: async (b) => void handled.push(...b.map((e) => seqOf(e.event))) });
      const letters = await waitFor(async () => {
        const l = await log.deadLetters(stream);
        return l.length === 2 && l;
      });
      expect(letters[0].error).toMatch(/^undecodable entry: invalid engagement event/);
      expect(letters[0].payload).toBe('{"type":"made-up"}');
      expect(letters[1].error).toMatch(/undecodable entry: entry has no event field/);
      await waitFor(() => handled.length === 1);
    });

    it('takes over from a consumer process that was killed mid-batch', async () => {
      const stream = uniqueName('s');
      const ids = await log.append(stream, chatEvents(8));
      // A real consumer in its own process, killed (SIGKILL) while its handler holds a batch.
      const script = `
        const { RedisStreamsEventLog, startConsumer } = require(${JSON.stringify(path.join(__dirname, 'index.ts'))});
        const log = new RedisStreamsEventLog({ url: ${JSON.stringify(TEST_REDIS_URL)}, keyPrefix: ${JSON.stringify(keyPrefix)} });
        startConsumer({ log, stream: ${JSON.stringify(stream)}, group: 'g', consumer: 'doomed', batchSize: 5,
          handler: async (batch) => { process.stdout.write('holding ' + batch.length + '\\n'); await new Promise(() => {}); } });`;
      await killWhenItSays(script, 'holding 5');
      const left = await log.pending(stream, 'g');
      expect(left.consumers).toEqual([{ name: 'doomed', pending: 5 }]);

      const handled: LogEntry[] = [];
      start({ stream, group: 'g', handler: async (batch) => void handled.push(...batch) });
      await waitFor(async () => (await log.pending(stream, 'g')).count === 0 && handled.length >= 8, {
        what: 'the survivor to finish everything',
      });
      expect(handled.map((e) => e.id).sort()).toEqual([...ids].sort());
      expect(handled.filter((e) => e.deliveries === 2)).toHaveLength(5);
    });

    it('finishes the entries a killed process had claimed in onceEach, none dead-lettered', async () => {
      const stream = uniqueName('s');
      const ns = uniqueName('ns');
      const claimMinIdleMs = 400;
      const ids = await log.append(stream, chatEvents(8));
      // A real consumer process using onceEach (with the production lease rule), killed while its
      // handler is inside a batch whose events it has claimed.
      const script = `
        const { RedisStreamsEventLog, startConsumer, onceEach, seenOptionsFor } = require(${JSON.stringify(path.join(__dirname, 'index.ts'))});
        const log = new RedisStreamsEventLog({ url: ${JSON.stringify(TEST_REDIS_URL)}, keyPrefix: ${JSON.stringify(keyPrefix)} });
        const seen = log.seenEvents(${JSON.stringify(ns)}, seenOptionsFor(${claimMinIdleMs}));
        startConsumer({ log, stream: ${JSON.stringify(stream)}, group: 'g', consumer: 'doomed', batchSize: 5,
          claimMinIdleMs: ${claimMinIdleMs},
          handler: onceEach(seen, async () => { console.log('hold' + 'ing'); await new Promise(() => {}); }) });`;
      await killWhenItSays(script, 'holding');
      expect((await log.pending(stream, 'g')).consumers).toEqual([{ name: 'doomed', pending: 5 }]);

      const counted = new Map<string, number>();
      const survivor = start({
        stream,
        group: 'g',
        claimMinIdleMs,
        reclaimIntervalMs: 50,
        maxDeliveries: 2,
        handler: onceEach(log.seenEvents(ns, seenOptionsFor(claimMinIdleMs)), async (event) => {
          counted.set(event.id, (counted.get(event.id) ?? 0) + 1);
        }),
      });
      await waitFor(async () => (await log.pending(stream, 'g')).count === 0 && counted.size === 8, {
        what: 'the survivor to finish everything',
      });
      expect([...counted.values()].every((n) => n === 1)).toBe(true);
      expect(await log.deadLetters(stream)).toEqual([]);
      expect(survivor.stats).toMatchObject({ processed: ids.length, failed: 0, deadLettered: 0 });
    });
  }
});

/** Runs `script` in a child Node process and kills it (SIGKILL) as soon as it prints `text`. */
async function killWhenItSays(script: string, text: string): Promise<void> {
  const child = spawn(process.execPath, ['--import', 'tsx', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  let output = '';
  const collect = (d: Buffer) => {
    output += d;
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  try {
    await waitFor(() => output.includes(text), { timeoutMs: 30_000, what: `child consumer: ${output}` });
  } finally {
    child.kill('SIGKILL');
    await exited;
  }
}
