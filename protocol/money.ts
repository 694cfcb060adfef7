/**
 * A creator's money out (HTTP JSON; docs/money.md#payouts). Amounts are integer minor units of
 * the deployment's currency.
 */

/** `GET /api/earnings`: what a creator has earned, by where it is now. */
export interface Earnings {
  /** Past the hold period: can be paid out. */
  available: number;
  /** Within the hold period (PAYOUT_HOLD_HOURS): refunds can still take it back. */
  pending: number;
  /** Sent to the creator by confirmed payouts. */
  paidOut: number;
  /** Requested payouts the provider has not confirmed yet. */
  inFlight: number;
  /** What refunds after a payout took beyond the available earnings; later earnings repay it first. */
  debt: number;
  currency: string;
  /** When the next pending amount becomes available, if any. */
  nextReleaseAt: string | null;
  /** The payout rules: the smallest payout, and the most paid out in any 24 hours. */
  payoutMinAmount: number;
  payoutDailyCap: number;
  /** How long a sale's earnings stay pending (PAYOUT_HOLD_HOURS). */
  holdHours: number;
}

export type PayoutStatus = 'pending' | 'paid' | 'failed';

export interface Payout {
  id: string;
  creatorId: string;
  /** In admins' lists: the creator's display name. */
  creatorName?: string;
  amount: number;
  currency: string;
  status: PayoutStatus;
  /** 1, then one more each time an admin retries a failed payout. */
  attempt: number;
  /** Why the provider refused it (failed only). */
  failureReason: string | null;
  createdAt: string;
  /** When it was paid or failed. */
  settledAt: string | null;
}

/** What a creator sees in the studio's sales feed (`sale:new`). */
export interface SaleNotice {
  /** The purchase or tip id. */
  id: string;
  kind: 'content' | 'ticket' | 'subscription' | 'tip';
  buyer: { id: string; username: string };
  /** The content's title, the room's title, or the creator's subscription. */
  title: string;
  amount: number;
  currency: string;
  /** The room the sale was made in (its session), if any. */
  roomId: string | null;
  at: string;
}

/** One line of a viewer's order history (`GET /api/orders`): a receipt of a wallet movement. */
export interface Order {
  /** The ledger transaction: the receipt's number. */
  id: string;
  kind: 'topup' | 'content' | 'ticket' | 'subscription' | 'tip' | 'refund';
  /**
   * What it was for: the content's or the room's own title; empty for top-ups and subscriptions
   * (a page names those in its reader's language, from `kind`, `purchaseKind` and `creator`).
   */
  title: string;
  /** The content a content purchase (or its refund) is for. */
  contentId: string | null;
  /** The room a ticket or a tip (or a ticket's refund) is for. */
  roomId: string | null;
  /** What was bought, for purchases and refunds: a refund line says what it gave back. */
  purchaseKind: 'content' | 'ticket' | 'subscription' | null;
  /** The wallet's change: negative for spending, positive for top-ups and refunds. */
  amount: number;
  currency: string;
  /** The purchase a content, ticket, subscription or refund line is about. */
  purchaseId: string | null;
  /** For purchases: `refunded` once refunded. */
  status: 'completed' | 'refunded';
  creator: { id: string; name: string } | null;
  /** The payment provider's reference of a top-up. */
  reference: string | null;
  createdAt: string;
}
