import type { EngagementEvent } from './types';

/**
 * The port: an append-only log of engagement events in named streams, read through consumer
 * groups, with Redis Streams semantics (ids, pending entries lists, delivery counts, idle times,
 * claims). Two implementations: `RedisStreamsEventLog` (production) and `InMemoryEventLog`
 * (the embedded single-node default); `event-log.contract.ts` holds both to the same behaviour.
 *
 * Stream names are logical (`engagement`); an implementation may prefix them. Entry ids are
 * `<ms>-<seq>` strings, increasing within a stream (see `stream-id.ts`).
 */
export interface EventLog {
  readonly kind: 'redis' | 'memory';

  /**
   * Validates every event (a bad one throws `InvalidEventError` and appends nothing), then
   * appends them in order and returns their entry ids. Bounded by the log's `maxLength` hard cap.
   * May reject with `AppendError` naming the prefix that was appended before a failure.
   */
  append(stream: string, events: readonly EngagementEvent[]): Promise<string[]>;

  /**
   * Creates a consumer group (and the stream if missing). `startId`: `'0'` (default) delivers
   * everything still in the stream, `'$'` only what is appended from now on. Idempotent:
   * resolves false when the group already exists, leaving it as it is.
   */
  createGroup(stream: string, group: string, options?: { startId?: string }): Promise<boolean>;

  /**
   * Entries never delivered to the group, up to `count`, now pending for `consumer`
   * (`XREADGROUP … >`). With `blockMs` > 0 waits that long for some to arrive; `signal` ends the
   * wait early with no entries. Rejects if the group does not exist.
   */
  read(stream: string, group: string, consumer: string, options: ReadOptions): Promise<ReadEntry[]>;

  /** Removes entries from the group's pending list; resolves how many were pending. */
  ack(stream: string, group: string, ids: readonly string[]): Promise<number>;

  /**
   * `XAUTOCLAIM`: transfers to `consumer` the group's pending entries idle at least `minIdleMs`,
   * scanning from `cursor` (default the start). Each claim counts as a delivery. Pending entries
   * whose stream entry no longer exists are dropped from the pending list and reported in
   * `deleted`. `cursor` in the result is where to continue, `'0-0'` once the scan wrapped.
   */
  reclaim(stream: string, group: string, consumer: string, options: ReclaimOptions): Promise<ReclaimResult>;

  /** `XPENDING` summary of the group. */
  pending(stream: string, group: string): Promise<PendingSummary>;

  /** `XPENDING … IDLE`: pending entries in id order, with owner, idle time and delivery count. */
  pendingEntries(stream: string, group: string, options: PendingEntriesOptions): Promise<PendingEntry[]>;

  /** `XINFO GROUPS` plus each group's oldest pending id: what retention and lag metrics need. */
  groups(stream: string): Promise<GroupInfo[]>;

  /** Number of entries in the stream (0 if it does not exist). */
  length(stream: string): Promise<number>;

  /** Entries by id range, inclusive, oldest first (`XRANGE`); `deliveries` is 0 here. */
  range(stream: string, options?: RangeOptions): Promise<ReadEntry[]>;

  /**
   * Removes entries below `minId` and/or beyond the newest `maxLength`; resolves how many went.
   * `approximate` (default true) lets Redis trim only whole internal nodes: it may keep more,
   * never fewer. Retention policy lives in `retention.ts`, not here.
   */
  trim(stream: string, options: TrimOptions): Promise<number>;

  /**
   * Moves entries to the dead-letter stream `<stream>:dead` with the reason, and acknowledges
   * them in the group, so a poison entry stops blocking it. Atomic per call in Redis.
   */
  deadLetter(stream: string, group: string, consumer: string, letters: readonly DeadLetterInput[]): Promise<void>;

  /** Reads the dead-letter stream of `stream`, oldest first. */
  deadLetters(stream: string, options?: { start?: string; count?: number }): Promise<DeadLetter[]>;

  /** Number of entries in the dead-letter stream of `stream` (0 if none). */
  deadLetterCount(stream: string): Promise<number>;

  /**
   * Deletes `consumer` from the group if it owns no pending entries (so names of stopped
   * consumers do not pile up); resolves whether it did. Never drops pending work.
   */
  removeConsumerIfIdle(stream: string, group: string, consumer: string): Promise<boolean>;

  /**
   * A "seen event ids" store next to the log (Redis keys or a bounded map), for consumers that
   * must not count an event twice. See `seen-events.ts`.
   */
  seenEvents(namespace: string, options?: SeenEventsOptions): SeenEvents;

  /** 'up' when commands can be sent now, 'down' while the backing store is unreachable. */
  status(): 'up' | 'down' | 'closed';

  /** Closes connections and wakes blocked reads. Safe to call twice. */
  close(): Promise<void>;
}

export interface ReadOptions {
  count: number;
  blockMs?: number;
  signal?: AbortSignal;
}

