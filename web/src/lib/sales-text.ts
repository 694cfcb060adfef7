import type { SaleNotice } from '../../../protocol';
import type { RoomAnalytics } from '../../../server/analytics/report-types';
import { money } from './format';

/** The studio's words for sales: the sales feed's lines and the end summary (no DOM: unit-tested). */

export type SoldKind = Exclude<SaleNotice['kind'], 'tip'>;

/** Who, and what they did: ["Amy", "bought Eigenvalues · $9.00"]. */
export function saleParts(sale: SaleNotice): [string, string] {
  const price = money(sale.amount, sale.currency);
  const who = sale.buyer.username || 'Someone';
  switch (sale.kind) {
    case 'subscription':
      return [who, `subscribed · ${price}`];
    case 'ticket':
      return [who, `bought a ticket${sale.title ? ` to ${sale.title}` : ''} · ${price}`];
    case 'tip':
      return [who, `tipped · ${price}`];
    default:
      return [who, `bought ${sale.title || 'a lesson'} · ${price}`];
  }
}

/** "Amy bought Eigenvalues · $9.00", "Amy subscribed · $9.99", "Amy bought a ticket to … · $5.00". */
export const saleText = (sale: SaleNotice): string => saleParts(sale).join(' ');

/** Where it was bought, from the studio of `roomId`'s point of view. */
export function saleWhere(sale: SaleNotice, roomId: string): string {
  if (sale.roomId === roomId) return 'in this room';
  return sale.roomId ? 'in another of your rooms' : 'outside the stream';
}

const KIND_NAMES: Record<SoldKind, [string, string]> = {
  content: ['lesson or course', 'lessons and courses'],
  ticket: ['ticket', 'tickets'],
  subscription: ['subscription', 'subscriptions'],
};

/** The end-of-stream summary's words for a session's money (from its analytics report). */
export function sessionSalesText(report: RoomAnalytics, currency: string): string {
  const { money: m } = report.session;
  const amount = (n: number) => money(n, currency);
  const parts = (Object.keys(KIND_NAMES) as SoldKind[])
    .filter((k) => m.salesByKind[k] > 0)
    .map((k) => `${m.salesByKind[k]} ${KIND_NAMES[k][m.salesByKind[k] === 1 ? 0 : 1]}`);
  const sold = m.salesByKind.content + m.salesByKind.ticket + m.salesByKind.subscription;
  const sales =
    sold === 0
      ? 'No sales this session'
      : `${sold} ${sold === 1 ? 'sale' : 'sales'} this session (${parts.join(', ')}) for ${amount(m.revenue.total - m.revenue.tip)}`;
  const tips = m.revenue.tip > 0 ? `, ${amount(m.revenue.tip)} in tips` : '';
  const net = m.revenue.total > 0 ? `. You keep ${amount(m.net)} after the platform's fee of ${amount(m.fees)}` : '';
  const refunds = m.refunds.count > 0 ? ` (${m.refunds.count} refunded: ${amount(m.refunds.amount)})` : '';
  return `${sales}${tips}${net}${refunds}.`;
}
