import type { Redis } from 'ioredis';
import type { Logger } from '../log';
import type { Memberships } from './memberships';
import { type IoServer, roomChannel } from './types';

/**
 * Where nodes publish their per-room viewer counts so every node can show the room's total.
 * In-process: this node's count is the total. Redis: a hash per room, one field per node.
 */
export interface ViewerCountStore {
  /** Publishes this node's counts for `counts` and returns the totals of those rooms. */
  exchange(counts: Map<string, number>): Promise<Map<string, number>>;
  /** The totals other nodes published for these rooms, publishing nothing (rooms without any are left out). */
  read(roomIds: string[]): Promise<Map<string, number>>;
  close(): Promise<void>;
}

export class LocalViewerCounts implements ViewerCountStore {
  async exchange(counts: Map<string, number>) {
    return new Map(counts);
  }
  /** One node: nobody else publishes; this node's own members are the count. */
  async read() {
    return new Map<string, number>();
  }
  async close() {}
}

/** The sum of the nodes' `count:timestamp` fields refreshed within `staleMs`. */
function freshTotal(fields: Record<string, string> | null | undefined, now: number, staleMs: number): number {
  let total = 0;
  for (const value of Object.values(fields ?? {})) {
    const [count, at] = value.split(':').map(Number);
    if (now - at <= staleMs) total += count;
  }
  return total;
}

/**
 * Each node writes `count:timestamp` into `<prefix>viewers:<roomId>` under its node id; totals
 * ignore entries not refreshed for `staleMs` (a node that died), and a node with no viewers left
 * removes its field.
 */
export class RedisViewerCounts implements ViewerCountStore {
  constructor(
    private readonly redis: Redis,
    private readonly nodeId: string,
    private readonly staleMs: number,
    private readonly prefix = 'lectern:',
  ) {}

  async exchange(counts: Map<string, number>) {
    const now = Date.now();
    const pipeline = this.redis.pipeline();
    const rooms = [...counts.keys()];
    for (const [roomId, count] of counts) {
      const key = `${this.prefix}viewers:${roomId}`;
      if (count > 0) pipeline.hset(key, this.nodeId, `${count}:${now}`).pexpire(key, this.staleMs * 3);
      else pipeline.hdel(key, this.nodeId);
      pipeline.hgetall(key);
    }
    const results = (await pipeline.exec()) ?? [];
    const totals = new Map<string, number>();
    let i = 0;
    for (const roomId of rooms) {
      i += counts.get(roomId)! > 0 ? 2 : 1;
      const [err, fields] = results[i++] as [Error | null, Record<string, string>];
      if (err) throw err;
      totals.set(roomId, freshTotal(fields, now, this.staleMs));
    }
    return totals;
  }

  async read(roomIds: string[]) {
    const totals = new Map<string, number>();
    if (roomIds.length === 0) return totals;
    const pipeline = this.redis.pipeline();
    for (const roomId of roomIds) pipeline.hgetall(`${this.prefix}viewers:${roomId}`);
    const results = (await pipeline.exec()) ?? [];
    const now = Date.now();
    roomIds.forEach((roomId, i) => {
      const [err, fields] = results[i] as [Error | null, Record<string, string>];
      if (err) throw err;
      totals.set(roomId, freshTotal(fields, now, this.staleMs));
    });
    return totals;
  }

  async close() {}
}

/**
 * Broadcasts `viewers:count` at a bounded rate: once per interval at most, per room, and only
 * when the number changed. Each node tells its own sockets (`io.local`), so a room spread over
 * N nodes costs N local broadcasts per interval, never one per join or leave.
 */
export class Presence {
  private readonly lastSent = new Map<string, number>();
  private readonly known = new Map<string, number>();
  private readonly timer: NodeJS.Timeout;
  private running = false;

  constructor(
    private readonly io: IoServer,
    private readonly memberships: Memberships,
    private readonly store: ViewerCountStore,
    intervalMs: number,
    private readonly log: Logger,
  ) {
    this.timer = setInterval(() => void this.tick(), intervalMs);
    this.timer.unref();
  }

  /** The best current estimate for a room: the last known total, at least this node's viewers. */
  count(roomId: string): number {
    return Math.max(this.known.get(roomId) ?? 0, this.memberships.viewerCount(roomId));
  }

  /**
   * Viewers of these rooms across the cluster, for pages listing rooms: what the nodes last
   * published, at least this node's own. A store that cannot be read leaves this node's counts.
   */
  async totals(roomIds: string[]): Promise<Map<string, number>> {
    let published = new Map<string, number>();
    try {
      published = await this.store.read(roomIds);
    } catch (err) {
      this.log.warn({ err }, 'viewer counts could not be read');
    }
    return new Map(roomIds.map((roomId) => [roomId, Math.max(published.get(roomId) ?? 0, this.count(roomId))]));
  }

  async tick(): Promise<void> {
    if (this.running) return; // a slow store must not pile up ticks
    this.running = true;
    try {
      const counts = new Map<string, number>();
      for (const roomId of new Set([...this.memberships.roomIds(), ...this.lastSent.keys()])) {
        counts.set(roomId, this.memberships.viewerCount(roomId));
      }
      if (counts.size === 0) return;
      const totals = await this.store.exchange(counts);
      for (const [roomId, total] of totals) {
        this.known.set(roomId, total);
        if (counts.get(roomId) === 0 && this.memberships.inRoom(roomId).length === 0) {
          // Nobody here to tell; forget the room.
          this.lastSent.delete(roomId);
          this.known.delete(roomId);
          continue;
        }
        if (this.lastSent.get(roomId) !== total) {
          this.lastSent.set(roomId, total);
          this.io.local.to(roomChannel(roomId)).emit('viewers:count', { roomId, count: total });
        }
      }
    } catch (err) {
      this.log.warn({ err }, 'viewer count exchange failed');
    } finally {
      this.running = false;
    }
  }

  forget(roomId: string): void {
    this.lastSent.delete(roomId);
    this.known.delete(roomId);
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.store.close();
  }
}
