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
import { messages } from '../lib/i18n';
import { fillText } from '../lib/page-text';
import { startShell } from '../lib/shell';

const t = messages({
  en: {
    title: 'Dashboard — Lectern',
    topbar: 'Dashboard',
    signInLead: 'Sign in with a creator account to see your sales, earnings and payouts.',
    signIn: 'Sign in',
    notCreatorLead: 'The dashboard is for creators: it shows what you sell, what you earn and your payouts.',
    notCreatorText: 'Create a creator account to go live and sell lessons:',
    openStudio: 'open the studio',
    heading: 'Your dashboard',
    liveNote: '● live: updating every few seconds',
    sales: 'Sales',
    salesNote:
      'Everything bought from you, in live sessions and outside them. Gross is what buyers paid; the platform’s fee comes off it; the rest is yours (net). Refunded sales count only as refunds.',
    salesKpis: 'Sales: gross, fees, net and refunds',
    show: 'Show',
    days7: '7 days',
    days30: '30 days',
    days90: '90 days',
    liveSessions: 'Your live sessions',
    totalsLabel: 'Totals over all sessions',
    completion: 'Completion per lesson',
    completionNote:
      'How far signed-in viewers get through your lessons and replays. Finished means they watched at least 90%.',
    noWatching: 'Nobody has watched a lesson or a replay yet.',
    noWatchingLink: 'Sell lessons and manage replays in the content manager',
    colItem: 'Lesson or replay',
    colViewers: 'Viewers',
    colFinished: 'Finished',
    colCompletion: 'Completion',
    colWatch: 'Watch time',
    sessions: 'Sessions',
    noSessions: 'No sessions yet.',
    goLive: 'Go live from the studio',
    viewers: 'Viewers',
    viewersNote: 'How many were watching: the most at any moment of each stretch, and the average.',
    activityNote: 'Messages (bars, left scale) and likes (line, right scale).',
    revenueNote:
      'What buyers paid in each stretch (bars, left scale) and in the session so far (line, right scale). Refunded sales are left out.',
    byKind: 'Sales by kind (gross)',
    // figures
    gross: 'Sales (gross)',
    payments: (n: number, count: string) => `${count} ${n === 1 ? 'payment' : 'payments'}, what buyers paid`,
    fees: 'Platform fees',
    feesSub: 'the platform’s part',
    net: 'You keep (net)',
    netSub: 'gross minus fees',
    refunded: 'Refunded',
    noRefunds: 'no refunds',
    refundedSub: (n: number, count: string) => `${count} ${n === 1 ? 'sale' : 'sales'}, not counted above`,
    peak: 'Most viewers at once',
    onAverage: (n: string) => `${n} on average`,
    unique: 'Different viewers',
    uniqueSub: (guests: string) => `signed in; and ${guests} guest visits`,
    watchTime: 'Watch time',
    nobodyWatched: 'nobody watched',
    perViewer: (time: string) => `${time} per viewer`,
    chatLikes: 'Chat messages and likes',
    questions: (asked: string, answered: string) => `${asked} questions, ${answered} answered`,
    bought: 'Viewers who bought',
    ofViewers: (buyers: string, viewers: string) => `${buyers} of ${viewers} viewers`,
    salesPerViewer: 'Sales per viewer',
    noBuyers: 'no buyers yet',
    perBuyer: (amount: string) => `${amount} per buyer`,
    tickets: 'Tickets',
    contents: 'Lessons and courses',
    tips: 'Tips',
    subscriptions: 'Subscriptions',
    noViewersRevenue: (amount: string) =>
      `${amount} in sales, but no signed-in viewers to divide it among (tickets sold to people who did not come).`,
    nothingToBreak: 'No viewers or sales yet, so there is nothing to break down.',
    about: 'about ',
    decomposition: (
      viewers: string,
      v: number,
      aboutA: string,
      perViewer: string,
      b: number,
      aboutB: string,
      perBuyer: string,
      total: string,
    ) =>
      `How the sales add up: ${viewers} ${v === 1 ? 'viewer' : 'viewers'} × ${aboutA}${perViewer} ${b === 1 ? 'buyer' : 'buyers'} per viewer × ${aboutB}${perBuyer} per buyer = ${total} (gross). Buyers per viewer counts everyone who paid, also those who bought without watching (a ticket bought ahead), so it can pass 1.`,
    replay: ' · replay',
    lesson: ' · lesson',
    live: 'Live',
    ended: 'Ended',
    expired: 'Your sign-in has expired: sign in again.',
    notLoaded: 'Could not load the analytics:',
    updated: (time: string) => `Updated ${time}`,
    sessionsTile: 'Live sessions',
    liveInAll: (time: string) => `${time} live in all`,
    busiest: 'in your busiest session',
    watchedInAll: (time: string) => `signed in; ${time} watched in all`,
    boughtInSession: (buyers: string, viewers: string) => `${buyers} of ${viewers} viewers, in a session they watched`,
    grossInSessions: 'gross, in sessions',
    inSessions: 'In live sessions: ',
    inSessionsText: (gross: string, net: string, count: string) => `${gross} gross, ${net} for you (${count} payments)`,
    outside: 'Outside sessions: ',
    outsideText: (gross: string, net: string, count: string) =>
      `${gross} gross, ${net} for you (${count} payments): lessons and subscriptions bought on your pages rather than from a live room`,
    dailyTitle: (days: number) => `Sales per day, last ${days} days`,
    dailyNote: (zone: string) => `Each day’s gross sales and what you keep of them, in your time zone (${zone}).`,
    refundedLeftOut: (amount: string) => ` Sales refunded since (${amount}) are left out.`,
    sessionMeta: (when: string, length: string, peak: string, gross: string) =>
      `${when} · ${length} · ${peak} at most · ${gross} gross`,
    activityTitle: (per: string) => `Chat and likes ${per}`,
    revenueTitle: (per: string) => `Sales ${per} (gross)`,
    mostAtOnce: 'Most at once',
    average: 'Average',
    chatMessages: 'Chat messages',
    likes: 'Likes',
    totalSoFar: 'Total so far',
  },
  'zh-CN': {
    title: '数据看板 — Lectern',
    topbar: '数据看板',
    signInLead: '使用创作者账号登录，查看你的销售、收入和提现。',
    signIn: '登录',
    notCreatorLead: '数据看板是给创作者用的：展示你卖了什么、赚了多少以及提现情况。',
    notCreatorText: '注册创作者账号即可开播和售卖课程：',
    openStudio: '打开直播间工作台',
    heading: '我的数据看板',
    liveNote: '● 直播中：每隔几秒自动更新',
    sales: '销售',
    salesNote:
      '你的全部销售，包括直播中和直播外。总额是买家支付的金额，扣除平台服务费后剩下的就是你的净收入。已退款的销售只计入退款。',
    salesKpis: '销售：总额、服务费、净收入和退款',
    show: '显示',
    days7: '7 天',
    days30: '30 天',
    days90: '90 天',
    liveSessions: '你的直播场次',
    totalsLabel: '所有场次的汇总',
    completion: '每节课的完成度',
    completionNote: '已登录观众看完你的课程和回放的程度。“看完”指至少观看了 90%。',
    noWatching: '还没有人观看过课程或回放。',
    noWatchingLink: '在内容管理中售卖课程、管理回放',
    colItem: '课程或回放',
    colViewers: '观众',
    colFinished: '看完',
    colCompletion: '完成率',
    colWatch: '观看时长',
    sessions: '直播场次',
    noSessions: '还没有直播场次。',
    goLive: '去直播间工作台开播',
    viewers: '观众',
    viewersNote: '在线观看人数：每个时间段内的最高人数和平均人数。',
    activityNote: '消息数（柱状，左侧刻度）和点赞数（折线，右侧刻度）。',
    revenueNote: '每个时间段内买家支付的金额（柱状，左侧刻度）以及本场累计（折线，右侧刻度）。不含已退款的销售。',
    byKind: '按类型的销售额（总额）',
    gross: '销售总额',
    payments: (_n: number, count: string) => `${count} 笔支付，买家支付的金额`,
    fees: '平台服务费',
    feesSub: '平台收取的部分',
    net: '你的净收入',
    netSub: '总额减去服务费',
    refunded: '已退款',
    noRefunds: '没有退款',
    refundedSub: (_n: number, count: string) => `${count} 笔，未计入以上数据`,
    peak: '最高同时在线',
    onAverage: (n: string) => `平均 ${n} 人`,
    unique: '观众人数',
    uniqueSub: (guests: string) => `已登录观众；另有 ${guests} 次游客访问`,
    watchTime: '观看时长',
    nobodyWatched: '无人观看',
    perViewer: (time: string) => `人均 ${time}`,
    chatLikes: '消息和点赞',
    questions: (asked: string, answered: string) => `${asked} 个提问，已回答 ${answered} 个`,
    bought: '购买转化率',
    ofViewers: (buyers: string, viewers: string) => `${viewers} 位观众中 ${buyers} 位购买`,
    salesPerViewer: '人均销售额',
    noBuyers: '还没有买家',
    perBuyer: (amount: string) => `每位买家 ${amount}`,
    tickets: '门票',
    contents: '课程与系列课',
    tips: '打赏',
    subscriptions: '订阅',
    noViewersRevenue: (amount: string) => `销售额 ${amount}，但没有已登录的观众可以平摊（门票卖给了没来观看的人）。`,
    nothingToBreak: '还没有观众或销售，暂时无法拆解。',
    about: '约 ',
    decomposition: (
      viewers: string,
      _v: number,
      aboutA: string,
      perViewer: string,
      _b: number,
      aboutB: string,
      perBuyer: string,
      total: string,
    ) =>
      `销售额的构成：${viewers} 位观众 × 每位观众 ${aboutA}${perViewer} 位买家 × 每位买家 ${aboutB}${perBuyer} = ${total}（总额）。“每位观众的买家数”统计所有付款的人，包括没有观看就购买的人（例如提前买票），所以可能大于 1。`,
    replay: ' · 回放',
    lesson: ' · 单节课',
    live: '直播中',
    ended: '已结束',
    expired: '登录已过期，请重新登录。',
    notLoaded: '数据加载失败：',
    updated: (time: string) => `更新于 ${time}`,
    sessionsTile: '直播场次',
    liveInAll: (time: string) => `累计直播 ${time}`,
    busiest: '在你最火的一场',
    watchedInAll: (time: string) => `已登录观众；累计观看 ${time}`,
    boughtInSession: (buyers: string, viewers: string) => `${viewers} 位观众中 ${buyers} 位在观看的场次中购买`,
    grossInSessions: '直播中的销售总额',
    inSessions: '直播中：',
    inSessionsText: (gross: string, net: string, count: string) => `总额 ${gross}，你的收入 ${net}（${count} 笔支付）`,
    outside: '直播外：',
    outsideText: (gross: string, net: string, count: string) =>
      `总额 ${gross}，你的收入 ${net}（${count} 笔支付）：在你的页面而不是直播间里购买的课程和订阅`,
    dailyTitle: (days: number) => `每日销售额（最近 ${days} 天）`,
    dailyNote: (zone: string) => `每天的销售总额和你的净收入，按你所在的时区（${zone}）计算。`,
    refundedLeftOut: (amount: string) => `之后退款的销售（${amount}）不计入。`,
    sessionMeta: (when: string, length: string, peak: string, gross: string) =>
      `${when} · ${length} · 最高 ${peak} 人 · 总额 ${gross}`,
    activityTitle: (per: string) => `消息和点赞${per}`,
    revenueTitle: (per: string) => `销售额${per}（总额）`,
    mostAtOnce: '最高同时在线',
    average: '平均',
    chatMessages: '消息',
    likes: '点赞',
    totalSoFar: '累计',
  },
});

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
      label: t.gross,
      value: money(m.revenue.total),
      sub: t.payments(m.sales, formatCount(m.sales)),
      className: 'gross',
    },
    { label: t.fees, value: money(m.fees), sub: t.feesSub, className: 'fees' },
    { label: t.net, value: money(m.net), sub: t.netSub, className: 'net' },
    {
      label: t.refunded,
      value: money(m.refunds.amount),
      sub: m.refunds.count === 0 ? t.noRefunds : t.refundedSub(m.refunds.count, formatCount(m.refunds.count)),
      className: 'refunds',
    },
  ];
}

