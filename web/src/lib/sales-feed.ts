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

/**
 * The studio's sales feed: what the creator sells while the page is open (`sale:new`, sent to all
 * of the creator's connections; in a storm the SDK unpacks each `sale:batch` into them), newest first, wherever it was bought. Tips have their own feed
 * beside it, so they are left out here.
 */

export class SalesFeed {
  readonly element: HTMLElement;
  private readonly list = h('ol', { class: 'sales-feed', 'aria-live': 'polite', tabIndex: 0, 'aria-label': t.sales });
  private readonly seen = new Set<string>();
  private readonly heard: SaleNotice[] = [];

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

  add(sale: SaleNotice): void {
    if (sale.kind === 'tip' || this.seen.has(sale.id)) return;
    this.seen.add(sale.id);
    this.heard.push(sale);
    this.list.querySelector('.empty')?.remove();
    this.list.prepend(
      h(
        'li',
        { class: sale.roomId === this.roomId ? 'sale here' : 'sale' },
        h('span', { class: 'sale-text' }, h('span', { class: 'author' }, saleParts(sale)[0]), ` ${saleParts(sale)[1]}`),
        h(
          'span',
          { class: 'muted small' },
          h('time', { dateTime: sale.at }, timeOfDay(sale.at)),
          ' · ',
          h('span', { class: 'where' }, saleWhere(sale, this.roomId)),
        ),
      ),
    );
    while (this.list.children.length > 50) this.list.lastElementChild?.remove();
  }

  /** Sales made in this room that this page heard of (not those from before it was opened). */
  heardHere(): { count: number; amount: number } {
    const here = this.heard.filter((s) => s.roomId === this.roomId);
    return { count: here.length, amount: here.reduce((n, s) => n + s.amount, 0) };
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
