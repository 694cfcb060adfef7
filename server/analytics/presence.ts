/**
 * Concurrent viewers from joins and leaves, by event time. Each instant's net change (+joins
 * −leaves at that millisecond) is stored; the number of viewers at t is the sum of the changes at
 * or before t. Computing from the sorted changes, rather than keeping a running count as events
 * arrive, makes the result independent of the order events are delivered in (the log does not
 * keep order across retries).
 */

export interface PresenceChange {
  /** Epoch milliseconds. */
  at: number;
  /** Net joins minus leaves at that instant. */
  delta: number;
}

export interface PresenceSummary {
  /** Most viewers at any instant of [start, end). */
  peak: number;
  /** Integral of viewers over [start, end), in viewer-milliseconds. */
  viewerMs: number;
}

export interface PresenceBucket extends PresenceSummary {
  /** Bucket start, epoch ms (a multiple of the bucket length). */
  start: number;
  /** Milliseconds of the bucket that lie inside the session. */
  coveredMs: number;
}

/**
 * A constant stretch of the viewer count: [from, to) with `count` viewers. Negative counts (a
 * leave whose join was never recorded) are taken as 0, so a lost event cannot produce nonsense.
 */
interface Stretch {
  from: number;
  to: number;
  count: number;
}

/** The stretches covering [start, end); `changes` sorted by `at`, one per instant. */
function stretches(changes: readonly PresenceChange[], start: number, end: number): Stretch[] {
  const out: Stretch[] = [];
  if (!(end > start)) return out;
  let i = 0;
  let count = 0;
  // Changes at or before the start make up the audience the session opens with.
  while (i < changes.length && changes[i].at <= start) count += changes[i++].delta;
  let from = start;
  for (; i < changes.length && changes[i].at < end; i++) {
    out.push({ from, to: changes[i].at, count: Math.max(0, count) });
    count += changes[i].delta;
    from = changes[i].at;
  }
  out.push({ from, to: end, count: Math.max(0, count) });
  return out;
}

export function summarizePresence(changes: readonly PresenceChange[], start: number, end: number): PresenceSummary {
  let peak = 0;
  let viewerMs = 0;
  for (const s of stretches(changes, start, end)) {
    if (s.to <= s.from) continue;
    peak = Math.max(peak, s.count);
    viewerMs += s.count * (s.to - s.from);
  }
  return { peak, viewerMs };
}

/**
 * Peak and viewer-time per clock-aligned bucket of `bucketMs`, for every bucket that overlaps
 * [start, end). Work is proportional to changes + buckets.
 */
export function presenceBuckets(
  changes: readonly PresenceChange[],
  start: number,
  end: number,
  bucketMs: number,
): PresenceBucket[] {
  if (!(end > start)) return [];
  const first = Math.floor(start / bucketMs) * bucketMs;
  const buckets: PresenceBucket[] = [];
  for (let b = first; b < end; b += bucketMs) {
    buckets.push({ start: b, peak: 0, viewerMs: 0, coveredMs: Math.min(end, b + bucketMs) - Math.max(start, b) });
  }
  for (const s of stretches(changes, start, end)) {
    for (let k = Math.floor((s.from - first) / bucketMs); k < buckets.length; k++) {
      const bucket = buckets[k];
      const from = Math.max(s.from, bucket.start);
      const to = Math.min(s.to, bucket.start + bucketMs);
      if (to <= from) {
        if (bucket.start >= s.to) break;
        continue;
      }
      bucket.peak = Math.max(bucket.peak, s.count);
      bucket.viewerMs += s.count * (to - from);
    }
  }
  return buckets;
}
