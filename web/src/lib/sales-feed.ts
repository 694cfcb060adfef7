import type { SaleNotice } from '../../../protocol';
import type { RoomAnalytics } from '../../../server/analytics/report-types';
import { api } from './api';
import { h } from './dom';
import { money, timeOfDay } from './format';
import { messages } from './i18n';
import { heardText, saleParts, saleWhere, sessionSalesText } from './sales-text';

const t = messages({
  en: {
    sales: 'Sales',
    dashboard: 'Dashboard',
    empty: 'Sales of your lessons, tickets and subscriptions show up here.',
  },
  'zh-CN': { sales: '销售', dashboard: '数据看板', empty: '你的课程、门票和订阅的销售会显示在这里。' },
});

/** The newest sales the feed shows. */
const SHOWN = 50;
/** Sale ids remembered to drop repeats (a repeat comes soon after the first, from a resumed connection). */
const SEEN = 1000;

/**
 * The studio's sales feed: what the creator sells while the page is open (`sale:new`, sent to all
 * of the creator's connections; in a storm the SDK unpacks each `sale:batch` into them), newest
 * first, wherever it was bought. Tips have their own feed beside it, so they are left out here.
 */
export class SalesFeed {
  readonly element: HTMLElement;
  private readonly list = h('ol', { class: 'sales-feed', 'aria-live': 'polite', tabIndex: 0, 'aria-label': t.sales });
  /** Recent sale ids, oldest first: a sale heard twice (a resumed connection) is shown once. */
  private readonly seen = new Set<string>();
  /** Sales heard since the last render, oldest first (at most what the list shows). */
  private pending: SaleNotice[] = [];
  private renderQueued = false;
  /** This room's sales heard while the page is open (the end summary's fallback). */
  private readonly here = { count: 0, amount: 0 };

  constructor(private readonly roomId: string) {
    const dashboard = h('a', { href: `/dashboard?room=${encodeURIComponent(roomId)}` }, t.dashboard);
    this.element = h(
      'section',
      { class: 'card', 'aria-label': t.sales },
      h('div', { class: 'sales-head' }, h('h2', {}, t.sales), dashboard),
      this.list,
    );
    this.list.append(h('li', { class: 'empty muted' }, t.empty));
  }

  /**
   * In a gift storm a creator sells thousands of times a second: the list is drawn at most once a
   * frame, with only the newest `SHOWN`, and the page keeps a bounded memory of what it heard.
   */
  add(sale: SaleNotice): void {
    if (sale.kind === 'tip' || this.seen.has(sale.id)) return;
    this.seen.add(sale.id);
    if (this.seen.size > SEEN) this.seen.delete(this.seen.values().next().value as string);
    if (sale.roomId === this.roomId) {
      this.here.count++;
      this.here.amount += sale.amount;
    }
    this.pending.push(sale);
    if (this.pending.length > SHOWN) this.pending.splice(0, this.pending.length - SHOWN);
    if (this.renderQueued) return;
    this.renderQueued = true;
    requestAnimationFrame(() => this.render());
  }

  private render(): void {
    this.renderQueued = false;
    const sales = this.pending;
    this.pending = [];
    this.list.querySelector('.empty')?.remove();
    this.list.prepend(...sales.reverse().map((sale) => this.item(sale)));
    while (this.list.children.length > SHOWN) this.list.lastElementChild?.remove();
  }

  private item(sale: SaleNotice): HTMLElement {
    const [who, what] = saleParts(sale);
    return h(
      'li',
      { class: sale.roomId === this.roomId ? 'sale here' : 'sale' },
      h('span', { class: 'sale-text' }, h('span', { class: 'author' }, who), ` ${what}`),
      h(
        'span',
        { class: 'muted small' },
        h('time', { dateTime: sale.at }, timeOfDay(sale.at)),
        ' · ',
        h('span', { class: 'where' }, saleWhere(sale, this.roomId)),
      ),
    );
  }

  /** Sales made in this room that this page heard of (not those from before it was opened). */
  heardHere(): { count: number; amount: number } {
    return { ...this.here };
  }
}

/**
 * The session's sales for the end summary, from its analytics report: exact (every sale of the
 * session, also those made before this page was opened). The report follows the sales by a moment,
 * so it is asked again while it knows fewer of this room's sales than the page heard of.
 */
export async function endOfStreamSales(
  roomId: string,
  currency: string,
  feed: SalesFeed,
  options: { attempts?: number; waitMs?: number } = {},
): Promise<string> {
  const { attempts = 6, waitMs = 1000 } = options;
  const heard = feed.heardHere();
  let report: RoomAnalytics | undefined;
  for (let i = 0; i < attempts; i++) {
    try {
      report = await api<RoomAnalytics>('GET', `/api/analytics/rooms/${encodeURIComponent(roomId)}`);
      const m = report.session.money;
      const known = m.salesByKind.content + m.salesByKind.ticket + m.salesByKind.subscription + m.refunds.count;
      if (known >= heard.count) break;
    } catch {
      // Not reachable right now: try again, then fall back on what the page heard.
    }
    await new Promise((resolve) => setTimeout(resolve, waitMs));
  }
  if (report) return sessionSalesText(report, currency);
  return heardText(heard.count, money(heard.amount, currency));
}
