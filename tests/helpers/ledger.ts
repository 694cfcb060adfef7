import { sql } from 'kysely';
import type { Lectern } from '../../server/app';

/**
 * How many (room, tipper) running totals differ from the sum of the tips they stand for (0 in a
 * sound database): one SQL expression, for the money checks of the tests and the storm bench.
 */
export const DRIFTED_TIP_TOTALS = `
  SELECT count(*) FROM (SELECT room_id, sender_id, sum(amount) AS total FROM tips GROUP BY room_id, sender_id) s
  FULL JOIN room_tip_totals r USING (room_id, sender_id)
  WHERE r.total IS DISTINCT FROM s.total`;

/**
 * The ledger's invariants, checked against the database itself: every transaction balances,
 * every balance is the sum of its entries, no user account is negative, and money is conserved;
 * and each tipper's running total in a room (the leaderboard's) is the sum of their tips there.
 */
export async function ledgerInvariants(lectern: Lectern) {
  const { db } = lectern.database;
  const unbalanced = await sql<{ transaction_id: string }>`
    SELECT transaction_id FROM ledger_entries GROUP BY transaction_id HAVING sum(amount) <> 0`.execute(db);
  // Balances as the ledger defines them: the row's plus its deltas not yet rolled up.
  const drifted = await sql<{ id: string }>`
    SELECT a.id FROM account_balances a LEFT JOIN ledger_entries e ON e.account_id = a.id
    GROUP BY a.id, a.balance HAVING a.balance <> coalesce(sum(e.amount), 0)`.execute(db);
  // A debt is at most 0; every other account a user owns, and the payout clearing, at least 0.
  const negative = await sql<{ id: string }>`
    SELECT id FROM account_balances
    WHERE (kind IN ('wallet', 'earnings', 'earnings_pending', 'payouts_clearing') AND balance < 0)
       OR (kind = 'earnings_debt' AND balance > 0)`.execute(db);
  const total = await sql<{ total: string | null }>`SELECT sum(balance) AS total FROM account_balances`.execute(db);
  const tipTotals = await sql<{ n: string }>`SELECT (${sql.raw(DRIFTED_TIP_TOTALS)}) AS n`.execute(db);
  return {
    unbalancedTransactions: unbalanced.rows.length,
    driftedAccounts: drifted.rows.length,
    negativeUserAccounts: negative.rows.length,
    totalOfAllBalances: Number(total.rows[0]?.total ?? 0),
    driftedTipTotals: Number(tipTotals.rows[0].n),
  };
}

export const HEALTHY_LEDGER = {
  unbalancedTransactions: 0,
  driftedAccounts: 0,
  negativeUserAccounts: 0,
  totalOfAllBalances: 0,
  driftedTipTotals: 0,
};
