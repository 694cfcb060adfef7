import type { SaleNotice } from '../../../protocol';
import type { RoomAnalytics } from '../../../server/analytics/report-types';
import { money } from './format';
import { formatNumber, messages } from './i18n';

const t = messages({
  en: {
    someone: 'Someone',
    subscribed: (price: string) => `subscribed · ${price}`,
    ticket: (title: string, price: string) => `bought a ticket${title ? ` to ${title}` : ''} · ${price}`,
    tipped: (price: string) => `tipped · ${price}`,
    bought: (title: string, price: string) => `bought ${title || 'a lesson'} · ${price}`,
    here: 'in this room',
    otherRoom: 'in another of your rooms',
    outside: 'outside the stream',
    content: (n: number) => (n === 1 ? '1 lesson or course' : `${formatNumber(n)} lessons and courses`),
    tickets: (n: number) => (n === 1 ? '1 ticket' : `${formatNumber(n)} tickets`),
    subscriptions: (n: number) => (n === 1 ? '1 subscription' : `${formatNumber(n)} subscriptions`),
    noSales: 'No sales this session',
    sales: (n: number, parts: string, amount: string) =>
      `${formatNumber(n)} ${n === 1 ? 'sale' : 'sales'} this session (${parts}) for ${amount}`,
    tips: (amount: string) => `, ${amount} in tips`,
    net: (net: string, fees: string) => `. You keep ${net} after the platform's fee of ${fees}`,
    refunds: (n: number, amount: string) => ` (${formatNumber(n)} refunded: ${amount})`,
    end: '.',
    list: ', ',
    noSalesOpen: 'No sales while this page was open.',
    heard: (n: number, amount: string) =>
      `${formatNumber(n)} ${n === 1 ? 'sale' : 'sales'} for ${amount} while this page was open.`,
  },
  'zh-CN': {
    someone: '有人',
    subscribed: (price: string) => `订阅了 · ${price}`,
    ticket: (title: string, price: string) => `购买了${title ? `“${title}”的` : ''}门票 · ${price}`,
    tipped: (price: string) => `打赏了 · ${price}`,
    bought: (title: string, price: string) => `购买了${title ? `《${title}》` : '一节课'} · ${price}`,
    here: '在本直播间',
    otherRoom: '在你的其他直播间',
    outside: '在直播之外',
    content: (n: number) => `${formatNumber(n)} 个课程`,
    tickets: (n: number) => `${formatNumber(n)} 张门票`,
    subscriptions: (n: number) => `${formatNumber(n)} 个订阅`,
    noSales: '本场没有销售',
    sales: (n: number, parts: string, amount: string) => `本场共 ${formatNumber(n)} 笔销售（${parts}），合计 ${amount}`,
    tips: (amount: string) => `，打赏 ${amount}`,
    net: (net: string, fees: string) => `。扣除平台服务费 ${fees} 后，你实得 ${net}`,
    refunds: (n: number, amount: string) => `（${formatNumber(n)} 笔已退款：${amount}）`,
    end: '。',
    list: '、',
    noSalesOpen: '本页面打开期间没有销售。',
    heard: (n: number, amount: string) => `本页面打开期间共 ${formatNumber(n)} 笔销售，合计 ${amount}。`,
  },
});

/** The feed's "No sales while this page was open." and "2 sales for $9.00 while …" (the end summary's fallback). */
export function heardText(count: number, amount: string): string {
  return count === 0 ? t.noSalesOpen : t.heard(count, amount);
}

/** The studio's words for sales: the sales feed's lines and the end summary (no DOM: unit-tested). */

export type SoldKind = Exclude<SaleNotice['kind'], 'tip'>;

/** Who, and what they did: ["Amy", "bought Eigenvalues · $9.00"]. */
export function saleParts(sale: SaleNotice): [string, string] {
  const price = money(sale.amount, sale.currency);
  const who = sale.buyer.username || t.someone;
  switch (sale.kind) {
    case 'subscription':
      return [who, t.subscribed(price)];
    case 'ticket':
      return [who, t.ticket(sale.title ?? '', price)];
    case 'tip':
      return [who, t.tipped(price)];
    default:
      return [who, t.bought(sale.title ?? '', price)];
  }
}

/** "Amy bought Eigenvalues · $9.00", "Amy subscribed · $9.99", "Amy bought a ticket to … · $5.00". */
export const saleText = (sale: SaleNotice): string => saleParts(sale).join(' ');

/** Where it was bought, from the studio of `roomId`'s point of view. */
export function saleWhere(sale: SaleNotice, roomId: string): string {
  if (sale.roomId === roomId) return t.here;
  return sale.roomId ? t.otherRoom : t.outside;
}

const KIND_NAMES: Record<SoldKind, (n: number) => string> = {
  content: t.content,
  ticket: t.tickets,
  subscription: t.subscriptions,
};

/** The end-of-stream summary's words for a session's money (from its analytics report). */
export function sessionSalesText(report: RoomAnalytics, currency: string): string {
  const { money: m } = report.session;
  const amount = (n: number) => money(n, currency);
  const parts = (Object.keys(KIND_NAMES) as SoldKind[])
    .filter((k) => m.salesByKind[k] > 0)
    .map((k) => KIND_NAMES[k](m.salesByKind[k]));
  const sold = m.salesByKind.content + m.salesByKind.ticket + m.salesByKind.subscription;
  const sales = sold === 0 ? t.noSales : t.sales(sold, parts.join(t.list), amount(m.revenue.total - m.revenue.tip));
  const tips = m.revenue.tip > 0 ? t.tips(amount(m.revenue.tip)) : '';
  const net = m.revenue.total > 0 ? t.net(amount(m.net), amount(m.fees)) : '';
  const refunds = m.refunds.count > 0 ? t.refunds(m.refunds.count, amount(m.refunds.amount)) : '';
  return `${sales}${tips}${net}${refunds}${t.end}`;
}
