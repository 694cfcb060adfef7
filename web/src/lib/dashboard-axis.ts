/**
 * Readable chart axes for the dashboard: where the time ticks go and what they say, chosen from
 * the span shown and the room there is, and y ticks that are whole numbers (counts) or whole minor
 * units (money), so no two ticks ever read the same and no date is cut off at an edge.
 *
 * Pure functions of their inputs (times in epoch ms, widths in CSS pixels), so they are tested
 * without a browser. Times are the viewer's local time (`Intl`, the browser's time zone).
 */

import { messages } from './i18n';

export const MINUTE_MS = 60_000;
export const HOUR_MS = 60 * MINUTE_MS;
export const DAY_MS = 24 * HOUR_MS;

/** Tick spacings, smallest first: every one divides the next period up (minutes divide hours, hours divide a day). */
const STEPS = [
  MINUTE_MS,
  2 * MINUTE_MS,
  5 * MINUTE_MS,
  10 * MINUTE_MS,
  15 * MINUTE_MS,
  30 * MINUTE_MS,
  HOUR_MS,
  2 * HOUR_MS,
  3 * HOUR_MS,
  6 * HOUR_MS,
  12 * HOUR_MS,
  DAY_MS,
  2 * DAY_MS,
  7 * DAY_MS,
  14 * DAY_MS,
  28 * DAY_MS,
];

export interface Tick {
  /** Epoch milliseconds. */
  at: number;
  label: string;
}

export interface TimeAxisOptions {
  /** Width of the plotting area, CSS pixels. */
  width: number;
  /** Room beyond the plotting area on the left and right (the y axes), where a label may overhang. */
  leftRoom?: number;
  rightRoom?: number;
  /** Day ticks at noon, under the middle of each day (charts of one bar per day). */
  daysAtNoon?: boolean;
  /** Width of a label in pixels; by default about 7 px per character of a 12 px font. */
  measure?: (label: string) => number;
  locale?: string;
}

/** Blank space wanted between two labels. */
const GAP_PX = 16;
/** Narrower than any label ("9:05"). */
const MIN_LABEL_PX = 24;

const defaultMeasure = (label: string) => label.length * 7;

/** Formats for ticks: a time of day, a day, a day of another year. */
function formats(locale?: string) {
  return {
    time: new Intl.DateTimeFormat(locale, { hour: 'numeric', minute: '2-digit' }),
    day: new Intl.DateTimeFormat(locale, { month: 'short', day: 'numeric' }),
    dayYear: new Intl.DateTimeFormat(locale, { month: 'short', day: 'numeric', year: 'numeric' }),
  };
}

const localMidnight = (t: number): Date => {
  const d = new Date(t);
  return new Date(d.getFullYear(), d.getMonth(), d.getDate());
};

/** The step's tick times within [start, end], aligned to the local clock (whole minutes, hours, days). */
function tickTimes(start: number, end: number, step: number, daysAtNoon: boolean, skipDays = 0): number[] {
  const out: number[] = [];
  const first = localMidnight(start);
  if (step < DAY_MS) {
    const minutes = step / MINUTE_MS;
    // Local fields, so a tick is at the same clock time on either side of a DST change.
    const offset = Math.max(0, Math.floor((start - first.getTime()) / step) - 1);
    for (let k = offset; ; k++) {
      const t = new Date(first.getFullYear(), first.getMonth(), first.getDate(), 0, k * minutes).getTime();
      if (t > end) break;
      if (t >= start && out.at(-1) !== t) out.push(t);
    }
    return out;
  }
  const days = step / DAY_MS;
  for (let k = skipDays; ; k += days) {
    const t = new Date(first.getFullYear(), first.getMonth(), first.getDate() + k, daysAtNoon ? 12 : 0).getTime();
    if (t > end) break;
    if (t >= start) out.push(t);
  }
  return out;
}

