import type {
  CreatorAnalytics,
  DailyMoney,
  MoneyMetrics,
  MoneyTotals,
  RevenueByKind,
  RoomAnalytics,
  SessionMetrics,
  WatchingMetrics,
} from '../../../server/analytics/report-types';
import { api } from '../lib/api';
import { DAY_MS, perBucket } from '../lib/dashboard-axis';
import { TimeChart } from '../lib/dashboard-charts';
import {
  countAxis,
  formatCount,
  formatDateTime,
  formatDecimal,
  formatDuration,
  formatPercent,
  formatTime,
  type MoneyFormat,
  moneyAxis,
  moneyFormat,
} from '../lib/dashboard-format';
import { AdminPayoutsPanel, PayoutsPanel } from '../lib/dashboard-payouts';
import { byId, h } from '../lib/dom';
import { codeOf, describeError } from '../lib/errors';
import { startShell } from '../lib/shell';

/**
 * The creator dashboard: earnings and payouts (and, for admins, everyone's failed payouts), sales
 * gross / fees / net with refunds, sales per day, audience totals, completion per lesson, and one
 * session in detail with its charts. While a session is live it polls every few seconds.
 * Definitions of every figure: docs/analytics.md.
 */

const POLL_MS = 5000;
const COLORS = {
  viewers: '#6366f1',
  average: '#14b8a6',
  chat: '#0ea5e9',
  likes: '#f43f5e',
  revenue: '#f59e0b',
  net: '#15803d',
};
const TIME_ZONE = Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';

// --- rendering ----------------------------------------------------------------------------------

interface Kpi {
  label: string;
  value: string;
  sub?: string;
  className?: string;
}

function renderKpis(host: HTMLElement, kpis: readonly Kpi[]): void {
  host.replaceChildren(
    ...kpis.map((k) =>
      h(
        'div',
        { class: `kpi ${k.className ?? ''}` },
        h('span', { class: 'kpi-label' }, k.label),
        h('span', { class: 'kpi-value' }, k.value),
        h('span', { class: 'kpi-sub' }, k.sub ?? ''),
      ),
    ),
  );
}

/** Gross, fees, net and refunds: the same four tiles for a session, outside sessions and everything. */
function moneyKpis(m: Pick<MoneyMetrics, 'revenue' | 'fees' | 'net' | 'refunds' | 'sales'>, money: MoneyFormat): Kpi[] {
  return [
    {
      label: 'Sales (gross)',
      value: money(m.revenue.total),
      sub: `${formatCount(m.sales)} ${m.sales === 1 ? 'payment' : 'payments'}, what buyers paid`,
      className: 'gross',
    },
    { label: 'Platform fees', value: money(m.fees), sub: "the platform's part", className: 'fees' },
    { label: 'You keep (net)', value: money(m.net), sub: 'gross minus fees', className: 'net' },
    {
      label: 'Refunded',
      value: money(m.refunds.amount),
      sub:
        m.refunds.count === 0
          ? 'no refunds'
          : `${formatCount(m.refunds.count)} ${m.refunds.count === 1 ? 'sale' : 'sales'}, not counted above`,
      className: 'refunds',
    },
  ];
}

function sessionKpis(s: SessionMetrics, money: MoneyFormat): Kpi[] {
  const { viewers, watch, activity, money: m } = s;
  return [
    {
      label: 'Most viewers at once',
      value: formatCount(viewers.peak),
      sub: `${formatDecimal(viewers.average)} on average`,
    },
    {
      label: 'Different viewers',
      value: formatCount(viewers.unique),
      sub: `signed in; and ${formatCount(viewers.guestJoins)} guest visits`,
    },
    {
      label: 'Watch time',
      value: formatDuration(watch.seconds),
      sub: watch.perViewerSeconds === null ? 'nobody watched' : `${formatDuration(watch.perViewerSeconds)} per viewer`,
    },
    {
      label: 'Chat messages and likes',
      value: `${formatCount(activity.chatMessages)} · ${formatCount(activity.likes)}`,
      sub: `${formatCount(activity.questionsAsked)} questions, ${formatCount(activity.questionsAnswered)} answered`,
    },
    {
      label: 'Viewers who bought',
      value: formatPercent(m.viewerConversion),
      sub: `${formatCount(m.viewerBuyers)} of ${formatCount(viewers.unique)} viewers`,
    },
    ...moneyKpis(m, money),
    {
      label: 'Sales per viewer',
      value: m.revenuePerViewer === null ? '—' : money(m.revenuePerViewer),
      sub: m.revenuePerBuyer === null ? 'no buyers yet' : `${money(m.revenuePerBuyer)} per buyer`,
    },
  ];
}

