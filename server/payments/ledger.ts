import { type Kysely, sql, type Transaction } from 'kysely';
import { type AccountKind, type DB, isConstraintViolation, type LedgerTransactionKind } from '../db';
import { AppError } from '../errors';

export interface Posting {
  accountId: string;
  /** Signed minor units: positive credits the account, negative debits it. */
  amount: number;
}

export type Trx = Transaction<DB>;

/**
 * Ledger account ids, created on first use and then remembered (accounts are never deleted,
 * so a cached id cannot go stale). Wallets and earnings belong to a user; `platform_revenue`
 * and `provider` are system accounts, one per currency.
 */
export class Accounts {
  private readonly ids = new Map<string, string>();

  constructor(private readonly maxCached = 100_000) {}

  async id(trx: Kysely<DB>, kind: AccountKind, ownerId: string | null, currency: string): Promise<string> {
    const key = `${kind}|${ownerId ?? ''}|${currency}`;
    const cached = this.ids.get(key);
    if (cached) return cached;
    const find = () =>
      trx
        .selectFrom('accounts')
        .select('id')
        .where('kind', '=', kind)
        .where('currency', '=', currency)
        .where('owner_id', ownerId === null ? 'is' : '=', ownerId)
        .executeTakeFirst();
    const existing = await find();
    const id =
      existing?.id ??
      (
        await trx
          .insertInto('accounts')
          .values({ kind, owner_id: ownerId, currency })
          .onConflict((oc) =>
            ownerId === null
              ? oc.columns(['kind', 'currency']).where('owner_id', 'is', null).doNothing()
              : oc.columns(['kind', 'owner_id', 'currency']).where('owner_id', 'is not', null).doNothing(),
          )
          .returning('id')
          .executeTakeFirst()
      )?.id ??
      (await find())!.id;
    // Only ids that a committed row stands behind may be cached; one created in this (possibly
    // rolled back) transaction is remembered once it is seen from outside, on a later lookup.
    if (existing) {
      if (this.ids.size >= this.maxCached) this.ids.clear();
      this.ids.set(key, id);
    }
    return id;
  }
}

/** The first key of `lockBuyer`'s two-key advisory locks, so they collide with no other kind. */
export const BUYER_LOCK_SPACE = 0x4c42; // "LB"

/**
 * Serialises one buyer's purchases and refunds until the database transaction ends, so a check
 * ("already owned", "period ends at") still holds when the purchase it allows commits. Other
 * buyers are not held up: the lock is per buyer (a hash collision only makes two wait).
 */
export async function lockBuyer(trx: Trx, buyerId: string): Promise<void> {
  await sql`SELECT pg_advisory_xact_lock(${BUYER_LOCK_SPACE}, hashtext(${buyerId}))`.execute(trx);
}

export async function balanceOf(trx: Kysely<DB>, account: string): Promise<number> {
  const row = await trx.selectFrom('accounts').select('balance').where('id', '=', account).executeTakeFirstOrThrow();
  return row.balance;
}

/**
 * Starts a ledger transaction (no entries yet, no locks taken) so that rows referencing it —
 * a purchase, a tip — can be written before the money moves.
 */
export async function openTransaction(
  trx: Trx,
  kind: LedgerTransactionKind,
  options: { memo?: string; reversesId?: string } = {},
): Promise<string> {
  const { id } = await trx
    .insertInto('ledger_transactions')
    .values({ kind, memo: options.memo ?? '', reverses_id: options.reversesId ?? null })
    .returning('id')
    .executeTakeFirstOrThrow();
  return id;
}

/**
 * Writes the balanced entries of a ledger transaction in one statement. Balances follow from the
 * entries (database trigger), so this is where account rows are locked: callers do it last,
 * just before commit, to hold the locks of busy accounts (a popular creator's earnings, the
 * platform's revenue) as briefly as possible. Entries go in account-id order, so concurrent
 * transactions lock accounts in the same order and never deadlock each other. A user account
 * that would go negative fails the whole database transaction with INSUFFICIENT_FUNDS.
 */
export async function postEntries(trx: Trx, transactionId: string, postings: Posting[]): Promise<void> {
  const byAccount = new Map<string, number>();
  for (const p of postings) {
    if (!Number.isSafeInteger(p.amount)) throw new RangeError(`posting amount ${p.amount} is not an integer`);
    byAccount.set(p.accountId, (byAccount.get(p.accountId) ?? 0) + p.amount);
  }
  const entries = [...byAccount].filter(([, amount]) => amount !== 0).sort(([a], [b]) => (a < b ? -1 : 1));
  if (entries.reduce((sum, [, amount]) => sum + amount, 0) !== 0)
    throw new RangeError('ledger postings do not balance');
  if (entries.length === 0) throw new RangeError('a ledger transaction needs at least two postings');
  try {
    await trx
      .insertInto('ledger_entries')
      .values(entries.map(([account, amount]) => ({ transaction_id: transactionId, account_id: account, amount })))
      .execute();
  } catch (err) {
    if (isConstraintViolation(err, 'accounts_balance_nonnegative')) {
      throw new AppError('INSUFFICIENT_FUNDS', 'insufficient funds', { cause: err });
    }
    throw err;
  }
}

/** A whole ledger transaction at once: open it and post its entries. */
export async function postTransaction(
  trx: Trx,
  kind: LedgerTransactionKind,
  postings: Posting[],
  options: { memo?: string; reversesId?: string } = {},
): Promise<string> {
  const id = await openTransaction(trx, kind, options);
  await postEntries(trx, id, postings);
  return id;
}
