/**
 * A tiny single-flight cache with a time-to-live: concurrent readers of a missing key share one
 * load, failures are not cached, and the key count is bounded. The gateway uses it for data
 * that join storms read thousands of times a second but that may be a moment stale.
 */
export interface ShortCacheOptions {
  /** Default 10,000. */
  maxKeys?: number;
  /** Told of every lookup (for hit-rate metrics). */
  onLookup?: (hit: boolean) => void;
}

export class ShortCache<T> {
  private readonly entries = new Map<string, { at: number; value: Promise<T> }>();
  private readonly maxKeys: number;
  private readonly onLookup?: (hit: boolean) => void;

  constructor(
    private readonly ttlMs: number,
    private readonly load: (key: string) => Promise<T>,
    options: ShortCacheOptions = {},
  ) {
    this.maxKeys = options.maxKeys ?? 10_000;
    this.onLookup = options.onLookup;
  }

  get(key: string): Promise<T> {
    const hit = this.entries.get(key);
    if (hit && Date.now() - hit.at < this.ttlMs) {
      this.onLookup?.(true);
      return hit.value;
    }
    this.onLookup?.(false);
    return this.store(key, this.load(key));
  }

  /** Stores a value known to be current (read along with something else). */
  set(key: string, value: T): void {
    this.store(key, Promise.resolve(value));
  }

  private store(key: string, value: Promise<T>): Promise<T> {
    this.entries.delete(key); // re-insert at the end: the map's order is its age
    this.entries.set(key, { at: Date.now(), value });
    value.catch(() => {
      if (this.entries.get(key)?.value === value) this.entries.delete(key);
    });
    if (this.entries.size > this.maxKeys) this.entries.delete(this.entries.keys().next().value as string);
    return value;
  }

  invalidate(key: string): void {
    this.entries.delete(key);
  }
}
