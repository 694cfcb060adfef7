import { decompose, moneyMetrics, revenueByKind } from './derive';

describe('money metrics and the revenue decomposition', () => {
  it('derives conversion and revenue per viewer and per buyer from the counts', () => {
    const money = moneyMetrics({
      revenue: revenueByKind({ ticket: 600, content: 500, tip: 350, subscription: 1000 }),
      sales: 6,
      buyers: 3,
      uniqueViewers: 4,
    });
    expect(money).toEqual({
      revenue: { ticket: 600, content: 500, tip: 350, subscription: 1000, total: 2450 },
      sales: 6,
      buyers: 3,
      conversion: 0.75,
      revenuePerViewer: 612.5,
      revenuePerBuyer: 2450 / 3,
    });
    const d = decompose(money, 4);
    expect(d).toMatchObject({ viewers: 4, conversion: 0.75, revenue: 2450, holds: true });
    expect(d.product).toBeCloseTo(2450, 9);
  });

  it('holds with viewers and no buyers (nothing sold), and has no ratios without viewers', () => {
    const none = moneyMetrics({ revenue: revenueByKind({}), sales: 0, buyers: 0, uniqueViewers: 5 });
    expect(none).toMatchObject({ conversion: 0, revenuePerViewer: 0, revenuePerBuyer: null });
    expect(decompose(none, 5)).toMatchObject({ product: 0, holds: true });

    const empty = moneyMetrics({ revenue: revenueByKind({}), sales: 0, buyers: 0, uniqueViewers: 0 });
    expect(empty).toMatchObject({ conversion: null, revenuePerViewer: null, revenuePerBuyer: null });
    expect(decompose(empty, 0)).toMatchObject({ product: null, holds: true });
  });

  it('says so when revenue cannot be decomposed: money with no viewers (tickets sold, nobody came)', () => {
    const presold = moneyMetrics({ revenue: revenueByKind({ ticket: 300 }), sales: 1, buyers: 1, uniqueViewers: 0 });
    expect(decompose(presold, 0)).toMatchObject({ product: null, revenue: 300, holds: false });
  });
});