function sessionKpis(s: SessionMetrics, money: MoneyFormat): Kpi[] {
  const { viewers, watch, activity, money: m } = s;
  return [
    { label: t.peak, value: formatCount(viewers.peak), sub: t.onAverage(formatDecimal(viewers.average)) },
    { label: t.unique, value: formatCount(viewers.unique), sub: t.uniqueSub(formatCount(viewers.guestJoins)) },
    {
      label: t.watchTime,
      value: formatDuration(watch.seconds),
      sub: watch.perViewerSeconds === null ? t.nobodyWatched : t.perViewer(formatDuration(watch.perViewerSeconds)),
    },
    {
      label: t.chatLikes,
      value: `${formatCount(activity.chatMessages)} · ${formatCount(activity.likes)}`,
      sub: t.questions(formatCount(activity.questionsAsked), formatCount(activity.questionsAnswered)),
    },
    {
      label: t.bought,
      value: formatPercent(m.viewerConversion),
      sub: t.ofViewers(formatCount(m.viewerBuyers), formatCount(viewers.unique)),
    },
    ...moneyKpis(m, money),
    {
      label: t.salesPerViewer,
      value: m.revenuePerViewer === null ? '—' : money(m.revenuePerViewer),
      sub: m.revenuePerBuyer === null ? t.noBuyers : t.perBuyer(money(m.revenuePerBuyer)),
    },
  ];
}

