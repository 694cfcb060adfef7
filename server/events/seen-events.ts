import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { LogEntry, SeenEvents, SeenEventsOptions, SeenState } from './event-log';
import type { EngagementEvent } from './types';

/**
 * "Seen event ids", so that at-least-once delivery never counts an event twice.
 *
 * An id moves through: absent → claimed (by one handler, for `leaseMs`) → done (for `ttlMs`).
 * `begin` claims the new ones; a second delivery meanwhile sees `busy` and is retried later
 * rather than run concurrently; after `commit` every later delivery sees `done` and is skipped.
 * `abort` releases a claim when the handler failed, so the redelivery runs it again.
 *
 * The one window left: a process that dies after applying an event's effect but before `commit`
 * lets the claim lapse after `leaseMs`, and the redelivery applies it again. Effects that must be
 * exact even then belong in the same transaction as their own dedupe record (e.g. a unique key
 * on the event id in Postgres).
 */

/** `leaseMs` matches the consumer's default `claimMinIdleMs`: see `seenOptionsFor`. */
export const SEEN_DEFAULTS = { ttlMs: 3600_000, leaseMs: 60_000, maxEntries: 200_000 } as const;

/**
 * Seen-store options for a consumer reclaiming after `claimMinIdleMs`. The lease must not outlive
 * the reclaim idle time: when a consumer dies holding claims, the live one that reclaims its
 * entries must find the claims lapsed, not `busy` until long after (and, before this rule, past
 * its last delivery into the dead-letter stream). The reclaim idle time already has to exceed the
 * slowest batch, so the lease does too.
 */
export function seenOptionsFor(claimMinIdleMs: number, options: SeenEventsOptions = {}): SeenEventsOptions {
  return { ...options, leaseMs: Math.min(options.leaseMs ?? claimMinIdleMs, claimMinIdleMs) };
}

/**
 * Thrown into a batch when another handler is still working on one of its events. Not a failure
 * of the event: the consumer leaves it pending, uncounted, for a later redelivery (see `Consumer`).
 */
export class EventBusyError extends Error {
  constructor(readonly eventId: string) {
    super(`event ${eventId} is being processed by another consumer`);
    this.name = 'EventBusyError';
  }
}

/**
 * Wraps a per-event handler into a batch handler that runs each event at most once per
 * `seen` store: done events are skipped, the rest run in order and are committed as they succeed.
 * On a failure, the events before it stay done and the failing one and those after it are
 * released, so the consumer's retry (one by one, or a later redelivery) resumes exactly there.
 */
export function onceEach<E extends LogEntry>(
  seen: SeenEvents,
  handle: (event: EngagementEvent, entry: E) => Promise<void>,
): (batch: readonly E[]) => Promise<void> {
  return async (batch) => {
    const ids = batch.map((e) => e.event.id);
    const states = await seen.begin(ids);
    const done: string[] = [];
    const claimed = new Set(ids.filter((_, i) => states[i] === 'new'));
    const ranInBatch = new Set<string>();
    try {
      for (let i = 0; i < batch.length; i++) {
        const id = ids[i];
        // The same event appended twice (a retried append) is in the batch twice: run it once.
        if (states[i] === 'done' || ranInBatch.has(id)) continue;
        if (states[i] === 'busy' && !claimed.has(id)) throw new EventBusyError(id);
        await handle(batch[i].event, batch[i]);
        ranInBatch.add(id);
        done.push(id);
      }
    } catch (err) {
      const unfinished = [...claimed].filter((id) => !ranInBatch.has(id));
      await Promise.all([seen.commit(done), seen.abort(unfinished)]);
      throw err;
    }
    await seen.commit(done);
  };
}

/** What the in-process store remembers of an id; `owner` is the claiming store's token. */
export interface SeenRecord {
  state: 'claimed' | 'done';
  owner: string;
  expiresAt: number;
}

/**
 * The in-process store: a map bounded by `maxEntries`, forgetting the oldest first. Stores of one
 * namespace share the map (`ids`), each with its own claim token, as Redis stores share keys.
 */
export class MemorySeenEvents implements SeenEvents {
  private readonly ids: Map<string, SeenRecord>;
  private readonly ttlMs: number;
  private readonly leaseMs: number;
  private readonly maxEntries: number;
  private readonly now: () => number;
  private readonly token = randomUUID();

