import {
  DAY_MS,
  HOUR_MS,
  MINUTE_MS,
  perBucket,
  timeTicks,
  wholeIncrements,
  yRange,
} from '../../web/src/lib/dashboard-axis';

/**
 * The dashboard's time axes (web/src/lib/dashboard-axis.ts): a tick spacing chosen from the span and
 * the width, short labels, no two neighbours alike, nothing hanging off an edge. Times are built in
 * local time, as the page shows them, so the test holds in any time zone.
 */

const local = (y: number, m: number, d: number, h = 0, min = 0) => new Date(y, m - 1, d, h, min).getTime();
const measure = (label: string) => label.length * 7;

function expectReadable(ticks: { at: number; label: string }[], start: number, end: number, width: number, room = 0) {
  expect(ticks.length).toBeGreaterThanOrEqual(2);
  const px = (t: number) => ((t - start) / (end - start)) * width;
  for (const [i, t] of ticks.entries()) {
    expect(t.at).toBeGreaterThanOrEqual(start);
    expect(t.at).toBeLessThanOrEqual(end);
    // Not cut off: the label fits inside the plot plus the room beside it.
    expect(px(t.at) - measure(t.label) / 2).toBeGreaterThanOrEqual(-room);
    expect(px(t.at) + measure(t.label) / 2).toBeLessThanOrEqual(width + room);
    if (i > 0) {
      const prev = ticks[i - 1];
      expect(t.label).not.toBe(prev.label); // no repeated neighbours
      expect(px(t.at) - px(prev.at)).toBeGreaterThanOrEqual((measure(prev.label) + measure(t.label)) / 2);
    }
  }
}

describe('time ticks', () => {
  it('marks a 10-minute session in minutes on a desktop, every other minute or so on a phone', () => {
    const start = local(2026, 3, 3, 10, 0);
    const end = start + 10 * MINUTE_MS;
    const desktop = timeTicks(start, end, { width: 700, leftRoom: 40, measure });
    expectReadable(desktop, start, end, 700, 40);
    expect(desktop.length).toBeGreaterThanOrEqual(5);
    expect(desktop[1].at - desktop[0].at).toBeLessThanOrEqual(2 * MINUTE_MS);
    const phone = timeTicks(start, end, { width: 280, leftRoom: 40, measure });
    expectReadable(phone, start, end, 280, 40);
    expect(phone.length).toBeLessThan(desktop.length);
    // Times of day only: the same day throughout.
    for (const t of [...desktop, ...phone]) expect(t.label).toMatch(/^\d{1,2}[:.]\d{2}(\s?[AP]M)?$/i);
    expect(new Set(desktop.map((t) => t.label)).size).toBe(desktop.length);
  });

  it('marks days across a multi-day range, with short dates and no repeats', () => {
    const start = local(2026, 2, 25);
    const end = local(2026, 3, 27); // 30 days
    for (const width of [1000, 300]) {
      const ticks = timeTicks(start, end, { width, measure, daysAtNoon: true });
      expectReadable(ticks, start, end, width);
      expect(new Set(ticks.map((t) => t.label)).size).toBe(ticks.length);
      for (const t of ticks) {
        expect(new Date(t.at).getHours()).toBe(12); // under the middle of the day's bar
        expect(t.label.length).toBeLessThanOrEqual(9); // "Mar 14" (or "14. März"), not a full date and time
      }
    }
  });

  it('names the day at midnight when a session runs across days, and says the time elsewhere', () => {
    const start = local(2026, 3, 3, 20, 0);
    const end = local(2026, 3, 5, 8, 0); // 36 hours
    const ticks = timeTicks(start, end, { width: 900, leftRoom: 40, measure });
    expectReadable(ticks, start, end, 900, 40);
    const midnights = ticks.filter((t) => new Date(t.at).getHours() === 0 && new Date(t.at).getMinutes() === 0);
    expect(midnights.length).toBe(2);
    for (const m of midnights) expect(m.label).not.toMatch(/\d[:.]\d{2}/); // a date, not 00:00
    expect(ticks.some((t) => /\d[:.]\d{2}/.test(t.label))).toBe(true);
  });

  it('shows the year where a range crosses one', () => {
    const start = local(2025, 12, 1);
    const end = local(2026, 2, 1);
    const ticks = timeTicks(start, end, { width: 600, measure, daysAtNoon: true });
    expectReadable(ticks, start, end, 600);
    expect(ticks.filter((t) => /2026/.test(t.label)).length).toBeGreaterThanOrEqual(1);
  });

  it('gives nothing for an empty span and never more than fits', () => {
    expect(timeTicks(5, 5, { width: 500 })).toEqual([]);
    const start = local(2026, 3, 3);
    const ticks = timeTicks(start, start + 7 * DAY_MS, { width: 120, measure });
    expect(ticks.length).toBeLessThanOrEqual(2);
    expect(timeTicks(start, start + HOUR_MS, { width: 2000, measure }).length).toBeGreaterThan(4);
  });
});

describe('y axes', () => {
  it('steps in whole numbers only, so counts and minor units never repeat a label', () => {
    const incrs = wholeIncrements(1e6);
    expect(incrs.slice(0, 4)).toEqual([1, 2, 5, 10]);
    expect(incrs).toContain(25);
    expect(incrs.every(Number.isInteger)).toBe(true);
    expect(yRange(0)).toEqual([0, 1]);
    expect(yRange(0.4)).toEqual([0, 1]);
    expect(yRange(7.2)).toEqual([0, 8]);
    expect(yRange(4)).toEqual([0, 5]); // headroom: the highest bar does not touch the top
  });

  it('says what a bucket is in words', () => {
    expect(perBucket(60)).toBe('per minute');
    expect(perBucket(300)).toBe('per 5 minutes');
    expect(perBucket(3600)).toBe('per hour');
    expect(perBucket(7200)).toBe('per 2 hours');
    expect(perBucket(86400)).toBe('per day');
  });
});
