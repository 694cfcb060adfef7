import { type EngagementEvent, newEvent } from '../events';
import type { Membership, Memberships } from './memberships';

/**
 * Records watch time as `watch.heartbeat` events: every interval, each member with access gets
 * the seconds since its last beat; leaving records the remainder. Analytics sums them.
 */
export class WatchClock {
  private readonly lastBeat = new WeakMap<Membership, number>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly memberships: Memberships,
    private readonly record: (event: EngagementEvent) => void,
    intervalSeconds: number,
  ) {
    this.timer = setInterval(() => this.tick(), intervalSeconds * 1000);
    this.timer.unref();
  }

  /** Starts counting for a member (on join, and when access is regained). */
  start(m: Membership, now = Date.now()): void {
    this.lastBeat.set(m, now);
  }

  /** Records the time since the member's last beat, if it was watching. */
  beat(m: Membership, now = Date.now()): void {
    const since = this.lastBeat.get(m) ?? now;
    this.lastBeat.set(m, now);
    const seconds = Math.min(3600, Math.round((now - since) / 1000));
    if (seconds < 1 || m.access === 'none' || m.role === 'owner') return;
    this.record(
      newEvent('watch.heartbeat', {
        roomId: m.roomId,
        ...(m.user ? { userId: m.user.id } : {}),
        data: { seconds, access: m.access },
      }),
    );
  }

  tick(now = Date.now()): void {
    for (const roomId of this.memberships.roomIds()) for (const m of this.memberships.inRoom(roomId)) this.beat(m, now);
  }

  close(): void {
    clearInterval(this.timer);
    this.tick();
  }
}
