import type { SaleNotice } from '../../protocol';
import type { RoomAnalytics } from '../../server/analytics';
import { saleText, saleWhere, sessionSalesText } from '../../web/src/lib/sales-text';

/** The studio's words for sales (web/src/lib/sales-text.ts): the feed's lines and the end summary. */

const usd = (minor: number) =>
  new Intl.NumberFormat(undefined, { style: 'currency', currency: 'USD' }).format(minor / 100);

const sale = (fields: Partial<SaleNotice>): SaleNotice => ({
  id: 'p1',
  kind: 'content',
  buyer: { id: 'u1', username: 'Amy' },
  title: 'Eigenvalues',
  amount: 900,
  currency: 'USD',
  roomId: 'r1',
  at: '2026-03-03T10:00:00.000Z',
  ...fields,
});

describe('the sales feed', () => {
  it('says who bought what for how much', () => {
    expect(saleText(sale({}))).toBe(`Amy bought Eigenvalues · ${usd(900)}`);
    expect(saleText(sale({ kind: 'subscription', title: 'Subscription', amount: 999 }))).toBe(
      `Amy subscribed · ${usd(999)}`,
    );
    expect(saleText(sale({ kind: 'ticket', title: 'Office hours', amount: 500 }))).toBe(
      `Amy bought a ticket to Office hours · ${usd(500)}`,
    );
  });

  it('says where it was bought', () => {
    expect(saleWhere(sale({}), 'r1')).toBe('in this room');
    expect(saleWhere(sale({ roomId: 'r2' }), 'r1')).toBe('in another of your rooms');
    expect(saleWhere(sale({ roomId: null }), 'r1')).toBe('outside the stream');
  });
});

describe('the end summary', () => {
  const report = (money: Partial<RoomAnalytics['session']['money']>) =>
    ({
      session: {
        money: {
          revenue: { ticket: 0, content: 0, tip: 0, subscription: 0, total: 0 },
          fees: 0,
          net: 0,
          refunds: { count: 0, amount: 0 },
          salesByKind: { ticket: 0, content: 0, tip: 0, subscription: 0 },
          ...money,
        },
      },
    }) as RoomAnalytics;

  it('gives the sales by kind, the tips apart, and what the creator keeps', () => {
    const text = sessionSalesText(
      report({
        revenue: { ticket: 0, content: 900, tip: 200, subscription: 999, total: 2099 },
        fees: 210,
        net: 1889,
        salesByKind: { ticket: 0, content: 1, tip: 1, subscription: 1 },
      }),
      'USD',
    );
    expect(text).toBe(
      `2 sales this session (1 lesson or course, 1 subscription) for ${usd(1899)}, ${usd(200)} in tips. ` +
        `You keep ${usd(1889)} after the platform's fee of ${usd(210)}.`,
    );
  });

  it('says when nothing sold, and mentions refunds', () => {
    expect(sessionSalesText(report({}), 'USD')).toBe('No sales this session.');
    expect(
      sessionSalesText(
        report({
          revenue: { ticket: 500, content: 0, tip: 0, subscription: 0, total: 500 },
          fees: 50,
          net: 450,
          salesByKind: { ticket: 1, content: 0, tip: 0, subscription: 0 },
          refunds: { count: 1, amount: 500 },
        }),
        'USD',
      ),
    ).toBe(
      `1 sale this session (1 ticket) for ${usd(500)}. You keep ${usd(450)} after the platform's fee of ${usd(50)} (1 refunded: ${usd(500)}).`,
    );
  });
});
