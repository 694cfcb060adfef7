import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from '../log';
import {
  AppendError,
  assertName,
  type DeadLetter,
  type DeadLetterInput,
  deadLetterStream,
  type EventLog,
  EventLogClosedError,
  type GroupInfo,
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
import { RedisSeenEvents } from './seen-events';
import { isStreamId } from './stream-id';
import { decodeEvent, type EngagementEvent, validateEvent } from './types';

export interface RedisEventLogOptions {
  /** `redis://` or `rediss://` URL of a Redis >= 7.0 (XAUTOCLAIM, XINFO lag, SET NX GET). */
  url: string;
  /** Prefix of every key this log touches: streams are `<keyPrefix><stream>`. Default `lectern:events:`. */
  keyPrefix?: string;
  /**
   * Emergency hard cap per stream, applied on every append as `XADD MAXLEN ~`. Normal retention
   * (`retention.ts`) keeps streams far below it; reaching it means a group fell this far behind
   * and its oldest unread entries are being lost (visible as group lag). Default 1,000,000.
   */
  maxLength?: number;
  /** Cap of each dead-letter stream (`MAXLEN ~`). Default 100,000. */
  deadLetterMaxLength?: number;
  /** A command without a reply in this time fails (a hung server must not hang producers). Default 5,000. */
  commandTimeoutMs?: number;
  /** Initial connection timeout. Default 5,000. */
  connectTimeoutMs?: number;
  /** Reconnect backoff doubles from 50 ms up to this. Default 2,000. */
  reconnectMaxDelayMs?: number;
  /** Extra ioredis options (TLS, credentials). The fail-fast settings below are applied over them. */
  redisOptions?: RedisOptions;
  /** Connection state changes are logged here; default: not logged. */
  logger?: Logger;
}

const DEFAULTS = {
  keyPrefix: 'lectern:events:',
  maxLength: 1_000_000,
  deadLetterMaxLength: 100_000,
  commandTimeoutMs: 5_000,
  connectTimeoutMs: 5_000,
  reconnectMaxDelayMs: 2_000,
} as const;

/** The one field of a stream entry: the event's JSON. */
const EVENT_FIELD = 'event';

// XAUTOCLAIM does not report delivery counts; reading them in the same script keeps the claim
// and its counts one atomic step.
const RECLAIM = `
local claimed = redis.call('XAUTOCLAIM', KEYS[1], ARGV[1], ARGV[2], ARGV[3], ARGV[4], 'COUNT', ARGV[5])
local deliveries = {}
for i, entry in ipairs(claimed[2]) do
  local p = redis.call('XPENDING', KEYS[1], ARGV[1], entry[1], entry[1], 1)
  deliveries[i] = p[1] and p[1][4] or 1
end
return {claimed[1], claimed[2], claimed[3] or {}, deliveries}`;

// XGROUP DELCONSUMER drops the consumer's pending entries with it; only do it when there are none.
const REMOVE_CONSUMER_IF_IDLE = `
local owned = redis.call('XPENDING', KEYS[1], ARGV[1], '-', '+', 1, ARGV[2])
if #owned > 0 then return 0 end
redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], ARGV[2])
return 1`;

/**
 * The production event log on Redis Streams. Built so that Redis trouble never hangs a caller:
 * commands fail immediately while disconnected (no offline queue) and commands in flight fail
 * when the connection drops (no resend), while ioredis keeps reconnecting in the background.
 * Callers (the publisher, consumers) decide what to retry.
 *
 * Connections: one for all non-blocking commands (pipelined), plus one per concurrently blocked
 * `read` (a blocked XREADGROUP would stall everything behind it on a shared connection).
 */
export class RedisStreamsEventLog implements EventLog {
  readonly kind = 'redis' as const;
  private readonly redis: Redis;
  private readonly idleBlockers: Redis[] = [];
  private readonly allBlockers = new Set<Redis>();
  private readonly blockerIds = new WeakMap<Redis, number>();
  private readonly keyPrefix: string;
  private readonly maxLength: number;
  private readonly deadLetterMaxLength: number;
  private readonly connectTimeoutMs: number;
  private readonly logger?: Logger;
  private closed = false;
  private closing?: Promise<void>;

  constructor(options: RedisEventLogOptions) {
    this.keyPrefix = options.keyPrefix ?? DEFAULTS.keyPrefix;
    this.maxLength = options.maxLength ?? DEFAULTS.maxLength;
    this.deadLetterMaxLength = options.deadLetterMaxLength ?? DEFAULTS.deadLetterMaxLength;
    this.connectTimeoutMs = options.connectTimeoutMs ?? DEFAULTS.connectTimeoutMs;
    this.logger = options.logger;
    const maxDelay = options.reconnectMaxDelayMs ?? DEFAULTS.reconnectMaxDelayMs;
    this.redis = new Redis(options.url, {
      ...options.redisOptions,
      connectionName: 'lectern-events',
      enableOfflineQueue: false,
      // 0: a command in flight when the connection drops fails at once instead of being resent
      // later (a resent XADD could also land twice; the publisher retries it itself).
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      commandTimeout: options.commandTimeoutMs ?? DEFAULTS.commandTimeoutMs,
      connectTimeout: this.connectTimeoutMs,
      retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 10), maxDelay),
    });
    this.watch(this.redis, 'main');
  }

  /** Resolves true once connected, false if not within `timeoutMs` (the log keeps trying). */
  ready(timeoutMs = this.connectTimeoutMs): Promise<boolean> {
    return untilReady(this.redis, timeoutMs);
  }

  status(): 'up' | 'down' | 'closed' {
    if (this.closed) return 'closed';
    return this.redis.status === 'ready' ? 'up' : 'down';
  }

  async append(stream: string, events: readonly EngagementEvent[]): Promise<string[]> {
    this.open();
    assertName('stream', stream);
    const valid = events.map(validateEvent); // all or nothing: validate before sending any
    if (valid.length === 0) return [];
    const key = this.key(stream);
    const pipeline = this.redis.pipeline();
    for (const event of valid) {
      pipeline.xadd(key, 'MAXLEN', '~', this.maxLength, '*', EVENT_FIELD, JSON.stringify(event));
    }
    let results: [Error | null, unknown][];
    try {
      results = (await pipeline.exec()) ?? [];
    } catch (err) {
      throw new AppendError(`append to ${stream} failed: ${message(err)}`, [], { cause: err });
    }
    // Redis runs a pipeline in order. Confirm the prefix before the first failure, so the caller
    // retries from there, in order. (If a later command landed anyway, its retry is a duplicate
    // entry, which consumers drop by event id.)
    const ids: string[] = [];
    for (const [err, id] of results) {
      if (err) throw new AppendError(`append to ${stream} failed: ${err.message}`, ids, { cause: err });
      ids.push(String(id));
    }
    if (ids.length !== valid.length) throw new AppendError(`append to ${stream} was cut short`, ids);
    return ids;
  }

  async createGroup(stream: string, group: string, options: { startId?: string } = {}): Promise<boolean> {
    this.open();
    assertName('stream', stream);
    assertName('group', group);
    const startId = options.startId ?? '0';
    if (startId !== '$' && startId !== '0' && !isStreamId(startId)) throw new TypeError(`not a stream id: ${startId}`);
    try {
      await this.redis.xgroup('CREATE', this.key(stream), group, startId, 'MKSTREAM');
      return true;
    } catch (err) {
      if (message(err).startsWith('BUSYGROUP')) return false;
      throw err;
    }
  }

  async read(stream: string, group: string, consumer: string, options: ReadOptions): Promise<ReadEntry[]> {
    this.open();
    assertName('consumer', consumer);
    const args = ['GROUP', group, consumer, 'COUNT', options.count] as (string | number)[];
    const blockMs = options.blockMs ?? 0;
    if (blockMs <= 0) {
      return parseRead(
        await this.command(stream, group, this.redis.call('XREADGROUP', ...args, 'STREAMS', this.key(stream), '>')),
      );
    }
    if (options.signal?.aborted) return [];
    // Fail fast like every other command while Redis is away, instead of waiting for a blocking
    // connection to come up.
    if (this.redis.status !== 'ready') throw new Error(`redis is not connected (${this.redis.status})`);
    const conn = await this.acquireBlocker();
    let settled = false;
    // TIMEOUT mode: the blocked XREADGROUP returns as if it timed out, delivering nothing. The
    // abort may come before the command reached the server (nothing to unblock yet): keep trying
    // until the read returns.
    const unblock = async () => {
      while (!settled && !this.closed) {
        const id = this.blockerIds.get(conn);
        const unblocked = id === undefined ? 0 : await this.redis.client('UNBLOCK', id, 'TIMEOUT').catch(() => 0);
        if (unblocked === 1) return;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    };
    const onAbort = () => void unblock();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const reply = await this.command(
        stream,
        group,
        conn.call('XREADGROUP', ...args, 'BLOCK', blockMs, 'STREAMS', this.key(stream), '>'),
      );
      return parseRead(reply);
    } finally {
      settled = true;
      options.signal?.removeEventListener('abort', onAbort);
      this.releaseBlocker(conn);
    }
  }

  async ack(stream: string, group: string, ids: readonly string[]): Promise<number> {
    this.open();
    if (ids.length === 0) return 0;
    return this.redis.xack(this.key(stream), group, ...ids);
  }

  async reclaim(stream: string, group: string, consumer: string, options: ReclaimOptions): Promise<ReclaimResult> {
    this.open();
    assertName('consumer', consumer);
    const reply = (await this.command(
      stream,
      group,
      this.redis.eval(
        RECLAIM,
        1,
        this.key(stream),
        group,
        consumer,
        options.minIdleMs,
        options.cursor ?? '0-0',
        options.count,
      ),
    )) as [string, RawEntry[], string[], number[]];
    const [cursor, entries, deleted, deliveries] = reply;
    return {
      cursor: String(cursor),
      entries: entries.map((e, i) => decodeEntry(e, Number(deliveries[i]))),
      deleted: deleted.map(String),
    };
  }

  async pending(stream: string, group: string): Promise<PendingSummary> {
    this.open();
    const [count, smallest, largest, consumers] = (await this.command(
      stream,
      group,
      this.redis.xpending(this.key(stream), group),
    )) as [number, string | null, string | null, [string, string][] | null];
    return {
      count: Number(count),
      smallestId: smallest ?? null,
      largestId: largest ?? null,
      consumers: (consumers ?? []).map(([name, n]) => ({ name, pending: Number(n) })),
    };
  }

  async pendingEntries(stream: string, group: string, options: PendingEntriesOptions): Promise<PendingEntry[]> {
    this.open();
    const args: (string | number)[] = [this.key(stream), group];
    if (options.minIdleMs !== undefined) args.push('IDLE', options.minIdleMs);
    args.push(options.start ?? '-', '+', options.count);
    if (options.consumer !== undefined) args.push(options.consumer);
    const rows = (await this.command(stream, group, this.redis.call('XPENDING', ...args))) as [
      string,
      string,
      number,
      number,
    ][];
    return rows.map(([id, consumer, idle, deliveries]) => ({
      id,
      consumer,
      idleMs: Number(idle),
      deliveries: Number(deliveries),
    }));
  }

  async groups(stream: string): Promise<GroupInfo[]> {
    this.open();
    const key = this.key(stream);
    let rows: unknown[][];
    try {
      rows = (await this.redis.xinfo('GROUPS', key)) as unknown[][];
    } catch (err) {
      if (/no such key/i.test(message(err))) return [];
      throw err;
    }
    const infos = rows.map((row) => fields(row));
    if (infos.length === 0) return [];
    // The oldest pending id is not in XINFO GROUPS; one pipelined XPENDING summary per group.
    const pipeline = this.redis.pipeline();
    for (const info of infos) pipeline.xpending(key, String(info.name));
    const summaries = (await pipeline.exec()) ?? [];
    return infos.map((info, i) => {
      const [err, summary] = summaries[i] ?? [new Error('missing reply'), null];
      if (err) throw err;
      const lag = info.lag;
      return {
        name: String(info.name),
        consumers: Number(info.consumers),
        pending: Number(info.pending),
        lastDeliveredId: String(info['last-delivered-id']),
        oldestPendingId: ((summary as unknown[])[1] as string | null) ?? null,
        lag: lag === null || lag === undefined ? null : Number(lag),
      };
    });
  }

  async length(stream: string): Promise<number> {
    this.open();
    return this.redis.xlen(this.key(stream));
  }

  async range(stream: string, options: RangeOptions = {}): Promise<ReadEntry[]> {
    this.open();
    const args: (string | number)[] = [this.key(stream), options.start ?? '-', options.end ?? '+'];
    if (options.count !== undefined) args.push('COUNT', options.count);
    const rows = (await this.redis.call('XRANGE', ...args)) as RawEntry[];
    return rows.map((row) => decodeEntry(row, 0));
  }

  async trim(stream: string, options: TrimOptions): Promise<number> {
    this.open();
    const key = this.key(stream);
    const mode = options.approximate === false ? '=' : '~';
    let removed = 0;
    if (options.minId !== undefined) {
      removed += Number(await this.redis.call('XTRIM', key, 'MINID', mode, options.minId));
    }
    if (options.maxLength !== undefined) {
      removed += Number(await this.redis.call('XTRIM', key, 'MAXLEN', mode, options.maxLength));
    }
    return removed;
  }

  async deadLetter(
    stream: string,
    group: string,
    consumer: string,
    letters: readonly DeadLetterInput[],
  ): Promise<void> {
    this.open();
    if (letters.length === 0) return;
    const key = this.key(stream);
    const dead = this.key(deadLetterStream(stream));
    // MULTI: the copy and the ack happen together or not at all.
    const tx = this.redis.multi();
    for (const { entry, error } of letters) {
      tx.xadd(
        dead,
        'MAXLEN',
        '~',
        this.deadLetterMaxLength,
        '*',
        'originalId',
        entry.id,
        'group',
        group,
        'consumer',
        consumer,
        'deliveries',
        entry.deliveries,
        'error',
        error,
        EVENT_FIELD,
        entry.event ? JSON.stringify(entry.event) : entry.raw,
      );
    }
    tx.xack(key, group, ...letters.map((l) => l.entry.id));
    const results = (await tx.exec()) ?? [];
    for (const [err] of results) if (err) throw err;
  }

  async deadLetters(stream: string, options: { start?: string; count?: number } = {}): Promise<DeadLetter[]> {
    this.open();
    const args: (string | number)[] = [this.key(deadLetterStream(stream)), options.start ?? '-', '+'];
    if (options.count !== undefined) args.push('COUNT', options.count);
    const rows = (await this.redis.call('XRANGE', ...args)) as RawEntry[];
    return rows.map(([id, raw]) => {
      const f = fields(raw ?? []);
      const payload = String(f[EVENT_FIELD] ?? '');
      const decoded = decodeEvent(payload);
      return {
        id,
        originalId: String(f.originalId),
        group: String(f.group),
        consumer: String(f.consumer),
        deliveries: Number(f.deliveries),
        error: String(f.error),
        payload,
        event: 'event' in decoded ? decoded.event : null,
      };
    });
  }

  async deadLetterCount(stream: string): Promise<number> {
    this.open();
    return this.redis.xlen(this.key(deadLetterStream(stream)));
  }

  async removeConsumerIfIdle(stream: string, group: string, consumer: string): Promise<boolean> {
    this.open();
    const removed = await this.command(
      stream,
      group,
      this.redis.eval(REMOVE_CONSUMER_IF_IDLE, 1, this.key(stream), group, consumer),
    );
    return Number(removed) === 1;
  }

  seenEvents(namespace: string, options?: SeenEventsOptions): SeenEvents {
    this.open();
    assertName('namespace', namespace);
    return new RedisSeenEvents(this.redis, `${this.keyPrefix}seen:${namespace}:`, options);
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      this.closed = true;
      // A blocked connection would answer QUIT only after its BLOCK ran out: cut it now (its
      // read rejects). The main connection quits, so replies in flight still arrive.
      for (const conn of this.allBlockers) conn.disconnect();
      if (this.redis.status === 'ready') await this.redis.quit().catch(() => this.redis.disconnect());
      else this.redis.disconnect();
    })();
    return this.closing;
  }

  // --- internals ------------------------------------------------------------------------------

  private open(): void {
    if (this.closed) throw new EventLogClosedError();
  }

  private key(stream: string): string {
    return `${this.keyPrefix}${stream}`;
  }

  /** Awaits a command, turning Redis's NOGROUP reply into the port's NoGroupError. */
  private async command<T>(stream: string, group: string, pending: Promise<T>): Promise<T> {
    try {
      return await pending;
    } catch (err) {
      if (message(err).includes('NOGROUP')) throw new NoGroupError(stream, group, { cause: err });
      throw err;
    }
  }

  private async acquireBlocker(): Promise<Redis> {
    const idle = this.idleBlockers.pop();
    if (idle) return idle;
    const conn = this.redis.duplicate({
      connectionName: 'lectern-events-blocking',
      commandTimeout: undefined,
      // Blocking reads have their own client-side deadline: BLOCK plus a grace period.
      blockingTimeout: this.connectTimeoutMs,
    });
    this.allBlockers.add(conn);
    this.watch(conn, 'blocking');
    // CLIENT UNBLOCK needs the connection's id, which changes with every reconnection.
    const learnId = () => conn.client('ID').then((id) => void this.blockerIds.set(conn, Number(id)));
    conn.on('ready', () => void learnId().catch(() => {}));
    try {
      if (!(await untilReady(conn, this.connectTimeoutMs))) throw new Error('redis blocking connection is not ready');
      await learnId();
    } catch (err) {
      this.releaseBlocker(conn);
      throw err;
    }
    return conn;
  }

  private releaseBlocker(conn: Redis): void {
    if (this.closed) conn.disconnect();
    else this.idleBlockers.push(conn);
  }

  private watch(conn: Redis, name: string): void {
    let down = false;
    // Without an 'error' listener ioredis errors would crash the process: Redis being away must
    // not take the gateway down. One line per outage, not one per reconnection attempt.
    conn.on('error', (err) => {
      if (!down && !this.closed) this.logger?.warn({ err: message(err), connection: name }, 'event log: redis error');
      down = true;
    });
    conn.on('ready', () => {
      if (down) this.logger?.info({ connection: name }, 'event log: redis connection restored');
      down = false;
    });
  }
}

