/**
 * Token buckets keyed by a string (user id, IP, user+room). In-process: each gateway node
 * enforces its own limits, which bounds per-connection abuse without a network round trip on
 * the hot path. Idle buckets are forgotten so the map stays small.
 */
export interface TakeResult {
  ok: boolean;
  /** When `ok` is false: how long until `cost` tokens are available. */
  retryAfterMs: number;
}

export class TokenBucketLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private readonly refillPerMs: number;

  /**
   * @param capacity burst size
   * @param refillPerSecond sustained rate
   */
  constructor(
    private readonly capacity: number,
    refillPerSecond: number,
    private readonly now: () => number = Date.now,
    private readonly maxKeys = 100_000,
  ) {
    this.refillPerMs = refillPerSecond / 1000;
  }

  take(key: string, cost = 1): TakeResult {
    const bucket = this.refill(key);
    if (bucket.tokens >= cost) {
      bucket.tokens -= cost;
      return { ok: true, retryAfterMs: 0 };
    }
    return { ok: false, retryAfterMs: (cost - bucket.tokens) / this.refillPerMs };
  }

  /** Takes as many whole tokens as are available, up to `max`; returns how many it took. */
  takeUpTo(key: string, max: number): number {
    const bucket = this.refill(key);
    const taken = Math.max(0, Math.min(max, Math.floor(bucket.tokens)));
    bucket.tokens -= taken;
    return taken;
  }

  /**
   * Forgets a key whose owner went away. Unless `force`, only once its bucket has refilled:
   * forgetting a partly used bucket would hand a fresh burst to whoever comes back with the key.
   */
  forget(key: string, force = false): void {
    if (force || this.refill(key).tokens >= this.capacity) this.buckets.delete(key);
  }

  get size(): number {
    return this.buckets.size;
  }

  private refill(key: string): { tokens: number; at: number } {
    const now = this.now();
    let bucket = this.buckets.get(key);
    if (bucket) {
      bucket.tokens = Math.min(this.capacity, bucket.tokens + (now - bucket.at) * this.refillPerMs);
      bucket.at = now;
    } else {
      if (this.buckets.size >= this.maxKeys) this.sweep(now);
      bucket = { tokens: this.capacity, at: now };
      this.buckets.set(key, bucket);
    }
    return bucket;
  }

  /** Drops buckets that have refilled completely (they behave exactly like absent ones). */
  private sweep(now: number): void {
    const fullAfterMs = this.capacity / this.refillPerMs;
    for (const [key, b] of this.buckets) if (now - b.at >= fullAfterMs) this.buckets.delete(key);
    // Still full of active keys: forget the oldest rather than grow without bound.
    if (this.buckets.size >= this.maxKeys) {
      const excess = this.buckets.size - this.maxKeys + 1;
      let i = 0;
      for (const key of this.buckets.keys()) {
        if (i++ >= excess) break;
        this.buckets.delete(key);
      }
    }
  }
}
