import { newEvent } from '../events';
import { TokenBucketLimiter } from '../ratelimit';
import { type GatewayContext, requireAccess, requireMember, requireUser } from './context';
import { type IoSocket, roomChannel } from './types';

/**
 * Likes are taps: many, small, and only their total matters. Taps are summed in memory and,
 * once per interval per room, added to the room's persisted total in one UPDATE and broadcast
 * as one `like:count` — so 5,000 viewers tapping cost one message per viewer per interval, not
 * one per tap.
 */
export class LikeAggregator {
  private readonly pending = new Map<string, number>();
  /** The same taps by (room, user), recorded as one `likes.sent` event each per interval. */
  private readonly bySender = new Map<string, { roomId: string; userId: string; count: number }>();
  private readonly limiter: TokenBucketLimiter;
  private readonly timer: NodeJS.Timeout;
  private flushing: Promise<void> = Promise.resolve();

  constructor(private readonly ctx: GatewayContext) {
    const rate = ctx.config.likesPerSecond;
    this.limiter = new TokenBucketLimiter(rate * 2, rate);
    this.timer = setInterval(() => void this.flush(), ctx.config.likeBroadcastIntervalMs);
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

  flush(): Promise<void> {
    this.flushing = this.flushing.then(async () => {
      const batch = [...this.pending];
      this.pending.clear();
      for (const { roomId, userId, count } of this.bySender.values()) {
        this.ctx.record(newEvent('likes.sent', { roomId, userId, data: { count } }));
      }
      this.bySender.clear();
      await Promise.all(
        batch.map(async ([roomId, count]) => {
          try {
            const total = await this.ctx.rooms.addLikes(roomId, count);
            this.ctx.io.to(roomChannel(roomId)).emit('like:count', { roomId, total });
          } catch (err) {
            this.ctx.log.warn({ err, roomId, count }, 'likes could not be saved');
          }
        }),
      );
    });
    return this.flushing;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }
}
