import type { User } from '../../../protocol';
import type {
  CreatorAnalytics,
  RevenueByKind,
  RoomAnalytics,
  SessionMetrics,
  WatchingMetrics,
} from '../../../server/analytics/report-types';
import { TimeChart } from '../lib/dashboard-charts';
import {
  formatCount,
  formatDateTime,
  formatDecimal,
  formatDuration,
  formatPercent,
  formatTime,
  type MoneyFormat,
  moneyFormat,
} from '../lib/dashboard-format';

/**
 * The creator dashboard: totals over every session, the list of sessions, and one session in
 * detail with its charts. While a session is live it polls every few seconds.
 */

const POLL_MS = 5000;
const TOKEN_KEY = 'lectern.token';
/** Where the site's sign-in form keeps `{token, user}`; read as a fallback. */
const SESSION_KEY = 'lectern.session';

const COLORS = { viewers: '#6366f1', average: '#14b8a6', chat: '#0ea5e9', likes: '#f43f5e', revenue: '#f59e0b' };

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

function $(id: string): HTMLElement {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} is missing`);
  return el;
}

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: { className?: string; text?: string } = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (props.className) node.className = props.className;
  if (props.text !== undefined) node.textContent = props.text;
  node.append(...children);
  return node;
}

/** The token: `?token=` (then kept), the site's stored token, or its stored session. */
function readToken(): string | null {
  const url = new URL(location.href);
  const fromUrl = url.searchParams.get('token');
  if (fromUrl) {
    localStorage.setItem(TOKEN_KEY, fromUrl);
    url.searchParams.delete('token');
    history.replaceState(null, '', url); // keep it out of the address bar and history
    return fromUrl;
  }
  const stored = localStorage.getItem(TOKEN_KEY);
  if (stored) return stored;
  try {
    const session = JSON.parse(localStorage.getItem(SESSION_KEY) ?? 'null') as { token?: string } | null;
    return session?.token ?? null;
  } catch {
    return null;
  }
}

async function getJson<T>(path: string, token: string): Promise<T> {
  const res = await fetch(path, { headers: { authorization: `Bearer ${token}` } });
  const body = (await res.json().catch(() => ({}))) as { error?: { code: string; message: string } };
  if (!res.ok) {
    throw new HttpError(res.status, body.error?.code ?? 'INTERNAL', body.error?.message ?? `HTTP ${res.status}`);
  }
  return body as T;
}

// --- rendering ----------------------------------------------------------------------------------

interface Kpi {
  label: string;
  value: string;
  sub?: string;
  /** A letter tying the tile to the seed's decomposition (P, Q, R). */
  tag?: string;
}

function renderKpis(host: HTMLElement, kpis: readonly Kpi[]): void {
  host.replaceChildren(
    ...kpis.map((k) => {
      const label = el('span', { className: 'kpi-label', text: k.label });
      if (k.tag) label.prepend(el('span', { className: 'kpi-tag', text: k.tag }));
      return el(
        'div',
        { className: 'kpi' },
        label,
        el('span', { className: 'kpi-value', text: k.value }),
        el('span', { className: 'kpi-sub', text: k.sub ?? '' }),
      );
    }),
  );
}

function sessionKpis(s: SessionMetrics, money: MoneyFormat): Kpi[] {
  const { viewers, watch, activity, money: m } = s;
  return [
    {
      tag: 'P',
      label: 'Peak viewers',
      value: formatCount(viewers.peak),
      sub: `average ${formatDecimal(viewers.average)}`,
    },
    {
      label: 'Unique viewers',
      value: formatCount(viewers.unique),
      sub: `${formatCount(viewers.guestJoins)} guest joins`,
    },
    {
      label: 'Watch time',
      value: formatDuration(watch.seconds),
      sub: watch.perViewerSeconds === null ? '' : `${formatDuration(watch.perViewerSeconds)} per viewer`,
    },
    {
      label: 'Chat · likes',
      value: `${formatCount(activity.chatMessages)} · ${formatCount(activity.likes)}`,
      sub: `${formatCount(activity.questionsAsked)} questions, ${formatCount(activity.questionsAnswered)} answered`,
    },
    {
      tag: 'Q',
      label: 'Viewers who bought',
      value: formatPercent(m.viewerConversion),
      sub: `${formatCount(m.viewerBuyers)} of ${formatCount(viewers.unique)} viewers; ${formatCount(m.buyers)} buyers in all`,
    },
    { tag: 'R', label: 'Revenue', value: money(m.revenue.total), sub: `${formatCount(m.sales)} payments` },
    {
      label: 'Revenue per viewer',
      value: m.revenuePerViewer === null ? '—' : money(m.revenuePerViewer),
      sub: m.revenuePerBuyer === null ? '' : `${money(m.revenuePerBuyer)} per buyer`,
    },
  ];
}

function renderRevenueKinds(host: HTMLElement, revenue: RevenueByKind, money: MoneyFormat): void {
  const kinds: [keyof RevenueByKind, string][] = [
    ['ticket', 'Tickets'],
    ['content', 'Content'],
    ['tip', 'Tips'],
    ['subscription', 'Subscriptions'],
  ];
  const max = Math.max(1, ...kinds.map(([k]) => revenue[k]));
  host.replaceChildren(
    ...kinds.map(([kind, label]) => {
      const bar = el('span', { className: 'bar-fill' });
      bar.style.width = `${(100 * revenue[kind]) / max}%`;
      return el(
        'div',
        { className: 'bar-row' },
        el('span', { className: 'bar-label', text: label }),
        el('span', { className: 'bar-track' }, bar),
        el('span', { className: 'bar-value', text: money(revenue[kind]) }),
      );
    }),
  );
}

/** Completion per lesson and replay: viewers, how many finished (90%), the rate and the watch time. */
function renderWatching(rows: readonly WatchingMetrics[]): void {
  const table = $('watching');
  $('no-watching').hidden = rows.length > 0;
  table.hidden = rows.length === 0;
  const cell = (label: string, text: string | Node) => {
    const td = el('td', {}, text);
    td.dataset.label = label;
    return td;
  };
  table.querySelector('tbody')?.replaceChildren(
    ...rows.map((row) => {
      const link = el('a', { text: row.title });
      link.href = row.itemKind === 'replay' ? `/replay/${row.itemId}` : `/content/${row.itemId}`;
      const bar = el('span', { className: 'bar-fill' });
      bar.style.width = `${Math.round(100 * (row.completionRate ?? 0))}%`;
      return el(
        'tr',
        {},
        cell(
          '',
          el(
            'span',
            {},
            link,
            el('span', { className: 'muted small', text: row.itemKind === 'replay' ? ' · replay' : ' · lesson' }),
          ),
        ),
        cell('Viewers', formatCount(row.viewers)),
        cell('Finished', formatCount(row.completions)),
        cell(
          'Completion',
          el(
            'span',
            { className: 'rate' },
            el('span', { className: 'bar-track' }, bar),
            el('span', { className: 'rate-value', text: formatPercent(row.completionRate) }),
          ),
        ),
        cell('Watch time', formatDuration(row.watchSeconds)),
      );
    }),
  );
}

function statusBadge(status: SessionMetrics['status']): HTMLElement {
  return el('span', { className: `badge ${status === 'live' ? 'live' : 'status'}`, text: status });
}

// --- the page -----------------------------------------------------------------------------------

class Dashboard {
  private selected: string | null = new URL(location.href).searchParams.get('room');
  private overview: CreatorAnalytics | null = null;
  private detail: RoomAnalytics | null = null;
  private timer: number | undefined;
  private readonly charts: { viewers: TimeChart; activity: TimeChart; revenue: TimeChart };

  constructor(
    private readonly token: string,
    private readonly money: MoneyFormat,
  ) {
    this.charts = {
      viewers: new TimeChart($('chart-viewers'), [
        { label: 'Peak viewers', color: COLORS.viewers, format: formatCount },
        { label: 'Average viewers', color: COLORS.average, format: formatDecimal },
      ]),
      activity: new TimeChart($('chart-activity'), [
        { label: 'Chat messages', color: COLORS.chat, bars: true, format: formatCount },
        { label: 'Likes', color: COLORS.likes, scale: 'y2', format: formatCount },
      ]),
      revenue: new TimeChart($('chart-revenue'), [
        { label: 'Revenue per minute', color: COLORS.revenue, bars: true, format: money },
        { label: 'Cumulative', color: COLORS.viewers, scale: 'y2', format: money },
      ]),
    };
    document.addEventListener('visibilitychange', () => {
      if (!document.hidden) void this.refresh();
    });
  }

  async refresh(): Promise<void> {
    try {
      this.overview = await getJson<CreatorAnalytics>('/api/analytics/creator?limit=100', this.token);
      const sessions = this.overview.sessions;
      if (!this.selected || !sessions.some((s) => s.roomId === this.selected)) {
        this.selected = (sessions.find((s) => s.status === 'live') ?? sessions[0])?.roomId ?? null;
      }
      this.detail = this.selected
        ? await getJson<RoomAnalytics>(`/api/analytics/rooms/${this.selected}`, this.token)
        : null;
      $('error').textContent = '';
      this.render();
    } catch (err) {
      $('error').textContent =
        err instanceof HttpError && err.status === 401
          ? 'Your sign-in has expired: sign in again on the home page.'
          : `Could not load the analytics: ${(err as Error).message}`;
    }
    this.schedule();
  }

  /** Polls while something is live and the page is visible; otherwise waits to be looked at. */
  private schedule(): void {
    window.clearTimeout(this.timer);
    const live = this.overview?.totals.liveSessions ?? 0;
    if (live > 0) {
      this.timer = window.setTimeout(() => {
        if (document.hidden) this.schedule();
        else void this.refresh();
      }, POLL_MS);
    }
    $('live-note').hidden = live === 0;
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
    $('overview').hidden = false;
    $('updated').textContent = `Updated ${formatTime(new Date(overview.generatedAt))}`;
    const t = overview.totals;
    renderKpis($('totals'), [
      { label: 'Sessions', value: formatCount(t.sessions), sub: `${formatDuration(t.durationSeconds)} live in all` },
      {
        tag: 'P',
        label: 'Peak viewers',
        value: formatCount(t.viewers.peak),
        sub: `average ${formatDecimal(t.viewers.average)}`,
      },
      {
        label: 'Unique viewers',
        value: formatCount(t.viewers.unique),
        sub: `${formatDuration(t.watch.seconds)} watched`,
      },
      {
        tag: 'Q',
        label: 'Viewers who bought',
        value: formatPercent(t.money.viewerConversion),
        sub: `${formatCount(t.money.viewerBuyers)} of ${formatCount(t.viewers.unique)}; ${formatCount(t.money.buyers)} buyers in all`,
      },
      {
        tag: 'R',
        label: 'Revenue in sessions',
        value: this.money(t.money.revenue.total),
        sub: `${this.money(t.allRevenue.total)} with sales outside sessions`,
      },
      {
        label: 'Revenue per viewer',
        value: t.money.revenuePerViewer === null ? '—' : this.money(t.money.revenuePerViewer),
      },
    ]);
    this.renderSessions(overview.sessions);
    renderWatching(overview.watching ?? []);
    this.renderDetail();
  }

  private renderSessions(sessions: readonly SessionMetrics[]): void {
    const list = $('sessions');
    $('no-sessions').hidden = sessions.length > 0;
    list.replaceChildren(
      ...sessions.map((s) => {
        const button = el(
          'button',
          { className: `session${s.roomId === this.selected ? ' selected' : ''}` },
          el('span', { className: 'session-title' }, statusBadge(s.status), ` ${s.title}`),
          el('span', {
            className: 'session-meta',
            text: `${formatDateTime(s.startedAt)} · ${formatDuration(s.durationSeconds)} · ${formatCount(
              s.viewers.peak,
            )} peak · ${this.money(s.money.revenue.total)}`,
          }),
        );
        button.type = 'button';
        button.setAttribute('aria-pressed', String(s.roomId === this.selected));
        button.addEventListener('click', () => this.select(s.roomId));
        return el('li', {}, button);
      }),
    );
  }

  private renderDetail(): void {
    const detail = this.detail;
    $('session').hidden = !detail;
    if (!detail) return;
    const { session: s, series, decomposition: d } = detail;
    $('session-title').textContent = s.title;
    $('session-status').replaceChildren(statusBadge(s.status));
    $('session-when').textContent =
      `${formatDateTime(s.startedAt)}${s.endedAt ? ` – ${formatDateTime(s.endedAt)}` : ''} · ${formatDuration(
        s.durationSeconds,
      )}`;
    renderKpis($('session-kpis'), sessionKpis(s, this.money));
    $('decomposition').textContent =
      d.product === null || d.buyersPerViewer === null || d.revenuePerBuyer === null
        ? `Revenue ${this.money(d.revenue)}: no viewers or buyers to decompose it into yet.`
        : `Revenue ${this.money(d.revenue)} = ${formatCount(d.viewers)} viewers × ${formatDecimal(
            d.buyersPerViewer,
          )} buyers per viewer × ${this.money(d.revenuePerBuyer)} per buyer`;
    renderRevenueKinds($('revenue-kinds'), s.money.revenue, this.money);

    const times = series.map((p) => Date.parse(p.at));
    let cumulative = 0;
    this.charts.viewers.update(times, [series.map((p) => p.peakViewers), series.map((p) => p.averageViewers)]);
    this.charts.activity.update(times, [series.map((p) => p.chatMessages), series.map((p) => p.likes)]);
    this.charts.revenue.update(times, [
      series.map((p) => p.revenue),
      series.map((p) => {
        cumulative += p.revenue;
        return cumulative;
      }),
    ]);
  }
}

async function main(): Promise<void> {
  const token = readToken();
  if (!token) {
    $('signin').hidden = false;
    return;
  }
  let user: User;
  try {
    user = (await getJson<{ user: User }>('/api/me', token)).user;
  } catch (err) {
    $('signin').hidden = false;
    if (err instanceof HttpError && err.status !== 401) $('error').textContent = err.message;
    return;
  }
  $('account').replaceChildren(
    el('span', { className: 'who', text: user.username }),
    el('a', { className: 'button small ghost', text: 'Studio' }),
  );
  ($('account').lastElementChild as HTMLAnchorElement).href = '/studio';
  if (user.role !== 'creator' && user.role !== 'admin') {
    $('not-creator').hidden = false;
    return;
  }
  const currency = await getJson<{ currency: string }>('/api/wallet', token).then(
    (w) => w.currency,
    () => 'USD',
  );
  await new Dashboard(token, moneyFormat(currency)).refresh();
}

void main();
