import { Limits } from '../../protocol';

/** Slow mode's longest setting: a time older than this can never refuse a message. */
const SLOW_MODE_MAX_MS = Limits.slowModeSecondsMax * 1000;

/**
 * When each (room, user) last spoke, for slow mode. Bounded without forgetting everyone at once:
 * the map's order is its age, times older than the longest slow mode are dropped as new ones
 * arrive, and past `maxKeys` the oldest go first (they are the nearest to expiring anyway).
 */
export class LastSpoke {
  private readonly times = new Map<string, number>();

  constructor(
    private readonly maxKeys = 100_000,
    private readonly maxAgeMs = SLOW_MODE_MAX_MS,
  ) {}

  get(key: string): number | undefined {
    return this.times.get(key);
  }

  /**
   * Records that `key` spoke at `at`, before the message is saved, so a second message sent
   * meanwhile already sees it. Returns an undo for a message that could not be saved.
   */
  record(key: string, at: number): () => void {
    const previous = this.times.get(key);
    this.times.delete(key);
    this.times.set(key, at);
    for (const [k, t] of this.times) {
      if (this.times.size <= this.maxKeys && at - t < this.maxAgeMs) break;
      this.times.delete(k);
    }
    return () => {
      if (this.times.get(key) !== at) return;
      this.times.delete(key);
      if (previous !== undefined) this.times.set(key, previous);
    };
  }

  get size(): number {
    return this.times.size;
  }
}