export interface ReclaimOptions {
  minIdleMs: number;
  count: number;
  cursor?: string;
}

export interface PendingEntriesOptions {
  count: number;
  consumer?: string;
  minIdleMs?: number;
  start?: string;
}

export interface RangeOptions {
  /** Inclusive; default the first entry. */
  start?: string;
  /** Inclusive; default the last entry. */
  end?: string;
  count?: number;
}

export interface TrimOptions {
  minId?: string;
  maxLength?: number;
  approximate?: boolean;
}

/** An entry as a group delivers it. */
export interface LogEntry {
  id: string;
  /** Deliveries to the group so far, this one included (1 on a first read). */
  deliveries: number;
  event: EngagementEvent;
}

/**
 * An entry whose stored payload is not a valid event of this build (written by something else,
 * or by a newer schema): it reaches the consumer so that it can be dead-lettered, not retried.
 */
export interface UndecodableEntry {
  id: string;
  deliveries: number;
  event: null;
  raw: string;
  reason: string;
}

export type ReadEntry = LogEntry | UndecodableEntry;

export interface ReclaimResult {
  cursor: string;
  entries: ReadEntry[];
  /** Ids that were pending but no longer exist in the stream (trimmed); now off the list. */
  deleted: string[];
}

export interface PendingSummary {
  count: number;
  smallestId: string | null;
  largestId: string | null;
  consumers: { name: string; pending: number }[];
}

export interface PendingEntry {
  id: string;
  consumer: string;
  idleMs: number;
  deliveries: number;
}

export interface GroupInfo {
  name: string;
  consumers: number;
  pending: number;
  lastDeliveredId: string;
  oldestPendingId: string | null;
  /** Entries not yet delivered to the group; null when Redis cannot tell (see XINFO GROUPS). */
  lag: number | null;
}

export interface DeadLetterInput {
  entry: ReadEntry;
  error: string;
}

export interface DeadLetter {
  /** Id in the dead-letter stream. */
  id: string;
  /** Id the entry had in the source stream. */
  originalId: string;
  group: string;
  consumer: string;
  deliveries: number;
  error: string;
  /** The stored payload as it was (JSON of the event, or whatever undecodable value). */
  payload: string;
  event: EngagementEvent | null;
}

export interface SeenEventsOptions {
  /**
   * How long a finished event id is remembered. It must outlast the longest an entry can stay
   * pending before it is redelivered (consumer downtime included); it also sets the memory:
   * about 100 bytes per event in Redis, so events/s x ttl keys. Default 1 h.
   */
  ttlMs?: number;
  /**
   * How long an id stays claimed by a handler that has begun but not finished it. Another
   * delivery meanwhile is told `busy` (retried later, never run twice concurrently); after a
   * crash the claim lapses and the event can run again. Must not exceed the consumer's
   * `claimMinIdleMs` (build options with `seenOptionsFor`), and must exceed a batch's handling
   * time, as that does. Default 60 s, the consumer's default `claimMinIdleMs`.
   */
  leaseMs?: number;
  /** In-memory store only: most ids remembered; the oldest are forgotten first. Default 200,000. */
  maxEntries?: number;
}

export type SeenState = 'new' | 'done' | 'busy';

export interface SeenEvents {
  /** Claims each id that is new; tells for each id whether it is new (now claimed), done or busy. */
  begin(ids: readonly string[]): Promise<SeenState[]>;
  /** Marks claimed ids done (remembered for `ttlMs`). */
  commit(ids: readonly string[]): Promise<void>;
  /** Releases claims of ids whose processing failed, so a redelivery runs them again. */
  abort(ids: readonly string[]): Promise<void>;
}

/** An append that failed part-way: `appended` (a prefix of the batch) made it in, in order. */
export class AppendError extends Error {
  constructor(
    message: string,
    readonly appended: string[],
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'AppendError';
  }
}

/** The consumer group (or its stream) does not exist: create it with `createGroup`. */
export class NoGroupError extends Error {
  constructor(stream: string, group: string, options?: { cause?: unknown }) {
    super(`no consumer group ${group} on stream ${stream}`, options);
    this.name = 'NoGroupError';
  }
}

/** Calls on a log after `close()`: a lifecycle bug in the caller. */
export class EventLogClosedError extends Error {
  constructor() {
    super('event log is closed');
    this.name = 'EventLogClosedError';
  }
}

const STREAM_NAME = /^[A-Za-z0-9][A-Za-z0-9:._-]{0,199}$/;

/** Stream, group and consumer names: short printable names, never user input. */
export function assertName(kind: 'stream' | 'group' | 'consumer' | 'namespace', name: string): void {
  if (!STREAM_NAME.test(name)) throw new TypeError(`invalid ${kind} name: ${JSON.stringify(name)}`);
}

export const deadLetterStream = (stream: string) => `${stream}:dead`;