const KIND_LABELS: [keyof RevenueByKind, string][] = [
  ['ticket', 'Tickets'],
  ['content', 'Lessons and courses'],
  ['tip', 'Tips'],
  ['subscription', 'Subscriptions'],
];

function renderRevenueKinds(host: HTMLElement, revenue: RevenueByKind, money: MoneyFormat): void {
  const max = Math.max(1, ...KIND_LABELS.map(([k]) => revenue[k]));
  host.replaceChildren(
    ...KIND_LABELS.map(([kind, label]) => {
      const bar = h('span', { class: 'bar-fill' });
      bar.style.width = `${(100 * revenue[kind]) / max}%`;
      return h(
        'div',
        { class: 'bar-row' },
        h('span', { class: 'bar-label' }, label),
        h('span', { class: 'bar-track' }, bar),
        h('span', { class: 'bar-value' }, money(revenue[kind])),
      );
    }),
  );
}

/** The P × Q × R identity in words: which three numbers multiply to the revenue, and what they mean. */
function decompositionText(d: RoomAnalytics['decomposition'], money: MoneyFormat): string {
  if (d.product === null || d.buyersPerViewer === null || d.revenuePerBuyer === null) {
    return d.revenue > 0
      ? `${money(d.revenue)} in sales, but no signed-in viewers to divide it among (tickets sold to people who did not come).`
      : 'No viewers or sales yet, so there is nothing to break down.';
  }
  // Rounded for reading: say so, so that the product still visibly adds up.
  const about = (exact: boolean) => (exact ? '' : 'about ');
  const perViewer = formatDecimal(d.buyersPerViewer);
  return (
    `How the sales add up: ${formatCount(d.viewers)} ${d.viewers === 1 ? 'viewer' : 'viewers'} × ` +
    `${about(Math.round(d.buyersPerViewer * 100) / 100 === d.buyersPerViewer)}${perViewer} ${d.buyersPerViewer === 1 ? 'buyer' : 'buyers'} per viewer × ` +
    `${about(Number.isInteger(d.revenuePerBuyer))}${money(d.revenuePerBuyer)} per buyer = ${money(d.revenue)} (gross). ` +
    'Buyers per viewer counts everyone who paid, also those who bought without watching (a ticket bought ahead), so it can pass 1.'
  );
}

/** Completion per lesson and replay: viewers, how many finished (90%), the rate and the watch time. */
function renderWatching(rows: readonly WatchingMetrics[]): void {
  const table = byId('watching');
  byId('no-watching').hidden = rows.length > 0;
  table.hidden = rows.length === 0;
  const cell = (label: string, content: string | Node) => h('td', { 'data-label': label }, content);
  table.querySelector('tbody')?.replaceChildren(
    ...rows.map((row) => {
      const bar = h('span', { class: 'bar-fill' });
      bar.style.width = `${Math.round(100 * (row.completionRate ?? 0))}%`;
      return h(
        'tr',
        {},
        cell(
          '',
          h(
            'span',
            {},
            h('a', { href: row.itemKind === 'replay' ? `/replay/${row.itemId}` : `/content/${row.itemId}` }, row.title),
            h('span', { class: 'muted small' }, row.itemKind === 'replay' ? ' · replay' : ' · lesson'),
          ),
        ),
        cell('Viewers', formatCount(row.viewers)),
        cell('Finished', formatCount(row.completions)),
        cell(
          'Completion',
          h(
            'span',
            { class: 'rate' },
            h('span', { class: 'bar-track' }, bar),
            h('span', { class: 'rate-value' }, formatPercent(row.completionRate)),
          ),
        ),
        cell('Watch time', formatDuration(row.watchSeconds)),
      );
    }),
  );
}

function statusBadge(status: SessionMetrics['status']): HTMLElement {
  return h('span', { class: `badge ${status === 'live' ? 'live' : 'status'}` }, status === 'live' ? 'Live' : 'Ended');
}

/** A `YYYY-MM-DD` day as the local midnight it starts at. */
const dayStart = (day: string): number => {
  const [y, m, d] = day.split('-').map(Number);
  return new Date(y, m - 1, d).getTime();
};

// --- the page -----------------------------------------------------------------------------------

class Dashboard {
  private selected: string | null = new URL(location.href).searchParams.get('room');
  private days = 30;
  private overview: CreatorAnalytics | null = null;
  private detail: RoomAnalytics | null = null;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly charts: { daily: TimeChart; viewers: TimeChart; activity: TimeChart; revenue: TimeChart };

