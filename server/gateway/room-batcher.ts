/**
 * Coalesces what a room is told (chat messages, tips) into few deliveries: the first item in a
 * quiet room goes out at once (on the next turn of the event loop, with whatever else that turn
 * brings); while the room is busy, at most one delivery per `intervalMs`, carrying everything
 * queued since. So N items a second cost each member a bounded number of frames, not N.
 */
export class RoomBatcher<T> {
  private readonly waiting = new Map<string, T[]>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  /** When each room's last delivery went out (rooms quiet for an interval are dropped). */
  private readonly lastSent = new Map<string, number>();
  private lastPrune = 0;

  constructor(
    private readonly intervalMs: number,
    private readonly deliver: (roomId: string, items: T[]) => void,
  ) {}

  push(roomId: string, item: T): void {
    const waiting = this.waiting.get(roomId);
    if (waiting) {
      waiting.push(item);
      return;
    }
    this.waiting.set(roomId, [item]);
    const wait = (this.lastSent.get(roomId) ?? 0) + this.intervalMs - Date.now();
    if (wait <= 0) {
      setImmediate(() => this.flush(roomId));
      return;
    }
    const timer = setTimeout(() => this.flush(roomId), wait);
    timer.unref();
    this.timers.set(roomId, timer);
  }

  /** Delivers the room's queued items now (before an event that must follow them). */
  flush(roomId: string): void {
    clearTimeout(this.timers.get(roomId));
    this.timers.delete(roomId);
    const items = this.waiting.get(roomId);
    if (!items) return;
    this.waiting.delete(roomId);
    const now = Date.now();
    // Rooms quiet for longer than the interval need no entry (ended ones must not pile up);
    // looked for at most once an interval, not on every delivery of a node with many rooms.
    if (this.lastSent.size > 256 && now - this.lastPrune >= this.intervalMs) {
      this.lastPrune = now;
      for (const [id, at] of this.lastSent) if (now - at >= this.intervalMs) this.lastSent.delete(id);
    }
    this.lastSent.set(roomId, now);
    this.deliver(roomId, items);
  }

  /** Delivers everything still queued. */
  close(): void {
    for (const roomId of [...this.waiting.keys()]) this.flush(roomId);
  }
}
