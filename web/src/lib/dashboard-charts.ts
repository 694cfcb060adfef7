import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { DAY_MS, type Tick, timeTicks, wholeIncrements, yRange } from './dashboard-axis';
import { locale, messages } from './i18n';

const t = messages({
  en: { when: 'When' },
  'zh-CN': { when: '时间' },
});

/**
 * A time-series chart (uPlot) over buckets of time (a session's minutes, a creator's days) that
 * sizes itself to its container and can be fed new data. Its axes come from dashboard-axis.ts:
 * time ticks spaced for the span and the width, y ticks in whole units, labels never repeated or
 * cut off. Each bucket is drawn across its own time (a bar from its start to its end).
 */

export interface SeriesSpec {
  label: string;
  color: string;
  /** Bars rather than a line. */
  bars?: boolean;
  /** Which y scale (and axis) the series uses; the second one is drawn on the right. */
  scale?: 'y' | 'y2';
  /** How a value reads in the legend. */
  format?: (value: number) => string;
}

export interface ChartOptions {
  /** Labels of a y axis's ticks (all of them at once: money drops the cents when every tick is whole). */
  axis?: Partial<Record<'y' | 'y2', (values: number[]) => string[]>>;
  /** How the legend names a bucket, from its start (epoch ms) and length. */
  bucketLabel?: (start: number, bucketMs: number) => string;
}

const HEIGHT = 220;
/** Room on the right of the plot when no axis is there, so the last date is not cut off. */
const RIGHT_PADDING = 14;
const AXIS_FONT = '12px system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';

function cssColor(name: string, fallback: string): string {
  const value = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return value || fallback;
}

let measurer: CanvasRenderingContext2D | null | undefined;
/** A label's width in CSS pixels, in the axis font. */
function measure(label: string): number {
  measurer ??= document.createElement('canvas').getContext('2d');
  if (!measurer) return label.length * 7;
  measurer.font = AXIS_FONT;
  return Math.ceil(measurer.measureText(label).width);
}

export class TimeChart {
  private plot: uPlot | undefined;
  private readonly resizeObserver: ResizeObserver;
  private bucketMs = 60_000;
  /** The ticks last chosen for the x axis, by time (seconds), for their labels. */
  private ticks = new Map<number, string>();

  constructor(
    private readonly host: HTMLElement,
    private readonly series: readonly SeriesSpec[],
    private readonly options: ChartOptions = {},
  ) {
    this.resizeObserver = new ResizeObserver(() => this.plot?.setSize({ width: this.width(), height: HEIGHT }));
    this.resizeObserver.observe(host);
  }

  /**
   * `starts`: each bucket's start, epoch ms, `bucketMs` apart; one array of values per series,
   * aligned with them.
   */
  update(starts: readonly number[], bucketMs: number, values: readonly (readonly number[])[]): void {
    this.bucketMs = bucketMs;
    // Each value sits in the middle of its bucket, so a bar spans the bucket's own time.
    const data = [starts.map((t) => (t + bucketMs / 2) / 1000), ...values.map((v) => [...v])] as uPlot.AlignedData;
    if (this.plot) {
      this.plot.setData(data);
      return;
    }
    this.plot = new uPlot(this.config(), data, this.host);
  }

  destroy(): void {
    this.resizeObserver.disconnect();
    this.plot?.destroy();
    this.plot = undefined;
  }

  private width(): number {
    return Math.max(240, Math.floor(this.host.clientWidth));
  }

