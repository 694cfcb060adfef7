import type {
  MoneyMetrics,
  MoneyTotals,
  RefundMetrics,
  RevenueByKind,
  RevenueDecomposition,
  SalesByKind,
} from './report-types';

/** The ratios of a session (or a creator's sessions) from its counts. */

export type SaleKind = 'ticket' | 'content' | 'tip' | 'subscription';
export const SALE_KINDS: readonly SaleKind[] = ['ticket', 'content', 'tip', 'subscription'];

export const ratio = (numerator: number, denominator: number): number | null =>
  denominator > 0 ? numerator / denominator : null;

export function revenueByKind(amounts: Partial<Record<SaleKind, number>>): RevenueByKind {
  const r = { ticket: 0, content: 0, tip: 0, subscription: 0, total: 0 };
  for (const kind of SALE_KINDS) {
    r[kind] = amounts[kind] ?? 0;
    r.total += r[kind];
  }
  return r;
}

export function addRevenue(a: RevenueByKind, b: RevenueByKind): RevenueByKind {
  return revenueByKind({
    ticket: a.ticket + b.ticket,
    content: a.content + b.content,
    tip: a.tip + b.tip,
    subscription: a.subscription + b.subscription,
  });
}

export function salesByKind(counts: Partial<Record<SaleKind, number>>): SalesByKind {
  return {
    ticket: counts.ticket ?? 0,
    content: counts.content ?? 0,
    tip: counts.tip ?? 0,
    subscription: counts.subscription ?? 0,
  };
}

export function addSales(a: SalesByKind, b: SalesByKind): SalesByKind {
  return salesByKind({
    ticket: a.ticket + b.ticket,
    content: a.content + b.content,
    tip: a.tip + b.tip,
    subscription: a.subscription + b.subscription,
  });
}

export const countSales = (s: SalesByKind): number => s.ticket + s.content + s.tip + s.subscription;

export const addRefunds = (a: RefundMetrics, b: RefundMetrics): RefundMetrics => ({
  count: a.count + b.count,
  amount: a.amount + b.amount,
});

/** Sales' money: gross by kind, the fees on it, what is left to the creator, and what was refunded. */
export function moneyTotals(input: {
  revenue: RevenueByKind;
  salesByKind: SalesByKind;
  fees: number;
  refunds: RefundMetrics;
}): MoneyTotals {
  return {
    revenue: input.revenue,
    sales: countSales(input.salesByKind),
    fees: input.fees,
    net: input.revenue.total - input.fees,
    refunds: input.refunds,
  };
}

export function addMoneyTotals(a: MoneyTotals, b: MoneyTotals): MoneyTotals {
  const revenue = addRevenue(a.revenue, b.revenue);
  const fees = a.fees + b.fees;
  return {
    revenue,
    sales: a.sales + b.sales,
    fees,
    net: revenue.total - fees,
    refunds: addRefunds(a.refunds, b.refunds),
  };
}

export function moneyMetrics(input: {
  revenue: RevenueByKind;
  salesByKind: SalesByKind;
  fees: number;
  refunds: RefundMetrics;
  buyers: number;
  /** Of the buyers, those who were viewers too. */
  viewerBuyers: number;
  uniqueViewers: number;
}): MoneyMetrics {
  const { revenue, fees, refunds, buyers, viewerBuyers, uniqueViewers } = input;
  return {
    revenue,
    fees,
    net: revenue.total - fees,
    refunds,
    sales: countSales(input.salesByKind),
    salesByKind: input.salesByKind,
    buyers,
    buyersPerViewer: ratio(buyers, uniqueViewers),
    viewerBuyers,
    viewerConversion: ratio(viewerBuyers, uniqueViewers),
    revenuePerViewer: ratio(revenue.total, uniqueViewers),
    revenuePerBuyer: ratio(revenue.total, buyers),
  };
}

/**
 * Revenue = viewers x buyers per viewer x revenue per buyer. The identity holds by algebra
 * whenever there are viewers, but only if revenue and buyers come from the same payments and
 * buyers per viewer from the same viewers: stating it per report catches any two drifting apart.
 * (It needs every buyer, so its factor is `buyersPerViewer`, not `viewerConversion`.)
 */
export function decompose(money: MoneyMetrics, uniqueViewers: number): RevenueDecomposition {
  const revenue = money.revenue.total;
  const product =
    money.buyersPerViewer === null
      ? null
      : money.revenuePerBuyer === null
        ? money.buyersPerViewer === 0
          ? 0
          : null
        : uniqueViewers * money.buyersPerViewer * money.revenuePerBuyer;
  const holds =
    product === null
      ? revenue === 0 && uniqueViewers === 0
      : Math.abs(product - revenue) <= 1e-9 * Math.max(1, Math.abs(revenue));
  return {
    viewers: uniqueViewers,
    buyersPerViewer: money.buyersPerViewer,
    revenuePerBuyer: money.revenuePerBuyer,
    product,
    revenue,
    holds,
  };
}
