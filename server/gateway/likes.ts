import { newEvent } from '../events';
import { TokenBucketLimiter } from '../ratelimit';
import { type GatewayContext, requireAccess, requireMember, requireUser } from './context';
import { ShortCache } from './short-cache';
import { type IoSocket, roomChannel } from './types';

/**
 * Likes are taps: many, small, and only their total matters. Taps are summed in memory and,
 * once per interval, added to each room's persisted total in one UPDATE per room. Then every
 * node tells its own members (`io.local`) the room's stored total, once per interval and only
 * when it changed — so a viewer hears at most one `like:count` per interval however many
 * viewers tap and however many nodes serve the room.
 */
export class LikeAggregator {
  private readonly pending = new Map<string, number>();
  /** The same taps by (room, user), recorded as one `likes.sent` event each per interval. */
  private readonly bySender = new Map<string, { roomId: string; userId: string; count: number }>();
  /** The total this node's members of each room last heard. */
  private readonly lastSent = new Map<string, number>();
  private readonly totals: ShortCache<number>;
  private readonly limiter: TokenBucketLimiter;
  private readonly timer: NodeJS.Timeout;
  private flushing: Promise<void> = Promise.resolve();

  constructor(private readonly ctx: GatewayContext) {
    const rate = ctx.config.likesPerSecond;
    this.limiter = new TokenBucketLimiter(rate * 2, rate);
    const interval = ctx.config.likeBroadcastIntervalMs;
    this.totals = new ShortCache(interval, (roomId) => this.read(roomId), { onLookup: ctx.cacheLookup('likes') });
    this.timer = setInterval(() => void this.flush(), interval);
    this.timer.unref();
  }

  /** Counts a viewer's taps; beyond the per-user rate extra taps are dropped, and the ack says so. */
  add(socket: IoSocket, roomId: string, count: number): { accepted: number } {
    const user = requireUser(socket);
    requireAccess(requireMember(this.ctx, socket, roomId));
    const accepted = this.limiter.takeUpTo(user.id, count);
    if (accepted > 0) {
      this.pending.set(roomId, (this.pending.get(roomId) ?? 0) + accepted);
      const key = `${roomId}|${user.id}`;
      const sender = this.bySender.get(key) ?? { roomId, userId: user.id, count: 0 };
      sender.count += accepted;
      this.bySender.set(key, sender);
    }
    return { accepted };
  }

  /** A room's stored total, at most one interval old (for joiners). */
  total(roomId: string): Promise<number> {
    return this.totals.get(roomId);
  }

  flush(): Promise<void> {
    this.flushing = this.flushing.then(async () => {
      const batch = [...this.pending];
      this.pending.clear();
      for (const { roomId, userId, count } of this.bySender.values()) {
        this.ctx.record(newEvent('likes.sent', { roomId, userId, data: { count } }));
      }
      this.bySender.clear();
      const known = new Map<string, number>();
      await Promise.all(
        batch.map(async ([roomId, count]) => {
          try {
            known.set(roomId, await this.ctx.rooms.addLikes(roomId, count));
          } catch (err) {
            this.ctx.log.warn({ err, roomId, count }, 'likes could not be saved');
          }
        }),
      );
      await this.broadcast(known);
    });
    return this.flushing;
  }

  /** Tells this node's members the totals that changed (taps saved here or on other nodes). */
  private async broadcast(known: Map<string, number>): Promise<void> {
    const local = new Set(this.ctx.memberships.roomIds());
    for (const roomId of this.lastSent.keys()) if (!local.has(roomId)) this.lastSent.delete(roomId);
    const unknown = [...local].filter((roomId) => !known.has(roomId));
    if (unknown.length > 0) {
      try {
        for (const [roomId, total] of await this.ctx.rooms.likesTotals(unknown)) known.set(roomId, total);
      } catch (err) {
        this.ctx.log.warn({ err }, 'like totals could not be read');
      }
    }
    for (const [roomId, total] of known) {
      this.totals.set(roomId, total);
      if (!local.has(roomId) || this.lastSent.get(roomId) === total) continue;
      // A room first seen here with no likes has nothing to tell: joiners got `likesTotal`.
      if (this.lastSent.has(roomId) || total > 0) {
        this.ctx.io.local.to(roomChannel(roomId)).emit('like:count', { roomId, total });
      }
      this.lastSent.set(roomId, total);
    }
  }

  private async read(roomId: string): Promise<number> {
    return (await this.ctx.rooms.likesTotals([roomId])).get(roomId) ?? 0;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }
}