  constructor(
    private readonly money: MoneyFormat,
    currency: string,
  ) {
    const moneyTicks = moneyAxis(currency);
    this.charts = {
      daily: new TimeChart(
        byId('chart-daily'),
        [
          { label: 'Sales (gross)', color: COLORS.revenue, bars: true, format: money },
          { label: 'You keep (net)', color: COLORS.net, format: money },
        ],
        { axis: { y: moneyTicks } },
      ),
      viewers: new TimeChart(
        byId('chart-viewers'),
        [
          { label: 'Most at once', color: COLORS.viewers, format: formatCount },
          { label: 'Average', color: COLORS.average, format: formatDecimal },
        ],
        { axis: { y: countAxis } },
      ),
      activity: new TimeChart(
        byId('chart-activity'),
        [
          { label: 'Chat messages', color: COLORS.chat, bars: true, format: formatCount },
          { label: 'Likes', color: COLORS.likes, scale: 'y2', format: formatCount },
        ],
        { axis: { y: countAxis, y2: countAxis } },
      ),
      revenue: new TimeChart(
        byId('chart-revenue'),
        [
          { label: 'Sales (gross)', color: COLORS.revenue, bars: true, format: money },
          { label: 'Total so far', color: COLORS.viewers, scale: 'y2', format: money },
        ],
        { axis: { y: moneyTicks, y2: moneyTicks } },
      ),
    };
    const days = byId<HTMLSelectElement>('daily-days');
    days.addEventListener('change', () => {
      this.days = Number(days.value) || 30;
      void this.refresh();
    });
    document.addEventListener('visibilitychange', () => {
      if (!document.hidden) void this.refresh();
    });
  }

  async refresh(): Promise<void> {
    try {
      const query = new URLSearchParams({ limit: '100', days: String(this.days), tz: TIME_ZONE });
      this.overview = await api<CreatorAnalytics>('GET', `/api/analytics/creator?${query}`);
      const sessions = this.overview.sessions;
      if (!this.selected || !sessions.some((s) => s.roomId === this.selected)) {
        this.selected = (sessions.find((s) => s.status === 'live') ?? sessions[0])?.roomId ?? null;
      }
      this.detail = this.selected
        ? await api<RoomAnalytics>('GET', `/api/analytics/rooms/${encodeURIComponent(this.selected)}`)
        : null;
      byId('error').textContent = '';
      this.render();
    } catch (err) {
      byId('error').textContent =
        codeOf(err) === 'UNAUTHENTICATED'
          ? 'Your sign-in has expired: sign in again.'
          : `Could not load the analytics: ${describeError(err)}`;
    }
    this.schedule();
  }

  /** Polls while something is live and the page is visible; otherwise waits to be looked at. */
  private schedule(): void {
    clearTimeout(this.timer);
    const live = this.overview?.totals.liveSessions ?? 0;
    if (live > 0) {
      this.timer = setTimeout(() => {
        if (document.hidden) this.schedule();
        else void this.refresh();
      }, POLL_MS);
    }
    byId('live-note').hidden = live === 0;
  }

  private select(roomId: string): void {
    this.selected = roomId;
    const url = new URL(location.href);
    url.searchParams.set('room', roomId);
    history.replaceState(null, '', url);
    void this.refresh();
  }

  private render(): void {
    const overview = this.overview;
    if (!overview) return;
    byId('overview').hidden = false;
    byId('updated').textContent = `Updated ${formatTime(new Date(overview.generatedAt))}`;
    const t = overview.totals;
    this.renderSales(t.all, t.money, t.outsideSessions, overview.daily.points);
    renderKpis(byId('totals'), [
      {
        label: 'Live sessions',
        value: formatCount(t.sessions),
        sub: `${formatDuration(t.durationSeconds)} live in all`,
      },
      { label: 'Most viewers at once', value: formatCount(t.viewers.peak), sub: 'in your busiest session' },
      {
        label: 'Different viewers',
        value: formatCount(t.viewers.unique),
        sub: `signed in; ${formatDuration(t.watch.seconds)} watched in all`,
      },
      {
        label: 'Viewers who bought',
        value: formatPercent(t.money.viewerConversion),
        sub: `${formatCount(t.money.viewerBuyers)} of ${formatCount(t.viewers.unique)} viewers, in a session they watched`,
      },
      {
        label: 'Sales per viewer',
        value: t.money.revenuePerViewer === null ? '—' : this.money(t.money.revenuePerViewer),
        sub: 'gross, in sessions',
      },
    ]);
    this.renderSessions(overview.sessions);
    renderWatching(overview.watching ?? []);
    this.renderDetail();
  }

