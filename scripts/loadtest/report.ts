/**
 * The HTML report: one self-contained file (inline SVG drawn here, no script, nothing fetched)
 * with the run's summary and its per-second charts.
 */

/** One second of the run, as the controller saw it. */
export interface SecondPoint {
  /** Seconds since the ramp started. */
  t: number;
  connected: number;
  deliveries: number;
  frames: number;
  sent: number;
  errors: number;
  /** Delivery latency in that second (ms); absent when nothing was delivered. */
  p50?: number;
  p99?: number;
  /** CPU of the generator process (all its threads) and of the server, in % of one core. */
  generatorCpuPercent?: number;
  serverCpuPercent?: number;
  serverRssMb?: number;
}

export interface ReportInput {
  command: string;
  startedAt: string;
  summary: Record<string, unknown>;
  timeline: SecondPoint[];
  /** Seconds (as in `t`) when the ramp ended and when the load stopped. */
  rampEnd?: number;
  loadEnd?: number;
}

interface Series {
  name: string;
  color: string;
  points: [number, number][];
  bars?: boolean;
}

const W = 900;
const H = 260;
const M = { left: 64, right: 16, top: 30, bottom: 34 };

const esc = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

function niceStep(range: number, ticks = 5): number {
  const raw = range / ticks;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const norm = raw / mag;
  return (norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 5 ? 5 : 10) * mag;
}

const fmt = (v: number) =>
  Math.abs(v) >= 1e6
    ? `${+(v / 1e6).toFixed(1)}M`
    : Math.abs(v) >= 1e4
      ? `${+(v / 1e3).toFixed(1)}k`
      : `${+v.toFixed(Math.abs(v) < 10 && v !== Math.round(v) ? 1 : 0)}`;

