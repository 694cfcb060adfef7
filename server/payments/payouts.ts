import { createHash } from 'node:crypto';
import { type Kysely, sql } from 'kysely';
import type { Registry } from 'prom-client';
import { z } from 'zod';
import type { Payout } from '../../protocol';
import type { Config } from '../config';
import type { DB, PayoutRow } from '../db';
import { AppError, conflict, invalidArgument, notFound } from '../errors';
import type { Logger } from '../log';
import { parse } from '../validation';
import { type CreatorAccounts, creditAvailable, lockCreator, releaseDue } from './earnings';
import { idempotent, type Outcome } from './idempotency';
import { type Accounts, balanceOf, postTransaction, type Trx } from './ledger';
import { createPayoutMetrics, type PayoutMetrics } from './payout-metrics';
import type { PaymentProvider } from './provider';

export const toPayout = (r: PayoutRow): Payout => ({
  id: r.id,
  creatorId: r.creator_id,
  amount: r.amount,
  currency: r.currency,
  // Debited and on its way to the provider is, for the creator, pending like the rest.
  status: r.status === 'requested' ? 'pending' : r.status,
  attempt: r.attempt,
  failureReason: r.failure_reason,
  createdAt: r.created_at.toISOString(),
  settledAt: r.settled_at?.toISOString() ?? null,
});

/** The provider's key for one attempt of one payout: the same on every retry of that attempt. */
export const payoutIdempotencyKey = (payoutId: string, attempt: number) =>
  createHash('sha256').update(`payout\n${payoutId}\n${attempt}`).digest('hex');

/** What payouts validate (also the API's OpenAPI description, server/http/openapi.ts). */
export const payoutSchemas = {
  request: z.strictObject({
    amount: z.number().int('amounts are integer minor units').min(1).max(Number.MAX_SAFE_INTEGER),
    method: z.string().min(1).max(200).optional(),
  }),
  list: z.strictObject({
    status: z.enum(['pending', 'paid', 'failed']).optional(),
    limit: z.coerce.number().int().min(1).max(500).default(100),
  }),
  retry: z.strictObject({ method: z.string().min(1).max(200).optional() }),
};

export interface PayoutDeps {
  db: Kysely<DB>;
  config: Pick<Config, 'currency' | 'payoutMinAmount' | 'payoutDailyCap' | 'idempotencyTtlHours' | 'maxPrice'>;
  provider: PaymentProvider;
  accounts: Accounts;
  accountsOf: (trx: Kysely<DB>, creatorId: string) => Promise<CreatorAccounts>;
  log?: Logger;
  /** Where the `lectern_payouts_*` metrics go; none without it. */
  registry?: Registry;
}

/**
 * Creators take their available earnings out. A payout is debited at once (available →
 * clearing) under the creator's lock, so parallel requests that exceed the balance get exactly
 * the ones that fit; the provider is then asked (outside the transaction, with a key of the
 * attempt, so a crash in between only repeats a harmless request) and settles later: paid
 * (clearing → provider) or failed (clearing → available, repaying any debt first).
 */
export class Payouts {
  private readonly clearing: (trx: Kysely<DB>) => Promise<string>;
  private readonly metrics?: PayoutMetrics;

  constructor(private readonly d: PayoutDeps) {
    if (d.registry) this.metrics = createPayoutMetrics(d.registry, d.db);
    this.clearing = (trx) => d.accounts.id(trx, 'payouts_clearing', null, d.config.currency);
  }

