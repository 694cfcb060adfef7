import { type EngagementEvent, newEvent } from '../events';
import type { Membership, Memberships } from './memberships';

/**
 * Turns per interval: the members are dealt round-robin into this many groups and one group
 * beats per turn. Beating everyone at once stalled a node with 5,000 viewers for 0.7 s every
 * interval (docs/benchmarks.md); dealt out, each turn carries a thirtieth of that.
 */
const TURNS = 30;

/**
 * Records watch time as `watch.heartbeat` events: once per interval each member with access
 * gets the seconds since its last beat; leaving records the remainder. Analytics sums them.
 */
export class WatchClock {
  private readonly lastBeat = new WeakMap<Membership, number>();
  /** Which turn of the interval each member beats in, dealt on `start`. */
  private readonly turnOf = new WeakMap<Membership, number>();
  private dealt = 0;
  private turn = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly memberships: Memberships,
    private readonly record: (event: EngagementEvent) => void,
    intervalSeconds: number,
  ) {
    this.timer = setInterval(() => this.tick(), (intervalSeconds * 1000) / TURNS);
    this.timer.unref();
  }

  /** Starts counting for a member (on join, and when access is regained). */
  start(m: Membership, now = Date.now()): void {
    this.lastBeat.set(m, now);
    if (!this.turnOf.has(m)) this.turnOf.set(m, this.dealt++ % TURNS);
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

  /** One turn: the members dealt to it beat (so each beats once per interval). */
  tick(now = Date.now()): void {
    const turn = this.turn;
    this.turn = (turn + 1) % TURNS;
    for (const roomId of this.memberships.roomIds())
      for (const m of this.memberships.inRoom(roomId)) if ((this.turnOf.get(m) ?? 0) === turn) this.beat(m, now);
  }

  close(): void {
    clearInterval(this.timer);
    const now = Date.now();
    for (const roomId of this.memberships.roomIds()) for (const m of this.memberships.inRoom(roomId)) this.beat(m, now);
  }
}
