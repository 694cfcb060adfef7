import { type Kysely, sql } from 'kysely';
import type { Earnings } from '../../protocol';
import type { DB } from '../db';
import { type Accounts, balanceOf, type Posting, postTransaction, type Trx } from './ledger';

/**
 * A creator's earnings on their way out (docs/money.md#earnings-and-payouts):
 *
 *   sale ──► earnings_pending ──(hold passes: release)──► earnings (available) ──payout──► payouts_clearing ──► provider
 *                  │ refund before release                      │ refund after: what is available,          │ failed: back
 *                  ▼                                              ▼ the rest as earnings_debt (≤ 0)            ▼
 *               the buyer                                      the buyer                                   available
 *
 * A release repays a debt before anything becomes available again; so does a failed payout's
 * return. Every step is one balanced ledger transaction, under the creator's lock.
 */

/** The first key of `lockCreator`'s advisory locks (see `lockBuyer` for buyers). */
const CREATOR_LOCK_SPACE = 0x4c43; // "LC"

/**
 * Serialises what moves a creator's available earnings or debt (releases, refunds after release,
 * payouts) until the transaction ends, so a balance read under it still holds at commit.
 */
export async function lockCreator(trx: Trx, creatorId: string): Promise<void> {
  await sql`SELECT pg_advisory_xact_lock(${CREATOR_LOCK_SPACE}, hashtext(${creatorId}))`.execute(trx);
}

export interface CreatorAccounts {
  pending: string;
  available: string;
  debt: string;
}

export function creatorAccounts(accounts: Accounts, currency: string) {
  return async (trx: Kysely<DB>, creatorId: string): Promise<CreatorAccounts> => ({
    pending: await accounts.id(trx, 'earnings_pending', creatorId, currency),
    available: await accounts.id(trx, 'earnings', creatorId, currency),
    debt: await accounts.id(trx, 'earnings_debt', creatorId, currency),
  });
}

/** A sale's share for its creator waits in pending until `holdHours` have passed. */
export async function holdEarnings(
  trx: Trx,
  hold: { transactionId: string; creatorId: string; currency: string; amount: number; holdHours: number },
): Promise<void> {
  await trx
    .insertInto('earnings_holds')
    .values({
      transaction_id: hold.transactionId,
      creator_id: hold.creatorId,
      currency: hold.currency,
      amount: hold.amount,
      release_at: sql<Date>`now() + make_interval(secs => ${hold.holdHours * 3600})` as never,
    })
    .execute();
}

/**
 * Money coming into a creator's available earnings (a release, a failed payout's return): the
 * debt is repaid from it first. Returns the postings crediting `amount`; the caller debits it.
 */
export async function creditAvailable(trx: Trx, accounts: CreatorAccounts, amount: number): Promise<Posting[]> {
  const owed = -(await balanceOf(trx, accounts.debt));
  const repay = Math.min(owed, amount);
  return [
    { accountId: accounts.debt, amount: repay },
    { accountId: accounts.available, amount: amount - repay },
  ];
}

/**
 * Releases the creator's holds that are due, in one ledger transaction. Runs under the creator's
 * lock, taken here; the holds are locked row by row (another releaser skips them).
 */
export async function releaseDue(
  trx: Trx,
  accountsOf: (trx: Kysely<DB>, creatorId: string) => Promise<CreatorAccounts>,
  creatorId: string,
  currency: string,
): Promise<number> {
  await lockCreator(trx, creatorId);
  const due = await trx
    .selectFrom('earnings_holds')
    .select(['transaction_id', 'amount'])
    .where('creator_id', '=', creatorId)
    .where('currency', '=', currency)
    .where('release_at', '<=', sql<Date>`now()`)
    .where('released_transaction_id', 'is', null)
    .where('cancelled_transaction_id', 'is', null)
    .orderBy('release_at')
    .limit(1000)
    .forUpdate()
    .skipLocked()
    .execute();
  if (due.length === 0) return 0;
  const total = due.reduce((sum, h) => sum + h.amount, 0);
  if (total > 0) {
    const accounts = await accountsOf(trx, creatorId);
    const releaseId = await postTransaction(
      trx,
      'release',
      [{ accountId: accounts.pending, amount: -total }, ...(await creditAvailable(trx, accounts, total))],
      { memo: `release of ${due.length} sale(s)` },
    );
    await markReleased(trx, due, releaseId);
  } else {
    // Sales whose whole price was the platform's fee: nothing to move, only to mark.
    const releaseId = await emptyRelease(trx);
    await markReleased(trx, due, releaseId);
  }
  return due.length;
}

