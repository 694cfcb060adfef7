import { addMoneyTotals, decompose, moneyMetrics, moneyTotals, revenueByKind, salesByKind } from './derive';

const noRefunds = { count: 0, amount: 0 };

describe('money metrics and the revenue decomposition', () => {
  it('derives buyers per viewer, the viewers who bought, and revenue per viewer and per buyer', () => {
    const money = moneyMetrics({
      revenue: revenueByKind({ ticket: 600, content: 500, tip: 350, subscription: 1000 }),
      salesByKind: salesByKind({ ticket: 2, content: 1, tip: 2, subscription: 1 }),
      fees: 245,
      refunds: { count: 1, amount: 500 },
      buyers: 3,
      viewerBuyers: 2,
      uniqueViewers: 4,
    });
    expect(money).toEqual({
      revenue: { ticket: 600, content: 500, tip: 350, subscription: 1000, total: 2450 },
      fees: 245,
      net: 2205,
      refunds: { count: 1, amount: 500 },
      sales: 6,
      salesByKind: { ticket: 2, content: 1, tip: 2, subscription: 1 },
      buyers: 3,
      buyersPerViewer: 0.75,
      viewerBuyers: 2,
      viewerConversion: 0.5,
      revenuePerViewer: 612.5,
      revenuePerBuyer: 2450 / 3,
    });
    const d = decompose(money, 4);
    expect(d).toMatchObject({ viewers: 4, buyersPerViewer: 0.75, revenue: 2450, holds: true });
    expect(d.product).toBeCloseTo(2450, 9);
  });

  it('keeps the viewers who bought at most all viewers, while buyers per viewer may pass 1', () => {
    // Three buyers, one of whom watched: presold tickets and catalog sales are buyers too.
    const money = moneyMetrics({
      revenue: revenueByKind({ ticket: 900 }),
      salesByKind: salesByKind({ ticket: 3 }),
      fees: 0,
      refunds: noRefunds,
      buyers: 3,
      viewerBuyers: 1,
      uniqueViewers: 2,
    });
    expect(money).toMatchObject({ buyersPerViewer: 1.5, viewerConversion: 0.5 });
    expect(decompose(money, 2)).toMatchObject({ product: 900, holds: true });
  });

  it('holds with viewers and no buyers (nothing sold), and has no ratios without viewers', () => {
    const none = moneyMetrics({
      revenue: revenueByKind({}),
      salesByKind: salesByKind({}),
      fees: 0,
      refunds: noRefunds,
      buyers: 0,
      viewerBuyers: 0,
      uniqueViewers: 5,
    });
    expect(none).toMatchObject({ buyersPerViewer: 0, viewerConversion: 0, revenuePerViewer: 0, revenuePerBuyer: null });
    expect(decompose(none, 5)).toMatchObject({ product: 0, holds: true });

    const empty = moneyMetrics({
      revenue: revenueByKind({}),
      salesByKind: salesByKind({}),
      fees: 0,
      refunds: noRefunds,
      buyers: 0,
      viewerBuyers: 0,
      uniqueViewers: 0,
    });
    expect(empty).toMatchObject({
      buyersPerViewer: null,
      viewerConversion: null,
      revenuePerViewer: null,
      revenuePerBuyer: null,
    });
    expect(decompose(empty, 0)).toMatchObject({ product: null, holds: true });
  });

  it('says so when revenue cannot be decomposed: money with no viewers (tickets sold, nobody came)', () => {
    const presold = moneyMetrics({
      revenue: revenueByKind({ ticket: 300 }),
      salesByKind: salesByKind({ ticket: 1 }),
      fees: 30,
      refunds: noRefunds,
      buyers: 1,
      viewerBuyers: 0,
      uniqueViewers: 0,
    });
    expect(decompose(presold, 0)).toMatchObject({ product: null, revenue: 300, holds: false });
  });

  it('adds up gross, fees, net and refunds', () => {
    const a = moneyTotals({
      revenue: revenueByKind({ content: 900 }),
      salesByKind: salesByKind({ content: 1 }),
      fees: 90,
      refunds: { count: 1, amount: 400 },
    });
    expect(a).toEqual({
      revenue: revenueByKind({ content: 900 }),
      sales: 1,
      fees: 90,
      net: 810,
      refunds: { count: 1, amount: 400 },
    });
    const b = moneyTotals({
      revenue: revenueByKind({ tip: 100 }),
      salesByKind: salesByKind({ tip: 2 }),
      fees: 10,
      refunds: noRefunds,
    });
    expect(addMoneyTotals(a, b)).toEqual({
      revenue: revenueByKind({ content: 900, tip: 100 }),
      sales: 3,
      fees: 100,
      net: 900,
      refunds: { count: 1, amount: 400 },
    });
  });
});