  async request(
    creatorId: string,
    input: unknown,
    key: string,
  ): Promise<Outcome<{ payout: Payout; available: number }>> {
    const params = parse(payoutSchemas.request, input);
    const { config } = this.d;
    const outcome = await idempotent(
      this.d.db,
      { userId: creatorId, key, scope: 'payout', params },
      config.idempotencyTtlHours,
      async (trx) => {
        // Due holds first, under the same lock: what became available a moment ago counts.
        await releaseDue(trx, this.d.accountsOf, creatorId, config.currency);
        if (params.amount < config.payoutMinAmount) {
          throw invalidArgument(`the smallest payout is ${config.payoutMinAmount}`, { min: config.payoutMinAmount });
        }
        const today = await this.paidOrPendingSince(trx, creatorId, sql<Date>`now() - interval '24 hours'`);
        if (today + params.amount > config.payoutDailyCap) {
          throw new AppError('CONFLICT', 'this would pass the payout limit for 24 hours', {
            details: { dailyCap: config.payoutDailyCap, remaining: Math.max(0, config.payoutDailyCap - today) },
          });
        }
        const accounts = await this.d.accountsOf(trx, creatorId);
        const transactionId = await postTransaction(
          trx,
          'payout',
          [
            { accountId: accounts.available, amount: -params.amount },
            { accountId: await this.clearing(trx), amount: params.amount },
          ],
          { memo: `payout to ${creatorId}` },
        );
        const row = await trx
          .insertInto('payouts')
          .values({
            creator_id: creatorId,
            amount: params.amount,
            currency: config.currency,
            status: 'requested',
            method: params.method ?? null,
            transaction_id: transactionId,
          })
          .returningAll()
          .executeTakeFirstOrThrow();
        return { status: 201, data: { payout: toPayout(row), available: await balanceOf(trx, accounts.available) } };
      },
    );
    if (outcome.ok && !outcome.replayed) this.metrics?.requested.inc();
    return outcome;
  }

  private async paidOrPendingSince(trx: Trx, creatorId: string, since: unknown): Promise<number> {
    const { rows } = await sql<{ total: number | null }>`
      SELECT sum(amount)::int8 AS total FROM payouts
      WHERE creator_id = ${creatorId} AND status <> 'failed' AND created_at > ${since}
    `.execute(trx);
    return Number(rows[0]?.total ?? 0);
  }

  async list(creatorId: string): Promise<Payout[]> {
    const rows = await this.d.db
      .selectFrom('payouts')
      .selectAll()
      .where('creator_id', '=', creatorId)
      .orderBy('created_at', 'desc')
      .limit(200)
      .execute();
    return rows.map(toPayout);
  }

  /** Every creator's payouts, newest first, optionally by status (admins). */
  async listAll(query: unknown): Promise<Payout[]> {
    const q = parse(payoutSchemas.list, query);
    let select = this.d.db
      .selectFrom('payouts as p')
      .innerJoin('users as u', 'u.id', 'p.creator_id')
      .leftJoin('creator_profiles as cp', 'cp.user_id', 'p.creator_id')
      .selectAll('p')
      .select(['u.username', 'cp.display_name']);
    if (q.status === 'pending') select = select.where('p.status', 'in', ['requested', 'pending']);
    else if (q.status) select = select.where('p.status', '=', q.status);
    const rows = await select.orderBy('p.created_at', 'desc').limit(q.limit).execute();
    return rows.map((r) => ({ ...toPayout(r), creatorName: r.display_name || r.username }));
  }

  /**
   * An admin sends a failed payout again: debited again (if it still fits) as a new attempt,
   * with another `method` if the creator's destination changed.
   */
  async retry(adminId: string, payoutId: string, input: unknown, key: string): Promise<Outcome<{ payout: Payout }>> {
    const { method } = parse(payoutSchemas.retry, input ?? {});
    return idempotent(
      this.d.db,
      { userId: adminId, key, scope: 'payout.retry', params: { payoutId, method } },
      this.d.config.idempotencyTtlHours,
      async (trx) => {
        const found = await trx
          .selectFrom('payouts')
          .select('creator_id')
          .where('id', '=', payoutId)
          .executeTakeFirst();
        if (!found) throw notFound('payout');
        await lockCreator(trx, found.creator_id);
        const payout = await trx
          .selectFrom('payouts')
          .selectAll()
          .where('id', '=', payoutId)
          .forUpdate()
          .executeTakeFirstOrThrow();
        if (payout.status !== 'failed')
          throw conflict(`only a failed payout can be retried (this one is ${toPayout(payout).status})`);
        const accounts = await this.d.accountsOf(trx, payout.creator_id);
        const transactionId = await postTransaction(
          trx,
          'payout',
          [
            { accountId: accounts.available, amount: -payout.amount },
            { accountId: await this.clearing(trx), amount: payout.amount },
          ],
          { memo: `payout ${payout.id} attempt ${payout.attempt + 1}` },
        );
        const row = await trx
          .updateTable('payouts')
          .set({
            status: 'requested',
            attempt: payout.attempt + 1,
            ...(method ? { method } : {}),
            transaction_id: transactionId,
            settled_transaction_id: null,
            provider_reference: null,
            failure_reason: null,
            settled_at: null,
            updated_at: sql<Date>`now()` as never,
          })
          .where('id', '=', payout.id)
          .returningAll()
          .executeTakeFirstOrThrow();
        return { status: 200, data: { payout: toPayout(row) } };
      },
    );
  }

