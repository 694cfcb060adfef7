import {
  assertName,
  type DeadLetter,
  type DeadLetterInput,
  deadLetterStream,
  type EventLog,
  EventLogClosedError,
  type GroupInfo,
  type LogEntry,
  NoGroupError,
  type PendingEntriesOptions,
  type PendingEntry,
  type PendingSummary,
  type RangeOptions,
  type ReadEntry,
  type ReadOptions,
  type ReclaimOptions,
  type ReclaimResult,
  type SeenEvents,
  type SeenEventsOptions,
  type TrimOptions,
} from './event-log';
import { MemorySeenEvents, type SeenRecord } from './seen-events';
import { compareStreamIds, formatStreamId, isStreamId, parseStreamId, type StreamId, ZERO_ID } from './stream-id';
import { type EngagementEvent, validateEvent } from './types';

export interface InMemoryEventLogOptions {
  /** Hard cap per stream: appending beyond it drops the oldest entries. Default 100,000. */
  maxLength?: number;
  /** Cap of each dead-letter stream. Default 10,000. */
  deadLetterMaxLength?: number;
  /** Clock for ids and idle times. Default `Date.now`. */
  now?: () => number;
}

interface Stored {
  id: string;
  /** The id, parsed once for the binary searches. */
  ms: number;
  seq: number;
  event: EngagementEvent;
}

interface Pending {
  consumer: string;
  deliveries: number;
  deliveredAt: number;
}

interface Group {
  lastDeliveredId: string;
  /** Keyed by entry id. Insertion order is id order: entries join it only by `read`, in order. */
  pel: Map<string, Pending>;
  consumers: Set<string>;
}

interface Stream {
  /** Sorted by id. */
  entries: Stored[];
  lastId: StreamId;
  groups: Map<string, Group>;
  /** Blocked readers, woken on append. */
  waiters: Set<() => void>;
}

interface StoredDeadLetter extends Omit<DeadLetter, 'event'> {
  event: EngagementEvent | null;
}

/**
 * The in-process event log of the embedded single-node mode. Same semantics as Redis Streams
 * for everything the port exposes; state lives in this process and is lost with it (the embedded
 * mode's recorded engagement is best-effort by design).
 */
export class InMemoryEventLog implements EventLog {
  readonly kind = 'memory' as const;
  private readonly streams = new Map<string, Stream>();
  private readonly dead = new Map<string, { lastId: StreamId; letters: StoredDeadLetter[] }>();
  /** Seen ids per namespace, shared by every store of that namespace. */
  private readonly seen = new Map<string, Map<string, SeenRecord>>();
  private readonly maxLength: number;
  private readonly deadLetterMaxLength: number;
  private readonly now: () => number;
  private closed = false;

  constructor(options: InMemoryEventLogOptions = {}) {
    this.maxLength = options.maxLength ?? 100_000;
    this.deadLetterMaxLength = options.deadLetterMaxLength ?? 10_000;
    this.now = options.now ?? Date.now;
  }

  async append(stream: string, events: readonly EngagementEvent[]): Promise<string[]> {
    this.open();
    assertName('stream', stream);
    const valid = events.map(validateEvent); // all or nothing: validate before appending any
    const s = this.stream(stream, true);
    const ids = valid.map((event) => {
      s.lastId = nextId(s.lastId, this.now());
      const id = formatStreamId(s.lastId);
      s.entries.push({ id, ms: s.lastId.ms, seq: s.lastId.seq, event });
      return id;
    });
    if (s.entries.length > this.maxLength) s.entries.splice(0, s.entries.length - this.maxLength);
    if (ids.length > 0) for (const wake of [...s.waiters]) wake();
    return ids;
  }

  async createGroup(stream: string, group: string, options: { startId?: string } = {}): Promise<boolean> {
    this.open();
    assertName('stream', stream);
    assertName('group', group);
    const s = this.stream(stream, true);
    if (s.groups.has(group)) return false;
    const startId = options.startId ?? '0';
    const lastDeliveredId = startId === '$' ? formatStreamId(s.lastId) : startId === '0' ? ZERO_ID : checkId(startId);
    s.groups.set(group, { lastDeliveredId, pel: new Map(), consumers: new Set() });
    return true;
  }

  async read(stream: string, group: string, consumer: string, options: ReadOptions): Promise<ReadEntry[]> {
    this.open();
    assertName('consumer', consumer);
    const deadline = this.now() + (options.blockMs ?? 0);
    for (;;) {
      const entries = this.deliverNew(stream, group, consumer, options.count);
      if (entries.length > 0 || this.closed || options.signal?.aborted) return entries;
      const waitMs = deadline - this.now();
      if (waitMs <= 0) return entries;
      await this.waitForAppend(this.stream(stream, false)!, waitMs, options.signal);
    }
  }