const KIND_LABELS: [keyof RevenueByKind, string][] = [
  ['ticket', t.tickets],
  ['content', t.contents],
  ['tip', t.tips],
  ['subscription', t.subscriptions],
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
    return d.revenue > 0 ? t.noViewersRevenue(money(d.revenue)) : t.nothingToBreak;
  }
  // Rounded for reading: say so, so that the product still visibly adds up.
  const about = (exact: boolean) => (exact ? '' : t.about);
  return t.decomposition(
    formatCount(d.viewers),
    d.viewers,
    about(Math.round(d.buyersPerViewer * 100) / 100 === d.buyersPerViewer),
    formatDecimal(d.buyersPerViewer),
    d.buyersPerViewer,
    about(Number.isInteger(d.revenuePerBuyer)),
    money(d.revenuePerBuyer),
    money(d.revenue),
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
            h('span', { class: 'muted small' }, row.itemKind === 'replay' ? t.replay : t.lesson),
          ),
        ),
        cell(t.colViewers, formatCount(row.viewers)),
        cell(t.colFinished, formatCount(row.completions)),
        cell(
          t.colCompletion,
          h(
            'span',
            { class: 'rate' },
            h('span', { class: 'bar-track' }, bar),
            h('span', { class: 'rate-value' }, formatPercent(row.completionRate)),
          ),
        ),
        cell(t.colWatch, formatDuration(row.watchSeconds)),
      );
    }),
  );
}