  private renderSales(all: MoneyTotals, inSessions: MoneyMetrics, outside: MoneyTotals, daily: DailyMoney[]): void {
    renderKpis(byId('sales-kpis'), moneyKpis(all, this.money));
    byId('sales-split').replaceChildren(
      h(
        'li',
        {},
        h('b', {}, 'In live sessions: '),
        `${this.money(inSessions.revenue.total)} gross, ${this.money(inSessions.net)} for you (${formatCount(inSessions.sales)} payments)`,
      ),
      h(
        'li',
        {},
        h('b', {}, 'Outside sessions: '),
        `${this.money(outside.revenue.total)} gross, ${this.money(outside.net)} for you (${formatCount(outside.sales)} payments): lessons and subscriptions bought on your pages rather than from a live room`,
      ),
    );
    byId('daily-title').textContent = `Sales per day, last ${this.days} days`;
    this.charts.daily.update(
      daily.map((d) => dayStart(d.day)),
      DAY_MS,
      [daily.map((d) => d.revenue), daily.map((d) => d.net)],
    );
    const refunded = daily.reduce((n, d) => n + d.refunded, 0);
    byId('daily-note').textContent =
      `Each day's gross sales and what you keep of them, in your time zone (${TIME_ZONE}).` +
      (refunded > 0 ? ` Sales refunded since (${this.money(refunded)}) are left out.` : '');
  }

  private renderSessions(sessions: readonly SessionMetrics[]): void {
    byId('no-sessions').hidden = sessions.length > 0;
    byId('sessions').replaceChildren(
      ...sessions.map((s) => {
        const selected = s.roomId === this.selected;
        const button = h(
          'button',
          {
            type: 'button',
            class: `session${selected ? ' selected' : ''}`,
            'aria-pressed': String(selected),
            onclick: () => this.select(s.roomId),
          },
          h('span', { class: 'session-title' }, statusBadge(s.status), ` ${s.title}`),
          h(
            'span',
            { class: 'session-meta' },
            `${formatDateTime(s.startedAt)} · ${formatDuration(s.durationSeconds)} · ${formatCount(s.viewers.peak)} at most · ${this.money(s.money.revenue.total)} gross`,
          ),
        );
        return h('li', {}, button);
      }),
    );
  }

  private renderDetail(): void {
    const detail = this.detail;
    byId('session').hidden = !detail;
    if (!detail) return;
    const { session: s, series, decomposition, bucketSeconds } = detail;
    byId('session-title').textContent = s.title;
    byId('session-status').replaceChildren(statusBadge(s.status));
    byId('session-when').textContent =
      `${formatDateTime(s.startedAt)}${s.endedAt ? ` – ${formatDateTime(s.endedAt)}` : ''} · ${formatDuration(s.durationSeconds)}`;
    renderKpis(byId('session-kpis'), sessionKpis(s, this.money));
    byId('decomposition').textContent = decompositionText(decomposition, this.money);
    renderRevenueKinds(byId('revenue-kinds'), s.money.revenue, this.money);

    const per = perBucket(bucketSeconds);
    byId('activity-title').textContent = `Chat and likes ${per}`;
    byId('revenue-title').textContent = `Sales ${per} (gross)`;
    const starts = series.map((p) => Date.parse(p.at));
    const bucketMs = bucketSeconds * 1000;
    let cumulative = 0;
    this.charts.viewers.update(starts, bucketMs, [
      series.map((p) => p.peakViewers),
      series.map((p) => p.averageViewers),
    ]);
    this.charts.activity.update(starts, bucketMs, [series.map((p) => p.chatMessages), series.map((p) => p.likes)]);
    this.charts.revenue.update(starts, bucketMs, [
      series.map((p) => p.revenue),
      series.map((p) => {
        cumulative += p.revenue;
        return cumulative;
      }),
    ]);
  }
}

async function main(): Promise<void> {
  const shell = startShell();
  const session = shell.session;
  if (!session) {
    byId('signin').hidden = false;
    byId('signin-button').addEventListener('click', shell.signIn);
    return;
  }
  const role = session.user.role;
  if (role !== 'creator' && role !== 'admin') {
    byId('not-creator').hidden = false;
    return;
  }
  const currency = await api<{ currency: string }>('GET', '/api/wallet').then(
    (w) => w.currency,
    () => 'USD',
  );
  const money = moneyFormat(currency);
  const payouts = new PayoutsPanel(money, currency, { hideWhenEmpty: role === 'admin' });
  byId('money-slot').replaceWith(payouts.element);
  const admin = role === 'admin' ? new AdminPayoutsPanel(money) : undefined;
  if (admin) byId('admin-slot').replaceWith(admin.element);
  const dashboard = new Dashboard(money, currency);
  await Promise.all([payouts.refresh(), admin?.refresh(), dashboard.refresh()]);
}

void main();