  async ack(stream: string, group: string, ids: readonly string[]): Promise<number> {
    this.open();
    const g = this.streams.get(stream)?.groups.get(group);
    if (!g) return 0; // as XACK: nothing was pending there
    let acked = 0;
    for (const id of ids) if (g.pel.delete(checkId(id))) acked++;
    return acked;
  }

  async reclaim(stream: string, group: string, consumer: string, options: ReclaimOptions): Promise<ReclaimResult> {
    this.open();
    assertName('consumer', consumer);
    const s = this.stream(stream, false);
    const g = this.group(stream, group);
    g.consumers.add(consumer);
    const now = this.now();
    const cursor = checkId(options.cursor ?? ZERO_ID);
    const ids = [...g.pel.keys()];
    let i = ids.findIndex((id) => compareStreamIds(id, cursor) >= 0);
    if (i < 0) i = ids.length;
    // As XAUTOCLAIM: at most `count` results (claimed or deleted), looking at most 10x as many.
    let attempts = options.count * 10;
    let room = options.count;
    const entries: ReadEntry[] = [];
    const deleted: string[] = [];
    for (; i < ids.length && attempts > 0 && room > 0; i++, attempts--) {
      const id = ids[i];
      const p = g.pel.get(id)!;
      const stored = s && this.find(s, id);
      if (!stored) {
        g.pel.delete(id);
        deleted.push(id);
        room--;
        continue;
      }
      if (now - p.deliveredAt < options.minIdleMs) continue;
      p.consumer = consumer;
      p.deliveries++;
      p.deliveredAt = now;
      entries.push({ id, deliveries: p.deliveries, event: stored.event });
      room--;
    }
    return { cursor: i < ids.length ? ids[i] : ZERO_ID, entries, deleted };
  }

  async pending(stream: string, group: string): Promise<PendingSummary> {
    this.open();
    const g = this.group(stream, group);
    const perConsumer = new Map<string, number>();
    for (const p of g.pel.values()) perConsumer.set(p.consumer, (perConsumer.get(p.consumer) ?? 0) + 1);
    const ids = [...g.pel.keys()];
    return {
      count: ids.length,
      smallestId: ids[0] ?? null,
      largestId: ids.at(-1) ?? null,
      consumers: [...perConsumer].sort(([a], [b]) => (a < b ? -1 : 1)).map(([name, pending]) => ({ name, pending })),
    };
  }

  async pendingEntries(stream: string, group: string, options: PendingEntriesOptions): Promise<PendingEntry[]> {
    this.open();
    const g = this.group(stream, group);
    const now = this.now();
    const start = options.start ? checkId(options.start) : null;
    const out: PendingEntry[] = [];
    for (const [id, p] of g.pel) {
      if (out.length >= options.count) break;
      if (start && compareStreamIds(id, start) < 0) continue;
      if (options.consumer !== undefined && p.consumer !== options.consumer) continue;
      const idleMs = now - p.deliveredAt;
      if (options.minIdleMs !== undefined && idleMs < options.minIdleMs) continue;
      out.push({ id, consumer: p.consumer, idleMs, deliveries: p.deliveries });
    }
    return out;
  }

