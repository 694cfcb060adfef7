import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

/** A time-series chart (uPlot) that sizes itself to its container and can be fed new data. */

export interface SeriesSpec {
  label: string;
  color: string;
  /** Bars rather than a line. */
  bars?: boolean;
  /** Which y scale (and axis) the series uses; the second one is drawn on the right. */
  scale?: 'y' | 'y2';
  /** How values are shown in the legend and on the axis. */
  format?: (value: number) => string;
}

const HEIGHT = 220;

function cssColor(name: string, fallback: string): string {
  const value = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return value || fallback;
}

export class TimeChart {
  private plot: uPlot | undefined;
  private readonly resizeObserver: ResizeObserver;

  constructor(
    private readonly host: HTMLElement,
    private readonly series: readonly SeriesSpec[],
  ) {
    this.resizeObserver = new ResizeObserver(() => this.plot?.setSize({ width: this.width(), height: HEIGHT }));
    this.resizeObserver.observe(host);
  }

  /** `times` in epoch milliseconds; one array of values per series, aligned with `times`. */
  update(times: readonly number[], values: readonly (readonly number[])[]): void {
    const data = [times.map((t) => t / 1000), ...values.map((v) => [...v])] as uPlot.AlignedData;
    if (this.plot) {
      this.plot.setData(data);
      return;
    }
    this.plot = new uPlot(this.options(), data, this.host);
  }

  destroy(): void {
    this.resizeObserver.disconnect();
    this.plot?.destroy();
    this.plot = undefined;
  }

  private width(): number {
    return Math.max(240, Math.floor(this.host.clientWidth));
  }

  private options(): uPlot.Options {
    const axisColor = cssColor('--muted', '#646b7d');
    const gridColor = cssColor('--border', '#e1e4ec');
    const usesSecond = this.series.some((s) => s.scale === 'y2');
    const formatOf = (scale: 'y' | 'y2') => this.series.find((s) => (s.scale ?? 'y') === scale)?.format;
    const axis = (scale: 'y' | 'y2', side: 1 | 3): uPlot.Axis => {
      const format = formatOf(scale);
      return {
        scale,
        side,
        stroke: axisColor,
        grid: { show: scale === 'y', stroke: gridColor, width: 1 },
        ticks: { stroke: gridColor, width: 1 },
        // As wide as its longest label (money labels such as "$1,250.00" need room).
        size: (_u: uPlot, values: string[] | null) =>
          Math.max(40, Math.ceil(Math.max(0, ...(values ?? []).map((v) => String(v).length)) * 7.5 + 20)),
        ...(format ? { values: (_u: uPlot, splits: number[]) => splits.map(format) } : {}),
      };
    };
    const bars = uPlot.paths.bars?.({ size: [0.7, 24] });
    return {
      width: this.width(),
      height: HEIGHT,
      cursor: { drag: { x: false, y: false } },
      scales: {
        x: { time: true },
        y: { range: (_u, _min, max) => [0, Math.max(1, max)] },
        ...(usesSecond ? { y2: { range: (_u: uPlot, _min: number, max: number) => [0, Math.max(1, max)] } } : {}),
      },
      axes: [
        { stroke: axisColor, grid: { stroke: gridColor, width: 1 }, ticks: { stroke: gridColor, width: 1 } },
        axis('y', 3),
        ...(usesSecond ? [axis('y2', 1)] : []),
      ],
      series: [
        {},
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
}
