import { presenceBuckets, summarizePresence } from './presence';

const S = 1_700_000_080_000; // 40 s past a minute boundary
const sec = (n: number) => S + n * 1000;

describe('summarizePresence', () => {
  it('takes the peak and the viewer-time of the window from sorted changes', () => {
    // 1 viewer from 0-30 s, 2 from 30-60 s, 3 from 60-90 s, 1 from 90-120 s.
    const changes = [
      { at: sec(0), delta: 1 },
      { at: sec(30), delta: 1 },
      { at: sec(60), delta: 1 },
      { at: sec(90), delta: -2 },
    ];
    expect(summarizePresence(changes, sec(0), sec(120))).toEqual({ peak: 3, viewerMs: (30 + 60 + 90 + 30) * 1000 });
  });

  it('counts viewers who joined before the start from the start, and ignores changes at or after the end', () => {
    const changes = [
      { at: sec(-100), delta: 2 },
      { at: sec(10), delta: -1 },
      { at: sec(20), delta: 5 }, // at the end: outside [start, end)
    ];
    expect(summarizePresence(changes, sec(0), sec(20))).toEqual({ peak: 2, viewerMs: (2 * 10 + 1 * 10) * 1000 });
  });

  it('treats a negative running count (a lost join) as no viewers', () => {
    const changes = [
      { at: sec(0), delta: -1 },
      { at: sec(10), delta: 2 },
    ];
    expect(summarizePresence(changes, sec(0), sec(20))).toEqual({ peak: 1, viewerMs: 10_000 });
  });

  it('is empty for an empty window', () => {
    expect(summarizePresence([{ at: sec(0), delta: 1 }], sec(5), sec(5))).toEqual({ peak: 0, viewerMs: 0 });
  });
});

describe('presenceBuckets', () => {
  it('splits peak and viewer-time over clock-aligned buckets, covering only the window', () => {
    const changes = [
      { at: sec(0), delta: 2 }, // 2 viewers from S (…:40) …
      { at: sec(30), delta: 1 }, // … 3 from …:10 of the next minute …
      { at: sec(50), delta: -3 }, // … none from …:30 to the end (…:20 of the third minute)
    ];
    const buckets = presenceBuckets(changes, sec(0), sec(100), 60_000);
    expect(buckets.map((b) => b.start)).toEqual([S - 40_000, S + 20_000, S + 80_000]);
    expect(buckets[0]).toMatchObject({ peak: 2, viewerMs: 2 * 20_000, coveredMs: 20_000 });
    expect(buckets[1]).toMatchObject({ peak: 3, viewerMs: 2 * 10_000 + 3 * 20_000, coveredMs: 60_000 });
    expect(buckets[2]).toMatchObject({ peak: 0, viewerMs: 0, coveredMs: 20_000 });
    // The buckets add up to the whole.
    const whole = summarizePresence(changes, sec(0), sec(100));
    expect(buckets.reduce((n, b) => n + b.viewerMs, 0)).toBe(whole.viewerMs);
    expect(Math.max(...buckets.map((b) => b.peak))).toBe(whole.peak);
  });

  it('fills long quiet stretches bucket by bucket', () => {
    const buckets = presenceBuckets([{ at: S - 40_000, delta: 1 }], S - 40_000, S - 40_000 + 5 * 60_000, 60_000);
    expect(buckets).toHaveLength(5);
    for (const b of buckets) expect(b).toMatchObject({ peak: 1, viewerMs: 60_000, coveredMs: 60_000 });
  });
});