  constructor(options: SeenEventsOptions & { now?: () => number; ids?: Map<string, SeenRecord> } = {}) {
    this.ids = options.ids ?? new Map();
    this.ttlMs = options.ttlMs ?? SEEN_DEFAULTS.ttlMs;
    this.leaseMs = options.leaseMs ?? SEEN_DEFAULTS.leaseMs;
    this.maxEntries = options.maxEntries ?? SEEN_DEFAULTS.maxEntries;
    this.now = options.now ?? Date.now;
  }

  async begin(ids: readonly string[]): Promise<SeenState[]> {
    const now = this.now();
    return ids.map((id) => {
      const known = this.ids.get(id);
      if (known && known.expiresAt > now) return known.state === 'done' ? 'done' : 'busy';
      this.set(id, 'claimed', now + this.leaseMs);
      return 'new';
    });
  }

  async commit(ids: readonly string[]): Promise<void> {
    const expiresAt = this.now() + this.ttlMs;
    for (const id of ids) this.set(id, 'done', expiresAt);
  }

  async abort(ids: readonly string[]): Promise<void> {
    for (const id of ids) {
      const known = this.ids.get(id);
      if (known?.state === 'claimed' && known.owner === this.token) this.ids.delete(id);
    }
  }

  get size(): number {
    return this.ids.size;
  }

  private set(id: string, state: 'claimed' | 'done', expiresAt: number): void {
    // Re-inserting moves the id to the back, so the map's order is roughly oldest first.
    this.ids.delete(id);
    this.ids.set(id, { state, owner: this.token, expiresAt });
    // Over the bound: forget the oldest. A redelivery of an id forgotten this early would run
    // again, so size `maxEntries` above the ids a group can redeliver within `ttlMs`.
    for (const key of this.ids.keys()) {
      if (this.ids.size <= this.maxEntries) break;
      this.ids.delete(key);
    }
  }
}

// Releases a claim only if it is still ours: after a lapsed lease someone else may own the id,
// or have finished it, and deleting their mark would let the event run a third time.
const RELEASE_IF_OURS = `
for i, key in ipairs(KEYS) do
  if redis.call('GET', key) == ARGV[1] then redis.call('DEL', key) end
end
return 0`;

/** The Redis store: one key per id, `SET NX` claims with a lease, done marks with a TTL. */
export class RedisSeenEvents implements SeenEvents {
  private readonly ttlMs: number;
  private readonly leaseMs: number;
  /** Each store instance claims with its own token, so `abort` only releases its own claims. */
  private readonly token = `claimed:${randomUUID()}`;

  constructor(
    private readonly redis: Redis,
    private readonly keyPrefix: string,
    options: SeenEventsOptions = {},
  ) {
    this.ttlMs = options.ttlMs ?? SEEN_DEFAULTS.ttlMs;
    this.leaseMs = options.leaseMs ?? SEEN_DEFAULTS.leaseMs;
  }

  async begin(ids: readonly string[]): Promise<SeenState[]> {
    if (ids.length === 0) return [];
    const pipeline = this.redis.pipeline();
    // SET … NX GET (Redis 7): claims if absent and returns what was there, in one command.
    for (const id of ids) pipeline.set(this.key(id), this.token, 'PX', this.leaseMs, 'NX', 'GET');
    const results = await execAll(pipeline);
    return results.map((previous) => (previous === null ? 'new' : previous === 'done' ? 'done' : 'busy'));
  }

  async commit(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    const pipeline = this.redis.pipeline();
    for (const id of ids) pipeline.set(this.key(id), 'done', 'PX', this.ttlMs);
    await execAll(pipeline);
  }

  async abort(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.redis.eval(RELEASE_IF_OURS, ids.length, ...ids.map((id) => this.key(id)), this.token);
  }

  private key(id: string): string {
    return `${this.keyPrefix}${id}`;
  }
}

/** Runs a pipeline and throws the first command error (ioredis reports them per command). */
async function execAll(pipeline: ReturnType<Redis['pipeline']>): Promise<unknown[]> {
  const results = (await pipeline.exec()) ?? [];
  return results.map(([err, value]) => {
    if (err) throw err;
    return value;
  });
}