  async groups(stream: string): Promise<GroupInfo[]> {
    this.open();
    const s = this.streams.get(stream);
    if (!s) return [];
    return [...s.groups]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([name, g]) => ({
        name,
        consumers: g.consumers.size,
        pending: g.pel.size,
        lastDeliveredId: g.lastDeliveredId,
        oldestPendingId: g.pel.keys().next().value ?? null,
        lag: s.entries.length - upperBound(s.entries, g.lastDeliveredId),
      }));
  }

  async length(stream: string): Promise<number> {
    this.open();
    return this.streams.get(stream)?.entries.length ?? 0;
  }

  async range(stream: string, options: RangeOptions = {}): Promise<ReadEntry[]> {
    this.open();
    const s = this.streams.get(stream);
    if (!s) return [];
    const from = options.start ? lowerBound(s.entries, checkId(options.start)) : 0;
    const to = options.end ? upperBound(s.entries, checkId(options.end)) : s.entries.length;
    const slice = s.entries.slice(from, options.count === undefined ? to : Math.min(to, from + options.count));
    return slice.map(({ id, event }) => ({ id, deliveries: 0, event }));
  }

  async trim(stream: string, options: TrimOptions): Promise<number> {
    this.open();
    const s = this.streams.get(stream);
    if (!s) return 0;
    let drop = 0;
    if (options.minId !== undefined) drop = lowerBound(s.entries, checkId(options.minId));
    if (options.maxLength !== undefined) drop = Math.max(drop, s.entries.length - options.maxLength);
    s.entries.splice(0, drop);
    return drop;
  }

  async deadLetter(
    stream: string,
    group: string,
    consumer: string,
    letters: readonly DeadLetterInput[],
  ): Promise<void> {
    this.open();
    const g = this.group(stream, group);
    const name = deadLetterStream(stream);
    let dead = this.dead.get(name);
    if (!dead) {
      dead = { lastId: { ms: 0, seq: 0 }, letters: [] };
      this.dead.set(name, dead);
    }
    for (const { entry, error } of letters) {
      dead.lastId = nextId(dead.lastId, this.now());
      dead.letters.push({
        id: formatStreamId(dead.lastId),
        originalId: entry.id,
        group,
        consumer,
        deliveries: entry.deliveries,
        error,
        payload: entry.event ? JSON.stringify(entry.event) : entry.raw,
        event: entry.event,
      });
      g.pel.delete(entry.id);
    }
    if (dead.letters.length > this.deadLetterMaxLength) {
      dead.letters.splice(0, dead.letters.length - this.deadLetterMaxLength);
    }
  }

  async deadLetters(stream: string, options: { start?: string; count?: number } = {}): Promise<DeadLetter[]> {
    this.open();
    const letters = this.dead.get(deadLetterStream(stream))?.letters ?? [];
    const start = options.start;
    const from = start ? letters.filter((l) => compareStreamIds(l.id, start) >= 0) : letters;
    return from.slice(0, options.count ?? from.length).map((l) => ({ ...l }));
  }

  async deadLetterCount(stream: string): Promise<number> {
    this.open();
    return this.dead.get(deadLetterStream(stream))?.letters.length ?? 0;
  }

  async removeConsumerIfIdle(stream: string, group: string, consumer: string): Promise<boolean> {
    this.open();
    const g = this.group(stream, group);
    for (const p of g.pel.values()) if (p.consumer === consumer) return false;
    g.consumers.delete(consumer);
    return true;
  }

  seenEvents(namespace: string, options: SeenEventsOptions = {}): SeenEvents {
    this.open();
    assertName('namespace', namespace);
    // One map per namespace, so every consumer of a group shares what was seen.
    let ids = this.seen.get(namespace);
    if (!ids) {
      ids = new Map();
      this.seen.set(namespace, ids);
    }
    return new MemorySeenEvents({ ...options, now: this.now, ids });
  }

  status(): 'up' | 'closed' {
    return this.closed ? 'closed' : 'up';
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const s of this.streams.values()) for (const wake of [...s.waiters]) wake();
  }

  // --- internals ------------------------------------------------------------------------------

  private open(): void {
    if (this.closed) throw new EventLogClosedError();
  }

  private stream(name: string, create: true): Stream;
  private stream(name: string, create: false): Stream | undefined;
  private stream(name: string, create: boolean): Stream | undefined {
    let s = this.streams.get(name);
    if (!s && create) {
      s = { entries: [], lastId: { ms: 0, seq: 0 }, groups: new Map(), waiters: new Set() };
      this.streams.set(name, s);
    }
    return s;
  }

  private group(stream: string, group: string): Group {
    const g = this.streams.get(stream)?.groups.get(group);
    if (!g) throw new NoGroupError(stream, group);
    return g;
  }

  private find(s: Stream, id: string): Stored | undefined {
    const i = lowerBound(s.entries, id);
    return s.entries[i]?.id === id ? s.entries[i] : undefined;
  }

  private deliverNew(stream: string, group: string, consumer: string, count: number): LogEntry[] {
    const s = this.stream(stream, false);
    const g = this.group(stream, group);
    g.consumers.add(consumer);
    if (!s) return [];
    const from = upperBound(s.entries, g.lastDeliveredId);
    const batch = s.entries.slice(from, from + count);
    const now = this.now();
    for (const { id } of batch) g.pel.set(id, { consumer, deliveries: 1, deliveredAt: now });
    if (batch.length > 0) g.lastDeliveredId = batch[batch.length - 1].id;
    return batch.map(({ id, event }) => ({ id, deliveries: 1, event }));
  }

  private waitForAppend(s: Stream, ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        s.waiters.delete(done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      s.waiters.add(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }
}

/** Ids increase even if the clock steps back: the sequence carries on within the last ms. */
function nextId(last: StreamId, now: number): StreamId {
  return now > last.ms ? { ms: now, seq: 0 } : { ms: last.ms, seq: last.seq + 1 };
}

function checkId(id: string): string {
  if (!isStreamId(id)) throw new TypeError(`not a stream id: ${id}`);
  return id;
}

/** Index of the first entry with id >= `id`. */
function lowerBound(entries: readonly Stored[], id: string): number {
  const target = parseStreamId(id);
  let lo = 0;
  let hi = entries.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const m = entries[mid];
    if (m.ms < target.ms || (m.ms === target.ms && m.seq < target.seq)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Index of the first entry with id > `id`. */
function upperBound(entries: readonly Stored[], id: string): number {
  const i = lowerBound(entries, id);
  return entries[i]?.id === id ? i + 1 : i;
}
