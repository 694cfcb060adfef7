import type { Kysely, Transaction } from 'kysely';
import { type AccountKind, type DB, isConstraintViolation, type LedgerTransactionKind } from '../db';
import { AppError } from '../errors';

export interface Posting {
  accountId: string;
  /** Signed minor units: positive credits the account, negative debits it. */
  amount: number;
}

export type Trx = Transaction<DB>;

/**
 * The id of a ledger account, created on first use. Wallets and earnings belong to a user;
 * `platform_revenue` and `provider` are system accounts, one per currency.
 */
export async function accountId(
  trx: Kysely<DB>,
  kind: AccountKind,
  ownerId: string | null,
  currency: string,
): Promise<string> {
  const find = () =>
    trx
      .selectFrom('accounts')
      .select('id')
      .where('kind', '=', kind)
      .where('currency', '=', currency)
      .where('owner_id', ownerId === null ? 'is' : '=', ownerId)
      .executeTakeFirst();
  const existing = await find();
  if (existing) return existing.id;
  const inserted = await trx
    .insertInto('accounts')
    .values({ kind, owner_id: ownerId, currency })
    .onConflict((oc) =>
      ownerId === null
        ? oc.columns(['kind', 'currency']).where('owner_id', 'is', null).doNothing()
        : oc.columns(['kind', 'owner_id', 'currency']).where('owner_id', 'is not', null).doNothing(),
    )
    .returning('id')
    .executeTakeFirst();
  return inserted?.id ?? (await find())!.id;
}

export async function balanceOf(trx: Kysely<DB>, account: string): Promise<number> {
  const row = await trx.selectFrom('accounts').select('balance').where('id', '=', account).executeTakeFirstOrThrow();
  return row.balance;
}

/**
 * Writes one balanced ledger transaction and returns its id. Balances follow from the entries
 * (database trigger); a user account that would go negative fails the whole transaction with
 * INSUFFICIENT_FUNDS. Entries are written in account-id order so that concurrent transactions
 * lock accounts in the same order and cannot deadlock each other.
 */
export async function postTransaction(
  trx: Trx,
  kind: LedgerTransactionKind,
  postings: Posting[],
  options: { memo?: string; reversesId?: string } = {},
): Promise<string> {
  const byAccount = new Map<string, number>();
  for (const p of postings) {
    if (!Number.isSafeInteger(p.amount)) throw new RangeError(`posting amount ${p.amount} is not an integer`);
    byAccount.set(p.accountId, (byAccount.get(p.accountId) ?? 0) + p.amount);
  }
  const entries = [...byAccount].filter(([, amount]) => amount !== 0).sort(([a], [b]) => (a < b ? -1 : 1));
  if (entries.reduce((sum, [, amount]) => sum + amount, 0) !== 0) {
    throw new RangeError('ledger postings do not balance');
  }
  if (entries.length === 0) throw new RangeError('a ledger transaction needs at least two postings');

  const { id } = await trx
    .insertInto('ledger_transactions')
    .values({ kind, memo: options.memo ?? '', reverses_id: options.reversesId ?? null })
    .returning('id')
    .executeTakeFirstOrThrow();
  try {
    for (const [account, amount] of entries) {
      // One row per statement: the balance trigger of each row runs (and locks) in order.
      await trx.insertInto('ledger_entries').values({ transaction_id: id, account_id: account, amount }).execute();
    }
  } catch (err) {
    if (isConstraintViolation(err, 'accounts_balance_nonnegative')) {
      throw new AppError('INSUFFICIENT_FUNDS', 'insufficient funds', { cause: err });
    }
    throw err;
  }
  return id;
}
