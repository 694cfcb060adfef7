import { randomUUID } from 'node:crypto';
import { type EventLog, EventLogClosedError, NoGroupError } from './event-log';
import { compareStreamIds } from './stream-id';
import { chatEvent, chatEvents, seqOf, uniqueName, waitFor } from './testing';
import { InvalidEventError } from './types';

/**
 * The behaviour every `EventLog` must have, run against each implementation
 * (`memory-log.test.ts`, `redis-log.test.ts`). Each test works on streams of its own.
 */
export interface EventLogHarness {
  /** A new log; the harness closes it and removes what it stored in `cleanup`. */
  create(options?: { maxLength?: number }): Promise<EventLog>;
  cleanup(): Promise<void>;
}

export function eventLogContract(harness: EventLogHarness): void {
  let log: EventLog;
  beforeAll(async () => {
    log = await harness.create();
  });
  afterAll(() => harness.cleanup());

  /** Waits until every pending entry of the group has been idle at least `ms`. */
  const idleAtLeast = (stream: string, group: string, ms: number) =>
    waitFor(async () => (await log.pendingEntries(stream, group, { count: 1000 })).every((p) => p.idleMs >= ms), {
      what: `entries idle ${ms} ms`,
    });

  describe('append and range', () => {
    it('appends in order with increasing ids and returns the events as appended', async () => {
      const stream = uniqueName('s');
      const first = chatEvents(3, 1);
      const second = chatEvents(2, 4);
      const ids = [...(await log.append(stream, first)), ...(await log.append(stream, second))];
      expect(ids).toHaveLength(5);
      for (let i = 1; i < ids.length; i++) expect(compareStreamIds(ids[i - 1], ids[i])).toBeLessThan(0);
      const entries = await log.range(stream);
      expect(entries.map((e) => e.id)).toEqual(ids);
      expect(entries.map((e) => e.event)).toEqual([...first, ...second]);
      expect(await log.length(stream)).toBe(5);
      expect((await log.range(stream, { start: ids[1], end: ids[3] })).map((e) => seqOf(e.event))).toEqual([2, 3, 4]);
      expect((await log.range(stream, { start: ids[1], count: 2 })).map((e) => seqOf(e.event))).toEqual([2, 3]);
    });

    it('refuses a batch with an invalid event and appends none of it', async () => {
      const stream = uniqueName('s');
      const bad = { ...chatEvent(), data: { messageId: 'not-a-uuid', length: 1 } };
      await expect(log.append(stream, [chatEvent(), bad as never])).rejects.toBeInstanceOf(InvalidEventError);
      expect(await log.length(stream)).toBe(0);
    });

    it('reports an unknown stream as empty', async () => {
      const stream = uniqueName('none');
      expect(await log.length(stream)).toBe(0);
      expect(await log.range(stream)).toEqual([]);
      expect(await log.groups(stream)).toEqual([]);
    });
  });

  describe('consumer groups', () => {
    it('creates a group idempotently', async () => {
      const stream = uniqueName('s');
      expect(await log.createGroup(stream, 'g')).toBe(true);
      expect(await log.createGroup(stream, 'g')).toBe(false);
      expect((await log.groups(stream)).map((g) => g.name)).toEqual(['g']);
    });

    it("starts a group at '0' with everything retained, at '$' with what comes next", async () => {
      const stream = uniqueName('s');
      await log.append(stream, chatEvents(2, 1));
      await log.createGroup(stream, 'all', { startId: '0' });
      await log.createGroup(stream, 'new', { startId: '$' });
      await log.append(stream, [chatEvent(3)]);
      const all = await log.read(stream, 'all', 'c', { count: 10 });
      const fresh = await log.read(stream, 'new', 'c', { count: 10 });
      expect(all.map((e) => seqOf(e.event))).toEqual([1, 2, 3]);
      expect(fresh.map((e) => seqOf(e.event))).toEqual([3]);
    });

    it('delivers each entry once per group, split across its consumers, to every group', async () => {
      const stream = uniqueName('s');
      await log.createGroup(stream, 'a');
      await log.createGroup(stream, 'b');
      await log.append(stream, chatEvents(5));
      const a1 = await log.read(stream, 'a', 'a1', { count: 3 });
      const a2 = await log.read(stream, 'a', 'a2', { count: 10 });
      const a3 = await log.read(stream, 'a', 'a3', { count: 10 });
      const b1 = await log.read(stream, 'b', 'b1', { count: 10 });
      expect(a1.map((e) => seqOf(e.event))).toEqual([1, 2, 3]);
      expect(a2.map((e) => seqOf(e.event))).toEqual([4, 5]);
      expect(a3).toEqual([]);
      expect(b1.map((e) => seqOf(e.event))).toEqual([1, 2, 3, 4, 5]);
      expect([...a1, ...a2, ...b1].every((e) => e.deliveries === 1)).toBe(true);
    });

    it('refuses to read, claim or summarise for a group that does not exist', async () => {
      const stream = uniqueName('s');
      await expect(log.read(stream, 'nope', 'c', { count: 1 })).rejects.toBeInstanceOf(NoGroupError);
      await log.append(stream, [chatEvent()]);
      await expect(log.read(stream, 'nope', 'c', { count: 1 })).rejects.toBeInstanceOf(NoGroupError);
      await expect(log.reclaim(stream, 'nope', 'c', { minIdleMs: 0, count: 1 })).rejects.toBeInstanceOf(NoGroupError);
      await expect(log.pending(stream, 'nope')).rejects.toBeInstanceOf(NoGroupError);
      expect(await log.ack(stream, 'nope', ['1-0'])).toBe(0);
    });
  });

  describe('blocking reads', () => {
    it('waits for an entry to arrive', async () => {
      const stream = uniqueName('s');
      await log.createGroup(stream, 'g');
      const reading = log.read(stream, 'g', 'c', { count: 10, blockMs: 10_000 });
      await new Promise((resolve) => setTimeout(resolve, 20));
      await log.append(stream, [chatEvent(7)]);
      expect((await reading).map((e) => seqOf(e.event))).toEqual([7]);
    });

    it('returns nothing when the wait runs out', async () => {
      const stream = uniqueName('s');
      await log.createGroup(stream, 'g');
      expect(await log.read(stream, 'g', 'c', { count: 10, blockMs: 30 })).toEqual([]);
    });

    it('returns nothing, early, when its signal aborts', async () => {
      const stream = uniqueName('s');
      await log.createGroup(stream, 'g');
      const abort = new AbortController();
      const reading = log.read(stream, 'g', 'c', { count: 10, blockMs: 60_000, signal: abort.signal });
      setTimeout(() => abort.abort(), 20);
      const outcome = await Promise.race([
        reading,
        new Promise((resolve) => setTimeout(() => resolve('still blocked'), 20_000).unref()),
      ]);
      expect(outcome).toEqual([]);
      // Nothing was delivered by the aborted read: a later read gets the next entry.
      await log.append(stream, [chatEvent(1)]);
      expect(await log.read(stream, 'g', 'c', { count: 10 })).toHaveLength(1);
    });
  });

  describe('pending entries and acknowledgement', () => {
    it('tracks pending entries per consumer and removes acknowledged ones', async () => {
      const stream = uniqueName('s');
      await log.createGroup(stream, 'g');
      const ids = await log.append(stream, chatEvents(4));
      await log.read(stream, 'g', 'a', { count: 2 });
      await log.read(stream, 'g', 'b', { count: 1 });
      expect(await log.pending(stream, 'g')).toEqual({
        count: 3,
        smallestId: ids[0],
        largestId: ids[2],
        consumers: [
          { name: 'a', pending: 2 },
          { name: 'b', pending: 1 },
        ],
      });
      const entries = await log.pendingEntries(stream, 'g', { count: 10 });
      expect(entries.map(({ id, consumer, deliveries }) => ({ id, consumer, deliveries }))).toEqual([
        { id: ids[0], consumer: 'a', deliveries: 1 },
        { id: ids[1], consumer: 'a', deliveries: 1 },
        { id: ids[2], consumer: 'b', deliveries: 1 },
      ]);
      expect((await log.pendingEntries(stream, 'g', { count: 10, consumer: 'b' })).map((e) => e.id)).toEqual([ids[2]]);
      expect((await log.pendingEntries(stream, 'g', { count: 1, start: ids[1] })).map((e) => e.id)).toEqual([ids[1]]);

      expect(await log.ack(stream, 'g', [ids[0], ids[2], ids[3]])).toBe(2); // ids[3] was never delivered
      expect(await log.ack(stream, 'g', [ids[0]])).toBe(0);
      expect(await log.pending(stream, 'g')).toEqual({
        count: 1,
        smallestId: ids[1],
        largestId: ids[1],
        consumers: [{ name: 'a', pending: 1 }],
      });
      expect(await log.pending(stream, uniqueName('empty-group')).catch((e) => e)).toBeInstanceOf(NoGroupError);
    });

    it('measures idle time from the last delivery', async () => {
      const stream = uniqueName('s');
      await log.createGroup(stream, 'g');
      await log.append(stream, chatEvents(2));
      await log.read(stream, 'g', 'a', { count: 2 });
      await idleAtLeast(stream, 'g', 40);
      const idle = await log.pendingEntries(stream, 'g', { count: 10, minIdleMs: 40 });
      expect(idle).toHaveLength(2);
      expect(await log.pendingEntries(stream, 'g', { count: 10, minIdleMs: 3_600_000 })).toEqual([]);
    });

    it('reports groups with their position, pending work and lag', async () => {
      const stream = uniqueName('s');
      await log.createGroup(stream, 'g');
      await log.createGroup(stream, 'idle');
      const ids = await log.append(stream, chatEvents(5));
      await log.read(stream, 'g', 'a', { count: 3 });
      await log.ack(stream, 'g', [ids[0]]);
      const groups = await log.groups(stream);
      expect(groups).toEqual([
        { name: 'g', consumers: 1, pending: 2, lastDeliveredId: ids[2], oldestPendingId: ids[1], lag: 2 },
        { name: 'idle', consumers: 0, pending: 0, lastDeliveredId: '0-0', oldestPendingId: null, lag: 5 },
      ]);
    });
  });

  describe('reclaiming from dead consumers', () => {
    it('claims only entries idle long enough, counting the delivery and moving ownership', async () => {
      const stream = uniqueName('s');
      await log.createGroup(stream, 'g');
      const ids = await log.append(stream, chatEvents(3));
      await log.read(stream, 'g', 'dead', { count: 3 });

      const tooSoon = await log.reclaim(stream, 'g', 'alive', { minIdleMs: 3_600_000, count: 10 });
      expect(tooSoon).toEqual({ cursor: '0-0', entries: [], deleted: [] });

      await idleAtLeast(stream, 'g', 30);
      const claimed = await log.reclaim(stream, 'g', 'alive', { minIdleMs: 30, count: 10 });
      expect(claimed.cursor).toBe('0-0');
      expect(claimed.deleted).toEqual([]);
      expect(claimed.entries.map((e) => [e.id, e.deliveries, seqOf(e.event)])).toEqual([
        [ids[0], 2, 1],
        [ids[1], 2, 2],
        [ids[2], 2, 3],
      ]);
      const pending = await log.pendingEntries(stream, 'g', { count: 10 });
      expect(pending.every((p) => p.consumer === 'alive' && p.deliveries === 2)).toBe(true);
      // The claim reset the idle time: a second claimant right away gets nothing.
      expect((await log.reclaim(stream, 'g', 'other', { minIdleMs: 30_000, count: 10 })).entries).toEqual([]);
    });

    it('pages through the pending list with a cursor', async () => {
      const stream = uniqueName('s');
      await log.createGroup(stream, 'g');
      const ids = await log.append(stream, chatEvents(5));
      await log.read(stream, 'g', 'dead', { count: 5 });
      await idleAtLeast(stream, 'g', 20);
      const seen: string[] = [];
      let cursor = '0-0';
      let pages = 0;
      do {
        const page = await log.reclaim(stream, 'g', 'alive', { minIdleMs: 20, count: 2, cursor });
        expect(page.entries.length).toBeLessThanOrEqual(2);
        seen.push(...page.entries.map((e) => e.id));
        cursor = page.cursor;
        pages++;
      } while (cursor !== '0-0' && pages < 10);
      expect(seen).toEqual(ids);
      expect(pages).toBeGreaterThan(1);
    });

    it('drops pending entries that were trimmed away and reports them as deleted', async () => {
      const stream = uniqueName('s');
      await log.createGroup(stream, 'g');
      const ids = await log.append(stream, chatEvents(3));
      await log.read(stream, 'g', 'dead', { count: 3 });
      await log.trim(stream, { minId: ids[2], approximate: false });
      const result = await log.reclaim(stream, 'g', 'alive', { minIdleMs: 0, count: 10 });
      expect(result.deleted).toEqual([ids[0], ids[1]]);
      expect(result.entries.map((e) => e.id)).toEqual([ids[2]]);
      expect((await log.pending(stream, 'g')).count).toBe(1);
    });
  });

  describe('trimming', () => {
    it('trims below an id and beyond a length, exactly when asked to', async () => {
      const stream = uniqueName('s');
      const ids = await log.append(stream, chatEvents(10));
      expect(await log.trim(stream, { minId: ids[4], approximate: false })).toBe(4);
      expect((await log.range(stream))[0].id).toBe(ids[4]);
      expect(await log.trim(stream, { maxLength: 3, approximate: false })).toBe(3);
      expect((await log.range(stream)).map((e) => e.id)).toEqual(ids.slice(7));
    });

    it('never trims at or above the id when trimming approximately', async () => {
      const stream = uniqueName('s');
      const ids = await log.append(stream, chatEvents(250));
      await log.trim(stream, { minId: ids[120] });
      const left = await log.range(stream);
      expect(left.length).toBeGreaterThanOrEqual(130);
      expect(left.slice(-130).map((e) => e.id)).toEqual(ids.slice(120));
    });

    it('caps each stream at maxLength on append (the emergency valve)', async () => {
      const capped = await harness.create({ maxLength: 200 });
      const stream = uniqueName('s');
      for (let i = 0; i < 10; i++) await capped.append(stream, chatEvents(100, i * 100 + 1));
      const length = await capped.length(stream);
      expect(length).toBeGreaterThanOrEqual(200);
      expect(length).toBeLessThan(1000);
      const left = await capped.range(stream);
      expect(seqOf(left.at(-1)!.event)).toBe(1000); // the newest are kept
    });
  });

  describe('dead letters', () => {
    it('moves entries to the dead-letter stream with the error and acknowledges them', async () => {
      const stream = uniqueName('s');
      await log.createGroup(stream, 'g');
      await log.append(stream, chatEvents(3));
      const entries = await log.read(stream, 'g', 'c', { count: 2 });
      await log.deadLetter(stream, 'g', 'c', [
        { entry: entries[0], error: 'boom' },
        { entry: entries[1], error: 'bang' },
      ]);
      expect((await log.pending(stream, 'g')).count).toBe(0);
      const dead = await log.deadLetters(stream);
      expect(
        dead.map(({ originalId, group, consumer, deliveries, error, event }) => ({
          originalId,
          group,
          consumer,
          deliveries,
          error,
          event,
        })),
      ).toEqual([
        { originalId: entries[0].id, group: 'g', consumer: 'c', deliveries: 1, error: 'boom', event: entries[0].event },
        { originalId: entries[1].id, group: 'g', consumer: 'c', deliveries: 1, error: 'bang', event: entries[1].event },
      ]);
      expect(JSON.parse(dead[0].payload)).toEqual(entries[0].event);
      expect(await log.deadLetters(stream, { count: 1 })).toHaveLength(1);
      expect(await log.deadLetterCount(stream)).toBe(2);
      expect(await log.deadLetterCount(uniqueName('none'))).toBe(0);
      // The source stream keeps its entries; only the group's obligation is gone.
      expect(await log.length(stream)).toBe(3);
    });
  });

  describe('consumers', () => {
    it('removes a consumer only when it owns no pending entries', async () => {
      const stream = uniqueName('s');
      await log.createGroup(stream, 'g');
      const [id] = await log.append(stream, [chatEvent()]);
      await log.read(stream, 'g', 'c', { count: 1 });
      expect(await log.removeConsumerIfIdle(stream, 'g', 'c')).toBe(false);
      expect((await log.groups(stream))[0].consumers).toBe(1);
      await log.ack(stream, 'g', [id]);
      expect(await log.removeConsumerIfIdle(stream, 'g', 'c')).toBe(true);
      expect((await log.groups(stream))[0].consumers).toBe(0);
    });
  });

  describe('seen events', () => {
    it('claims new ids, reports busy and done ones, and releases aborted claims', async () => {
      const seen = log.seenEvents(uniqueName('ns'));
      const [x, y] = [randomUUID(), randomUUID()];
      expect(await seen.begin([x, y])).toEqual(['new', 'new']);
      expect(await seen.begin([x])).toEqual(['busy']);
      await seen.commit([x]);
      expect(await seen.begin([x, y])).toEqual(['done', 'busy']);
      await seen.abort([y]);
      expect(await seen.begin([y])).toEqual(['new']);
      expect(await seen.begin([])).toEqual([]);
    });

    it('is shared by every store of one namespace', async () => {
      const ns = uniqueName('ns');
      const id = randomUUID();
      await log.seenEvents(ns).begin([id]);
      await log.seenEvents(ns).commit([id]);
      expect(await log.seenEvents(ns).begin([id])).toEqual(['done']);
      expect(await log.seenEvents(uniqueName('other')).begin([id])).toEqual(['new']);
    });

    it('lets a store release only its own claims', async () => {
      const ns = uniqueName('ns');
      const first = log.seenEvents(ns, { leaseMs: 50 });
      const second = log.seenEvents(ns, { leaseMs: 60_000 });
      const id = randomUUID();
      expect(await first.begin([id])).toEqual(['new']);
      // The first claim lapses (its handler died); the second store takes the id over.
      await waitFor(async () => (await second.begin([id]))[0] === 'new', { what: 'the first claim to lapse' });
      await first.abort([id]); // a late abort from the first must not free the second's claim
      expect(await second.begin([id])).toEqual(['busy']);
      await second.abort([id]);
      expect(await first.begin([id])).toEqual(['new']);
    });

    it('forgets done ids after ttlMs and lets lapsed claims go after leaseMs', async () => {
      const seen = log.seenEvents(uniqueName('ns'), { ttlMs: 50, leaseMs: 50 });
      const [done, abandoned] = [randomUUID(), randomUUID()];
      await seen.begin([done, abandoned]);
      await seen.commit([done]);
      await waitFor(async () => (await seen.begin([done]))[0] === 'new', { what: 'done id to expire' });
      await waitFor(async () => (await seen.begin([abandoned]))[0] === 'new', { what: 'claim to lapse' });
    });
  });

  describe('lifecycle', () => {
    it('closes twice without complaint and refuses use afterwards', async () => {
      const own = await harness.create();
      await own.append(uniqueName('s'), [chatEvent()]);
      await own.close();
      await own.close();
      expect(own.status()).toBe('closed');
      await expect(own.append(uniqueName('s'), [chatEvent()])).rejects.toBeInstanceOf(EventLogClosedError);
    });
  });
}