/** A line (or bar) chart as an SVG element. */
export function chart(
  title: string,
  yLabel: string,
  series: Series[],
  xMax: number,
  markers: ReportMarkers,
  integer = false,
): string {
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const yMaxRaw = Math.max(0, ...series.flatMap((s) => s.points.map((p) => p[1])));
  const yStep = Math.max(integer ? 1 : 0, niceStep(yMaxRaw > 0 ? yMaxRaw : 1));
  const yMax = Math.max(yStep, Math.ceil(yMaxRaw / yStep) * yStep);
  const xSpan = Math.max(1, xMax);
  const xStep = niceStep(xSpan, 8);
  const x = (v: number) => M.left + (v / xSpan) * pw;
  const y = (v: number) => M.top + ph - (v / yMax) * ph;
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img">`);
  parts.push(`<title>${esc(title)}</title>`);
  parts.push(`<text x="${M.left}" y="18" class="t">${esc(title)}</text>`);
  for (let v = 0; v <= yMax + 1e-9; v += yStep) {
    parts.push(`<line x1="${M.left}" x2="${W - M.right}" y1="${y(v)}" y2="${y(v)}" class="g"/>`);
    parts.push(`<text x="${M.left - 6}" y="${y(v) + 4}" class="yl">${fmt(v)}</text>`);
  }
  for (let v = 0; v <= xSpan + 1e-9; v += xStep) {
    parts.push(`<line x1="${x(v)}" x2="${x(v)}" y1="${M.top + ph}" y2="${M.top + ph + 4}" class="a"/>`);
    parts.push(`<text x="${x(v)}" y="${M.top + ph + 16}" class="xl">${fmt(v)}</text>`);
  }
  parts.push(`<text x="${W - M.right}" y="${H - 4}" class="xl" text-anchor="end">seconds</text>`);
  parts.push(
    `<text x="14" y="${M.top + ph / 2}" class="xl" transform="rotate(-90 14 ${M.top + ph / 2})">${esc(yLabel)}</text>`,
  );
  parts.push(`<line x1="${M.left}" x2="${W - M.right}" y1="${M.top + ph}" y2="${M.top + ph}" class="a"/>`);
  for (const [at, label] of [
    [markers.rampEnd, 'ramp done'],
    [markers.loadEnd, 'load stops'],
  ] as const) {
    if (at === undefined) continue;
    parts.push(`<line x1="${x(at)}" x2="${x(at)}" y1="${M.top}" y2="${M.top + ph}" class="m"/>`);
    // The label goes left of the line when the line is near the right edge.
    const left = x(at) > W - M.right - 70;
    parts.push(
      `<text x="${left ? x(at) - 3 : x(at) + 3}" y="${M.top + 10}" class="ml"${left ? ' text-anchor="end"' : ''}>${label}</text>`,
    );
  }
  for (const s of series) {
    if (s.bars) {
      const bw = Math.max(1, (pw / xSpan) * 0.8);
      for (const [px, py] of s.points) {
        if (py <= 0) continue;
        parts.push(
          `<rect x="${x(px) - bw / 2}" y="${y(py)}" width="${bw}" height="${M.top + ph - y(py)}" fill="${s.color}"><title>${px} s: ${py}</title></rect>`,
        );
      }
    } else if (s.points.length) {
      const d = s.points.map(([px, py], i) => `${i ? 'L' : 'M'}${x(px).toFixed(1)},${y(py).toFixed(1)}`).join('');
      parts.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="1.8"/>`);
    }
  }
  series.forEach((s, i) => {
    const lx = W - M.right - 150 * (series.length - i);
    parts.push(`<rect x="${lx}" y="8" width="12" height="4" fill="${s.color}"/>`);
    parts.push(`<text x="${lx + 16}" y="14" class="lg">${esc(s.name)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('');
}

interface ReportMarkers {
  rampEnd?: number;
  loadEnd?: number;
}

function table(rows: [string, string][]): string {
  return `<table>${rows.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`).join('')}</table>`;
}

const pct = (p: unknown) => {
  const v = p as { count?: number; p50?: number; p95?: number; p99?: number; max?: number } | undefined;
  return v?.count ? `p50 ${v.p50} · p95 ${v.p95} · p99 ${v.p99} · max ${v.max} ms (${v.count} samples)` : '—';
};

export function renderReport(input: ReportInput): string {
  const { timeline, summary: s } = input;
  const xMax = timeline.length ? timeline[timeline.length - 1].t : 1;
  const markers = { rampEnd: input.rampEnd, loadEnd: input.loadEnd };
  const pts = (f: (p: SecondPoint) => number | undefined): [number, number][] =>
    timeline.flatMap((p) => {
      const v = f(p);
      return v === undefined ? [] : [[p.t, v] as [number, number]];
    });
  const server = s.server as Record<string, unknown> | undefined;
  const generator = s.generator as Record<string, unknown> | undefined;
  const errors = s.errors as { total: number; byCode: Record<string, number>; byEvent: Record<string, unknown> };
  const charts = [
    chart(
      'Delivery latency (send → received by the other members), per second',
      'ms',
      [
        { name: 'p50', color: '#2a7ae2', points: pts((p) => p.p50) },
        { name: 'p99', color: '#d9534f', points: pts((p) => p.p99) },
      ],
      xMax,
      markers,
    ),
    chart(
      'Throughput, per second',
      'per second',
      [
        { name: 'chat deliveries', color: '#2a7ae2', points: pts((p) => p.deliveries) },
        { name: 'all frames received', color: '#8fb9ea', points: pts((p) => p.frames) },
        { name: 'events sent', color: '#5cb85c', points: pts((p) => p.sent) },
      ],
      xMax,
      markers,
    ),
    chart(
      'Errors, per second',
      'errors',
      [{ name: 'errors', color: '#d9534f', points: pts((p) => p.errors), bars: true }],
      xMax,
      markers,
      true,
    ),
    chart(
      'Viewers connected and in their room',
      'viewers',
      [{ name: 'connected', color: '#5cb85c', points: pts((p) => p.connected) }],
      xMax,
      markers,
    ),
    chart(
      'CPU: server process (from /metrics) and this generator',
      '% of one core',
      [
        { name: 'server', color: '#f0ad4e', points: pts((p) => p.serverCpuPercent) },
        { name: 'generator', color: '#5bc0de', points: pts((p) => p.generatorCpuPercent) },
      ],
      xMax,
      markers,
    ),
    chart(
      'Server resident memory (from /metrics)',
      'MB',
      [{ name: 'RSS', color: '#777', points: pts((p) => p.serverRssMb) }],
      xMax,
      markers,
    ),
  ];
  const summaryRows: [string, string][] = [
    ['target', String(s.url)],
    ['viewers / rooms / workers', `${s.viewers} / ${s.rooms} / ${s.workers}`],
    ['peak connected', String(s.peakConnected)],
    ['ramp, load', `${s.rampSeconds} s, ${s.loadSeconds} s`],
    ['connect time', pct(s.connectMs)],
    ['join time', pct(s.joinMs)],
    ['delivery latency', pct(s.deliveryLatencyMs)],
    ['deliveries', `${s.deliveries} (${s.deliveriesPerSecond}/s after the ramp)`],
    ['errors', errors.total ? `${errors.total}: ${JSON.stringify(errors.byEvent)}` : 'none'],
    [
      'server CPU / RSS',
      server?.cpuSeconds !== undefined
        ? `${server.cpuPercent}% of a core, ${server.cpuSeconds} s CPU under load; RSS ${server.rssMb} MB (max ${server.rssMaxMb} MB)`
        : String(server?.error ?? '—'),
    ],
    [
      'generator CPU / RSS',
      generator
        ? `${generator.cpuPercent}% of a core, ${generator.cpuSeconds} s CPU under load; RSS ${generator.rssMb} MB`
        : '—',
    ],
    ['generator CPU ÷ server CPU', s.generatorCpuPerServerCpu === undefined ? '—' : String(s.generatorCpuPerServerCpu)],
  ];
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Lectern load test ${esc(input.startedAt)}</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;max-width:940px}
h1{font-size:20px}h2{font-size:16px;margin-top:28px}
table{border-collapse:collapse;margin:8px 0}th,td{text-align:left;padding:3px 10px;border-bottom:1px solid #eee;vertical-align:top}
th{font-weight:600;white-space:nowrap}code,pre{font:12px ui-monospace,monospace}pre{background:#f6f6f6;padding:8px;overflow:auto;white-space:pre-wrap;word-break:break-all}
svg{display:block;margin:10px 0;background:#fff;border:1px solid #eee}
svg .t{font-size:13px;font-weight:600}svg .g{stroke:#eee}svg .a{stroke:#999}svg .m{stroke:#bbb;stroke-dasharray:4 3}
svg .yl{font-size:11px;text-anchor:end;fill:#555}svg .xl{font-size:11px;text-anchor:middle;fill:#555}svg .ml{font-size:10px;fill:#888}svg .lg{font-size:11px;fill:#333}
</style></head><body>
<h1>Lectern load test</h1>
<p>Started ${esc(input.startedAt)} · <code>${esc(input.command)}</code></p>
<h2>Summary</h2>
${table(summaryRows)}
<h2>Charts</h2>
${charts.join('\n')}
<h2>Errors by code</h2>
${errors.total ? table(Object.entries(errors.byCode).map(([k, v]) => [k, String(v)])) : '<p>none</p>'}
<h2>Result (the JSON line)</h2>
<pre>${esc(JSON.stringify(s, null, 2))}</pre>
</body></html>
`;
}