async function markReleased(trx: Trx, holds: { transaction_id: string }[], releaseId: string) {
  await trx
    .updateTable('earnings_holds')
    .set({ released_transaction_id: releaseId })
    .where(
      'transaction_id',
      'in',
      holds.map((h) => h.transaction_id),
    )
    .execute();
}

async function emptyRelease(trx: Trx): Promise<string> {
  const row = await trx
    .insertInto('ledger_transactions')
    .values({ kind: 'release', memo: 'release of zero-earning sales' })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

/** Creators with holds due, oldest first (for the periodic releaser). */
export async function creatorsWithDueHolds(db: Kysely<DB>, limit: number): Promise<string[]> {
  const rows = await db
    .selectFrom('earnings_holds')
    .select('creator_id')
    .where('release_at', '<=', sql<Date>`now()`)
    .where('released_transaction_id', 'is', null)
    .where('cancelled_transaction_id', 'is', null)
    .groupBy('creator_id')
    .orderBy(sql`min(release_at)`)
    .limit(limit)
    .execute();
  return rows.map((r) => r.creator_id);
}

/**
 * The creator's side of a refund, replacing the sale's credit to them: from the sale's own hold
 * while it is pending; after its release, from what is available, and the rest as a debt that
 * later earnings repay (so no account goes negative, and the buyer is refunded in full).
 * `markCancelled` must be called with the refund's transaction id.
 */
export async function takeBackEarnings(
  trx: Trx,
  accountsOf: (trx: Kysely<DB>, creatorId: string) => Promise<CreatorAccounts>,
  sale: { transactionId: string; creatorId: string; net: number },
): Promise<{ postings: Posting[]; markCancelled: (refundId: string) => Promise<void> }> {
  const accounts = await accountsOf(trx, sale.creatorId);
  await lockCreator(trx, sale.creatorId);
  const hold = await trx
    .selectFrom('earnings_holds')
    .select(['amount', 'released_transaction_id', 'cancelled_transaction_id'])
    .where('transaction_id', '=', sale.transactionId)
    .forUpdate()
    .executeTakeFirst();
  if (hold && hold.released_transaction_id === null && hold.cancelled_transaction_id === null) {
    return {
      postings: [{ accountId: accounts.pending, amount: -hold.amount }],
      markCancelled: async (refundId) => {
        await trx
          .updateTable('earnings_holds')
          .set({ cancelled_transaction_id: refundId })
          .where('transaction_id', '=', sale.transactionId)
          .execute();
      },
    };
  }
  const available = await balanceOf(trx, accounts.available);
  const fromAvailable = Math.min(available, sale.net);
  return {
    postings: [
      { accountId: accounts.available, amount: -fromAvailable },
      { accountId: accounts.debt, amount: -(sale.net - fromAvailable) },
    ],
    markCancelled: async () => {},
  };
}

/** The creator's earnings by where they are now. */
export async function earningsOf(
  db: Kysely<DB>,
  creatorId: string,
  currency: string,
  rules: { payoutMinAmount: number; payoutDailyCap: number; holdHours: number },
): Promise<Earnings> {
  const { rows } = await sql<{
    available: number | null;
    pending: number | null;
    debt: number | null;
    paid_out: number | null;
    in_flight: number | null;
    next_release_at: Date | null;
  }>`
    SELECT
      (SELECT balance FROM accounts WHERE kind = 'earnings' AND owner_id = ${creatorId} AND currency = ${currency}) AS available,
      (SELECT balance FROM account_balances WHERE kind = 'earnings_pending' AND owner_id = ${creatorId} AND currency = ${currency}) AS pending,
      (SELECT balance FROM accounts WHERE kind = 'earnings_debt' AND owner_id = ${creatorId} AND currency = ${currency}) AS debt,
      (SELECT sum(amount) FROM payouts WHERE creator_id = ${creatorId} AND currency = ${currency} AND status = 'paid')::int8 AS paid_out,
      (SELECT sum(amount) FROM payouts WHERE creator_id = ${creatorId} AND currency = ${currency} AND status IN ('requested', 'pending'))::int8 AS in_flight,
      (SELECT min(release_at) FROM earnings_holds WHERE creator_id = ${creatorId} AND currency = ${currency}
        AND released_transaction_id IS NULL AND cancelled_transaction_id IS NULL) AS next_release_at
  `.execute(db);
  const r = rows[0];
  return {
    available: r?.available ?? 0,
    pending: r?.pending ?? 0,
    paidOut: Number(r?.paid_out ?? 0),
    inFlight: Number(r?.in_flight ?? 0),
    debt: -(r?.debt ?? 0),
    currency,
    nextReleaseAt: r?.next_release_at?.toISOString() ?? null,
    payoutMinAmount: rules.payoutMinAmount,
    payoutDailyCap: rules.payoutDailyCap,
    holdHours: rules.holdHours,
  };
}