function labelsFor(ticks: readonly number[], step: number, start: number, end: number, locale?: string): string[] {
  const f = formats(locale);
  const multiYear = new Date(start).getFullYear() !== new Date(end).getFullYear();
  const dayLabel = (t: number, first: boolean) => {
    const d = new Date(t);
    // The year where it changes (and on the first tick of a range across years).
    return multiYear && (first || (d.getMonth() === 0 && d.getDate() <= Math.ceil(step / DAY_MS)))
      ? f.dayYear.format(d)
      : f.day.format(d);
  };
  if (step >= DAY_MS) return ticks.map((t, i) => dayLabel(t, i === 0));
  const acrossDays = localMidnight(start).getTime() !== localMidnight(end).getTime();
  return ticks.map((t) => {
    const d = new Date(t);
    // Across days, the day's own tick (midnight) names the day; the others its time.
    if (acrossDays && d.getHours() === 0 && d.getMinutes() === 0) return dayLabel(t, false);
    return f.time.format(d);
  });
}

/**
 * Ticks for a time axis over [start, end]: the smallest step whose labels fit side by side with a
 * gap, labels as short as the step allows (a time of day below a day's step, a date from it;
 * across days the midnight tick names the day), none overhanging the edges further than there is
 * room for.
 */
export function timeTicks(start: number, end: number, options: TimeAxisOptions): Tick[] {
  const { width, leftRoom = 0, rightRoom = 0, daysAtNoon = false, measure = defaultMeasure, locale } = options;
  if (!(end > start) || width <= 0) return [];
  const span = end - start;
  const px = (t: number) => ((t - start) / span) * width;
  let fallback: Tick[] = [];
  for (const step of STEPS) {
    // No label is narrower than this: steps giving more ticks than could ever fit are skipped.
    if (span / step > width / MIN_LABEL_PX) continue;
    // Ticks every few days may start on any of the first few: the one keeping the most ticks.
    let ticks: Tick[] = [];
    for (let skip = 0; skip < Math.max(1, step / DAY_MS); skip++) {
      const times = tickTimes(start, end, step, daysAtNoon, skip);
      const labels = labelsFor(times, step, start, end, locale);
      // Drop what would be cut off at either edge.
      const kept = times
        .map((at, i) => ({ at, label: labels[i] }))
        .filter((t) => {
          const half = measure(t.label) / 2;
          return px(t.at) - half >= -leftRoom && px(t.at) + half <= width + rightRoom;
        });
      if (kept.length > ticks.length) ticks = kept;
    }
    if (ticks.length === 0) continue;
    const fits = ticks.every((t, i) => {
      if (i === 0) return true;
      const prev = ticks[i - 1];
      return px(t.at) - px(prev.at) >= (measure(prev.label) + measure(t.label)) / 2 + GAP_PX;
    });
    if (fits) return ticks;
    fallback = ticks.slice(0, 1);
  }
  return fallback;
}

/** Y tick spacings: whole numbers 1, 2, 5 × 10ⁿ (and 25 for money's quarters), never fractions. */
export function wholeIncrements(max = 1e15): number[] {
  const out: number[] = [];
  for (let p = 1; p <= max; p *= 10) out.push(p, 2 * p, 2.5 * p, 5 * p);
  return out.filter((n) => Number.isInteger(n));
}

/**
 * The y range of a chart of non-negative values: from 0 to a little above the highest (so a bar
 * never touches the top), at least 1 (an empty chart still has an axis).
 */
export function yRange(max: number | null | undefined): [number, number] {
  return [0, Math.max(1, Math.ceil((max ?? 0) * 1.1))];
}

const per = messages({
  en: {
    minute: 'per minute',
    hour: 'per hour',
    day: 'per day',
    hours: (n: number) => `per ${n} hours`,
    minutes: (n: number) => `per ${n} minutes`,
  },
  'zh-CN': {
    minute: '（每分钟）',
    hour: '（每小时）',
    day: '（每天）',
    hours: (n: number) => `（每 ${n} 小时）`,
    minutes: (n: number) => `（每 ${n} 分钟）`,
  },
});

/** Chart headings' words for a bucket: "per minute", "per 5 minutes", "per hour", "per day". */
export function perBucket(bucketSeconds: number): string {
  const minutes = Math.round(bucketSeconds / 60);
  if (minutes <= 1) return per.minute;
  if (minutes === 60) return per.hour;
  if (minutes === 1440) return per.day;
  if (minutes % 60 === 0) return per.hours(minutes / 60);
  return per.minutes(minutes);
}