function statusBadge(status: SessionMetrics['status']): HTMLElement {
  return h('span', { class: `badge ${status === 'live' ? 'live' : 'status'}` }, status === 'live' ? t.live : t.ended);
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
          { label: t.gross, color: COLORS.revenue, bars: true, format: money },
          { label: t.net, color: COLORS.net, format: money },
        ],
        { axis: { y: moneyTicks } },
      ),
      viewers: new TimeChart(
        byId('chart-viewers'),
        [
          { label: t.mostAtOnce, color: COLORS.viewers, format: formatCount },
          { label: t.average, color: COLORS.average, format: formatDecimal },
        ],
        { axis: { y: countAxis } },
      ),
      activity: new TimeChart(
        byId('chart-activity'),
        [
          { label: t.chatMessages, color: COLORS.chat, bars: true, format: formatCount },
          { label: t.likes, color: COLORS.likes, scale: 'y2', format: formatCount },
        ],
        { axis: { y: countAxis, y2: countAxis } },
      ),
      revenue: new TimeChart(
        byId('chart-revenue'),
        [
          { label: t.gross, color: COLORS.revenue, bars: true, format: money },
          { label: t.totalSoFar, color: COLORS.viewers, scale: 'y2', format: money },
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
        codeOf(err) === 'UNAUTHENTICATED' ? t.expired : `${t.notLoaded} ${describeError(err)}`;
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
    byId('updated').textContent = t.updated(formatTime(new Date(overview.generatedAt)));
    const all = overview.totals;
    this.renderSales(all.all, all.money, all.outsideSessions, overview.daily.points);
    renderKpis(byId('totals'), [
      {
        label: t.sessionsTile,
        value: formatCount(all.sessions),
        sub: t.liveInAll(formatDuration(all.durationSeconds)),
      },
      { label: t.peak, value: formatCount(all.viewers.peak), sub: t.busiest },
      {
        label: t.unique,
        value: formatCount(all.viewers.unique),
        sub: t.watchedInAll(formatDuration(all.watch.seconds)),
      },
      {
        label: t.bought,
        value: formatPercent(all.money.viewerConversion),
        sub: t.boughtInSession(formatCount(all.money.viewerBuyers), formatCount(all.viewers.unique)),
      },
      {
        label: t.salesPerViewer,
        value: all.money.revenuePerViewer === null ? '—' : this.money(all.money.revenuePerViewer),
        sub: t.grossInSessions,
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
        h('b', {}, t.inSessions),
        t.inSessionsText(
          this.money(inSessions.revenue.total),
          this.money(inSessions.net),
          formatCount(inSessions.sales),
        ),
      ),
      h(
        'li',
        {},
        h('b', {}, t.outside),
        t.outsideText(this.money(outside.revenue.total), this.money(outside.net), formatCount(outside.sales)),
      ),
    );
    byId('daily-title').textContent = t.dailyTitle(this.days);
    this.charts.daily.update(
      daily.map((d) => dayStart(d.day)),
      DAY_MS,
      [daily.map((d) => d.revenue), daily.map((d) => d.net)],
    );
    const refunded = daily.reduce((n, d) => n + d.refunded, 0);
    byId('daily-note').textContent =
      t.dailyNote(TIME_ZONE) + (refunded > 0 ? t.refundedLeftOut(this.money(refunded)) : '');
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
            t.sessionMeta(
              formatDateTime(s.startedAt),
              formatDuration(s.durationSeconds),
              formatCount(s.viewers.peak),
              this.money(s.money.revenue.total),
            ),
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
    byId('activity-title').textContent = t.activityTitle(per);
    byId('revenue-title').textContent = t.revenueTitle(per);
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
  fillText(t);
  document.title = t.title;
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
