/**
 * A log-bucketed latency histogram (2 % relative resolution from 0.01 ms to an hour): constant
 * memory however many samples, cheap to record, and mergeable, so each worker thread keeps its
 * own and the controller adds them up. Percentiles come back within 2 % of the exact value.
 */
const MIN_MS = 0.01;
const GROWTH = 1.02;
const LOG_GROWTH = Math.log(GROWTH);
export const BUCKETS = 1000;

/** Sparse form for postMessage: [bucket, count] pairs, then the exact max. */
export interface SparseHistogram {
  buckets: [number, number][];
  max: number;
}

export interface Percentiles {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export class Histogram {
  private readonly counts = new Uint32Array(BUCKETS);
  count = 0;
  max = 0;

  record(ms: number): void {
    const i = ms <= MIN_MS ? 0 : Math.min(BUCKETS - 1, Math.ceil(Math.log(ms / MIN_MS) / LOG_GROWTH));
    this.counts[i]++;
    this.count++;
    if (ms > this.max) this.max = ms;
  }

  /** The non-empty buckets (and resets this histogram when `reset`). */
  sparse(reset = false): SparseHistogram {
    const buckets: [number, number][] = [];
    for (let i = 0; i < BUCKETS; i++) if (this.counts[i] > 0) buckets.push([i, this.counts[i]]);
    const out = { buckets, max: this.max };
    if (reset) this.clear();
    return out;
  }

  merge(other: SparseHistogram): void {
    for (const [i, n] of other.buckets) {
      this.counts[i] += n;
      this.count += n;
    }
    if (other.max > this.max) this.max = other.max;
  }

  clear(): void {
    this.counts.fill(0);
    this.count = 0;
    this.max = 0;
  }

  /** The value at quantile q (0..1), in ms; 0 when empty. */
  quantile(q: number): number {
    if (this.count === 0) return 0;
    const rank = Math.max(1, Math.ceil(q * this.count));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i];
      if (seen >= rank) {
        // The middle of the bucket (geometrically), never above the largest value seen.
        const value = i === 0 ? MIN_MS : MIN_MS * GROWTH ** (i - 0.5);
        return Math.min(value, this.max);
      }
    }
    return this.max;
  }

  percentiles(): Percentiles {
    const r = (v: number) => Math.round(v * 100) / 100;
    return {
      count: this.count,
      p50: r(this.quantile(0.5)),
      p95: r(this.quantile(0.95)),
      p99: r(this.quantile(0.99)),
      max: r(this.max),
    };
  }
}

/** A monotonic clock in ms shared by every thread and process on the machine (CLOCK_MONOTONIC). */
export function monoMs(): number {
  const [s, ns] = process.hrtime();
  return s * 1e3 + ns / 1e6;
}