  /**
   * One pass over the payouts in flight: hands the requested ones to the provider and settles
   * those it has paid or refused. Each payout is claimed with `FOR UPDATE SKIP LOCKED`, so nodes
   * share the work. Returns how many changed.
   */
  async settle(limit = 100): Promise<number> {
    const open = await this.d.db
      .selectFrom('payouts')
      .select('id')
      .where('status', 'in', ['requested', 'pending'])
      .orderBy('updated_at')
      .limit(limit)
      .execute();
    let changed = 0;
    for (const { id } of open) {
      try {
        if (await this.advance(id)) changed++;
      } catch (err) {
        this.metrics?.advanceFailures.inc();
        this.d.log?.warn({ err, payoutId: id }, 'payout could not advance; trying again later');
      }
    }
    return changed;
  }

  private async advance(payoutId: string): Promise<boolean> {
    // Counted once the transaction has committed.
    let settled = undefined as { outcome: 'paid' | 'failed'; amount: number } | undefined;
    const changed = await this.d.db.transaction().execute(async (trx) => {
      const payout = await trx
        .selectFrom('payouts')
        .selectAll()
        .where('id', '=', payoutId)
        .where('status', 'in', ['requested', 'pending'])
        .forUpdate()
        .skipLocked()
        .executeTakeFirst();
      if (!payout) return false;
      if (payout.status === 'requested') {
        // Held under the row lock: no other node asks the provider for this attempt meanwhile.
        const { reference } = await this.d.provider.payout({
          creatorId: payout.creator_id,
          amount: payout.amount,
          currency: payout.currency,
          idempotencyKey: payoutIdempotencyKey(payout.id, payout.attempt),
          ...(payout.method ? { method: payout.method } : {}),
        });
        await trx
          .updateTable('payouts')
          .set({ status: 'pending', provider_reference: reference, updated_at: sql<Date>`now()` as never })
          .where('id', '=', payout.id)
          .execute();
        return true;
      }
      const state = await this.d.provider.payoutStatus(payout.provider_reference!);
      if (state.status === 'pending') {
        await trx
          .updateTable('payouts')
          .set({ updated_at: sql<Date>`now()` as never })
          .where('id', '=', payout.id)
          .execute();
        return false;
      }
      const clearing = await this.clearing(trx);
      let settledId: string;
      if (state.status === 'paid') {
        const provider = await this.d.accounts.id(trx, 'provider', null, payout.currency);
        settledId = await postTransaction(
          trx,
          'payout_paid',
          [
            { accountId: clearing, amount: -payout.amount },
            { accountId: provider, amount: payout.amount },
          ],
          { memo: `payout ${payout.id} paid (${payout.provider_reference})` },
        );
      } else {
        await lockCreator(trx, payout.creator_id);
        const accounts = await this.d.accountsOf(trx, payout.creator_id);
        settledId = await postTransaction(
          trx,
          'payout_failed',
          [{ accountId: clearing, amount: -payout.amount }, ...(await creditAvailable(trx, accounts, payout.amount))],
          { memo: `payout ${payout.id} failed: ${state.reason}` },
        );
      }
      await trx
        .updateTable('payouts')
        .set({
          status: state.status,
          settled_transaction_id: settledId,
          failure_reason: state.status === 'failed' ? state.reason : null,
          settled_at: sql<Date>`now()` as never,
          updated_at: sql<Date>`now()` as never,
        })
        .where('id', '=', payout.id)
        .execute();
      settled = { outcome: state.status, amount: payout.amount };
      return true;
    });
    if (settled) {
      this.metrics?.settled.inc({ outcome: settled.outcome });
      this.metrics?.settledAmount.inc({ outcome: settled.outcome }, settled.amount);
    }
    return changed;
  }
}