type RawEntry = [id: string, fields: (string | number)[] | null];

/**
 * XREADGROUP of one stream. RESP2 answers `[[key, entries]]`; RESP3 answers a map, which
 * ioredis's default "legacy" mapping flattens to `[key, entries]`. Accept both.
 */
function parseRead(reply: unknown): ReadEntry[] {
  if (!Array.isArray(reply) || reply.length === 0) return [];
  const entries = (typeof reply[0] === 'string' ? reply[1] : reply[0]?.[1]) as RawEntry[] | undefined;
  return (entries ?? []).map((entry) => decodeEntry(entry, 1));
}

function decodeEntry([id, raw]: RawEntry, deliveries: number): ReadEntry {
  const payload = fields(raw ?? [])[EVENT_FIELD];
  if (typeof payload !== 'string') {
    return { id, deliveries, event: null, raw: JSON.stringify(raw), reason: `entry has no ${EVENT_FIELD} field` };
  }
  const decoded = decodeEvent(payload);
  if ('error' in decoded) return { id, deliveries, event: null, raw: payload, reason: decoded.error };
  return { id, deliveries, event: decoded.event };
}

/** `[k1, v1, k2, v2, …]` (RESP2 shapes, which ioredis keeps under RESP3 by default) to an object. */
function fields(flat: readonly unknown[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) out[String(flat[i])] = flat[i + 1];
  return out;
}

function untilReady(conn: Redis, timeoutMs: number): Promise<boolean> {
  if (conn.status === 'ready') return Promise.resolve(true);
  return new Promise((resolve) => {
    const done = (ok: boolean) => {
      clearTimeout(timer);
      conn.off('ready', onReady);
      conn.off('end', onEnd);
      resolve(ok);
    };
    const onReady = () => done(true);
    const onEnd = () => done(false);
    const timer = setTimeout(() => done(false), timeoutMs);
    conn.on('ready', onReady);
    conn.on('end', onEnd);
  });
}

const message = (err: unknown) => (err instanceof Error ? err.message : String(err));