  private config(): uPlot.Options {
    const axisColor = cssColor('--muted', '#646b7d');
    const gridColor = cssColor('--border', '#e1e4ec');
    const usesSecond = this.series.some((s) => s.scale === 'y2');
    const yAxis = (scale: 'y' | 'y2', side: 1 | 3): uPlot.Axis => {
      const labels = this.options.axis?.[scale];
      return {
        scale,
        side,
        font: AXIS_FONT,
        stroke: axisColor,
        grid: { show: scale === 'y', stroke: gridColor, width: 1 },
        ticks: { stroke: gridColor, width: 1 },
        // Whole steps only: a count (or a minor unit) is never split, so no two ticks read alike.
        incrs: wholeIncrements(),
        // As wide as its longest label (money labels such as "$1,250" need room).
        size: (_u: uPlot, values: string[] | null) => Math.max(36, Math.max(0, ...(values ?? []).map(measure)) + 18),
        ...(labels ? { values: (_u: uPlot, splits: number[]) => labels(splits) } : {}),
      };
    };
    const bars = uPlot.paths.bars?.({ size: [0.8, 64], gap: 1 });
    const bucketLabel = this.options.bucketLabel ?? defaultBucketLabel;
    return {
      width: this.width(),
      height: HEIGHT,
      padding: [12, usesSecond ? 0 : RIGHT_PADDING, 0, 0],
      cursor: { drag: { x: false, y: false } },
      scales: {
        // From the first bucket's start to the last one's end.
        x: {
          time: true,
          range: (_u, min, max) => [min - this.bucketMs / 2000, max + this.bucketMs / 2000],
        },
        y: { range: (_u, _min, max) => yRange(max) },
        ...(usesSecond ? { y2: { range: (_u: uPlot, _min: number, max: number) => yRange(max) } } : {}),
      },
      axes: [
        {
          font: AXIS_FONT,
          stroke: axisColor,
          grid: { stroke: gridColor, width: 1 },
          ticks: { stroke: gridColor, width: 1 },
          size: 36,
          splits: (u, _axis, min, max) => this.timeSplits(u, min, max),
          values: (_u, splits) => splits.map((s) => this.ticks.get(s) ?? ''),
        },
        yAxis('y', 3),
        ...(usesSecond ? [yAxis('y2', 1)] : []),
      ],
      series: [
        {
          label: t.when,
          value: (_u, v) => (v === null ? '—' : bucketLabel(v * 1000 - this.bucketMs / 2, this.bucketMs)),
        },
        ...this.series.map(
          (s): uPlot.Series => ({
            label: s.label,
            scale: s.scale ?? 'y',
            stroke: s.color,
            width: s.bars ? 1 : 2,
            fill: s.bars ? `${s.color}b3` : `${s.color}1a`,
            ...(s.bars && bars ? { paths: bars, points: { show: false } } : {}),
            ...(s.format ? { value: (_u: uPlot, v: number | null) => (v === null ? '—' : s.format!(v)) } : {}),
          }),
        ),
      ],
    };
  }

  /** The x ticks for the plot's width: chosen by dashboard-axis.ts, kept for their labels. */
  private timeSplits(u: uPlot, min: number, max: number): number[] {
    // The plot's box (device pixels) inside the chart: what lies beside it is the y axes' room.
    const ratio = uPlot.pxRatio || 1;
    const width = u.bbox.width > 0 ? u.bbox.width / ratio : this.width() - 80;
    const left = u.bbox.width > 0 ? u.bbox.left / ratio : 36;
    const right = u.bbox.width > 0 ? Math.max(0, u.width - left - width) : RIGHT_PADDING;
    const ticks: Tick[] = timeTicks(min * 1000, max * 1000, {
      width,
      leftRoom: left,
      rightRoom: right,
      daysAtNoon: this.bucketMs >= DAY_MS,
      measure,
      locale: locale(),
    });
    this.ticks = new Map(ticks.map((t) => [t.at / 1000, t.label]));
    return ticks.map((t) => t.at / 1000);
  }
}

const dayTime = new Intl.DateTimeFormat(locale(), {
  month: 'short',
  day: 'numeric',
  hour: 'numeric',
  minute: '2-digit',
});
const time = new Intl.DateTimeFormat(locale(), { hour: 'numeric', minute: '2-digit' });
const day = new Intl.DateTimeFormat(locale(), { weekday: 'short', month: 'short', day: 'numeric' });

/** "Mar 3, 10:05 – 10:06"; a day's bucket: "Tue, Mar 3". */
function defaultBucketLabel(start: number, bucketMs: number): string {
  if (bucketMs >= DAY_MS) return day.format(start);
  return `${dayTime.format(start)} – ${time.format(start + bucketMs)}`;
}
