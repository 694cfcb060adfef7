import type { Insertable } from 'kysely';
import { type Kysely, sql } from 'kysely';
import type { Registry } from 'prom-client';
import { z } from 'zod';
import {
  type Earnings,
  type LeaderboardEntry,
  Limits,
  type Order,
  type Payout,
  type Purchase,
  type SaleNotice,
  type Subscription,
  type Tip,
} from '../../protocol';
import type { Config } from '../config';
import { type AccountKind, type DB, isUniqueViolation, type PurchaseRow, type PurchasesTable } from '../db';
import type { DomainEvents } from '../domain-events';
import { conflict, invalidArgument, notFound } from '../errors';
import { stageDomainEvent } from '../events';
import type { Logger } from '../log';
import { PeriodicTasks } from '../periodic';
import { id, money, parse } from '../validation';
import { MoneyBatchThread } from './batch-thread';
import {
  creatorAccounts,
  creatorsWithDueHolds,
  earningsOf,
  holdEarnings,
  releaseDue,
  takeBackEarnings,
} from './earnings';
import {
  contentQuote,
  grantContent,
  hasRoomEntitlement,
  ownedContentIds,
  ownsContent,
  roomEntitlement,
} from './entitlements';
import { splitFee } from './fees';
import { idempotent, type Outcome, storedOutcome, sweepIdempotencyKeys } from './idempotency';
import { Accounts, balanceOf, lockBuyer, openTransaction, postEntries, postTransaction, type Trx } from './ledger';
import { countOperations } from './operation-metrics';
import { ordersOf } from './orders';
import { Payouts } from './payouts';
import type { PaymentProvider } from './provider';
import { pinnedTips, tipLeaderboard } from './room-tips';
import { contentRefusal, priceRefusal, saleRoomRefusal } from './rules';

export { splitFee } from './fees';
export type { Outcome } from './idempotency';
export { payoutIdempotencyKey } from './payouts';
export {
  type ChargeRequest,
  type PaymentProvider,
  type PayoutRequest,
  type PayoutState,
  SANDBOX_DECLINE,
  SANDBOX_PAYOUT_FAIL,
  SandboxPaymentProvider,
} from './provider';

export interface CreatorEarnings {
  /** Everything earned and not yet paid out: available + pending. */
  balance: number;
  currency: string;
  /** Net of platform fees and refunds, by source. */
  byKind: { content: number; ticket: number; subscription: number; tip: number };
  grossSales: number;
  platformFees: number;
}

export interface WalletEntry {
  transactionId: string;
  kind: string;
  amount: number;
  createdAt: string;
}

/** The money core: every method that moves money is atomic, idempotent and ledger-balanced. */
export interface PaymentsService {
  wallet(userId: string): Promise<{ balance: number; currency: string }>;
  /** The wallet's latest entries; `query` is `{limit?}` (1-200, default 50), as from a URL. */
  walletHistory(userId: string, query?: unknown): Promise<WalletEntry[]>;
  topUp(userId: string, input: unknown, key: string): Promise<Outcome<{ balance: number }>>;
  /** Buys a content (`{contentId}`) or a room ticket (`{roomId}`). */
  purchase(userId: string, input: unknown, key: string): Promise<Outcome<{ purchase: Purchase; balance: number }>>;
  subscribe(
    userId: string,
    input: unknown,
    key: string,
  ): Promise<Outcome<{ purchase: Purchase; subscription: Subscription; balance: number }>>;
  /** `payerName`: the tipper's username when the caller knows it (saves reading it). */
  tip(
    userId: string,
    input: unknown,
    key: string,
    pinnedUntil: (amount: number) => Date | null,
    payerName?: string,
  ): Promise<Outcome<{ tip: Tip; balance: number }>>;
  refund(adminId: string, purchaseId: string, key: string): Promise<Outcome<{ purchase: Purchase }>>;
  purchases(userId: string): Promise<Purchase[]>;
  /** Receipts of every wallet movement, newest first (`{limit?, before?}`). */
  orders(userId: string, query: unknown): Promise<Order[]>;
  subscriptions(userId: string): Promise<Subscription[]>;
  creatorEarnings(creatorId: string): Promise<CreatorEarnings>;
  /** Available, pending and paid-out earnings; releases what is due first. */
  earnings(creatorId: string): Promise<Earnings>;
  requestPayout(
    creatorId: string,
    input: unknown,
    key: string,
  ): Promise<Outcome<{ payout: Payout; available: number }>>;
  payouts(creatorId: string): Promise<Payout[]>;
  /** Every creator's payouts (admins), `{status?, limit?}`. */
  allPayouts(query: unknown): Promise<Payout[]>;
  retryPayout(adminId: string, payoutId: string, input: unknown, key: string): Promise<Outcome<{ payout: Payout }>>;
  /**
   * The first answer of a money operation already completed under this key (`tip`, `purchase`,
   * `subscribe`), or null: the gateway asks it when its own checks refuse an event, so a retry
   * is never refused for what changed since the money moved.
   */
  replayed(
    userId: string,
    key: string,
    operation: 'tip' | 'purchase' | 'subscribe',
    input: unknown,
  ): Promise<Outcome<unknown> | null>;
  /** What the creator's sales feed shows of a purchase or a tip (buyer's name, item's title). */
  saleNotice(
    sale: { purchase: Purchase; buyerName?: string; title?: string } | { tip: Tip; roomTitle?: string },
  ): Promise<SaleNotice>;
  /** A room's biggest tippers (of its one live session), biggest first. */
  tipLeaderboard(roomId: string, limit: number): Promise<LeaderboardEntry[]>;
  /** A room's tips whose message is pinned now, newest first. */
  pinnedTips(roomId: string, limit: number): Promise<Tip[]>;
  /** One pass of payout settlement and one of earnings release (the periodic tasks do this too). */
  settleNow(): Promise<void>;
  /** Starts the periodic release of held earnings and settlement of payouts. */
  start(): void;
  close(): Promise<void>;
  ownsContent(userId: string, contentId: string): Promise<boolean>;
  /** What the content costs this buyer: its price less what they paid for items in it. */
  quote(
    userId: string,
    contentId: string,
  ): Promise<{ price: number; credit: number; due: number; items: number; owned: number }>;
  ownedContentIds(userId: string): Promise<Set<string>>;
  hasRoomEntitlement(
    user: { id: string; role: string } | null,
    room: { id: string; ownerId: string; access: 'free' | 'ticket' | 'subscribers' },
  ): Promise<boolean>;
  /** As `hasRoomEntitlement`, with when a subscription behind it ends (`until`). */
  roomEntitlement(
    user: { id: string; role: string } | null,
    room: { id: string; ownerId: string; access: 'free' | 'ticket' | 'subscribers' },
  ): Promise<{ entitled: boolean; until?: Date }>;
  sweepIdempotencyKeys(): Promise<number>;
}

export const toPurchase = (r: PurchaseRow): Purchase => ({
  id: r.id,
  buyerId: r.buyer_id,
  kind: r.kind,
  contentId: r.content_id,
  roomId: r.room_id,
  creatorId: r.creator_id,
  amount: r.amount,
  fee: r.fee,
  currency: r.currency,
  status: r.status,
  createdAt: r.created_at.toISOString(),
  refundedAt: r.refunded_at?.toISOString() ?? null,
  fromRoomId: r.context_room_id,
});

type Deps = {
  db: Kysely<DB>;
  /** Where the money thread opens its own connections (one batch each at a time). */
  databaseUrl: string;
  /** How many (`DB_MONEY_CONNECTIONS`): one for sales' batches, the others for top-ups'. */
  moneyConnections: number;
  config: Pick<
    Config,
    | 'currency'
    | 'platformFeeBps'
    | 'maxTopupAmount'
    | 'maxPrice'
    | 'idempotencyTtlHours'
    | 'payoutHoldHours'
    | 'payoutMinAmount'
    | 'payoutDailyCap'
    | 'payoutSettleIntervalMs'
    | 'earningsReleaseIntervalMs'
  >;
  provider: PaymentProvider;
  events: DomainEvents;
  log?: Logger;
  registry?: Registry;
};

/** What the payments service validates (also the API's OpenAPI description, server/http/openapi.ts). */
export function paymentSchemas(config: Pick<Config, 'maxTopupAmount' | 'maxPrice'>) {
  // The price the buyer saw (minor units): a purchase at any other price is refused (CONFLICT).
  const expectedPrice = money(config.maxPrice).optional();
  return {
    topUp: z.strictObject({
      amount: money(config.maxTopupAmount),
      paymentMethod: z.string().min(1).max(200).optional(),
    }),
    purchase: z.union(
      [
        z.strictObject({ contentId: id, fromRoomId: id.optional(), expectedPrice }),
        z.strictObject({ roomId: id, expectedPrice }),
      ],
      { error: 'give either contentId (and fromRoomId, the room you buy from) or roomId' },
    ),
    subscribe: z.strictObject({ creatorId: id, fromRoomId: id.optional(), expectedPrice }),
    history: z.strictObject({ limit: z.coerce.number().int().min(1).max(200).default(50) }),
    tip: z.strictObject({
      roomId: id,
      amount: money(config.maxPrice),
      message: z.string().trim().max(Limits.tipMessageMax).optional(),
    }),
  };
}

export function createPaymentsService({
  db,
  databaseUrl,
  moneyConnections,
  config,
  provider,
  events,
  log,
  registry,
}: Deps): PaymentsService {
  const { currency } = config;
  const {
    topUp: topUpSchema,
    purchase: purchaseSchema,
    subscribe: subscribeSchema,
    history: historySchema,
    tip: tipSchema,
  } = paymentSchemas(config);

  const run = <T>(
    userId: string,
    key: string,
    scope: string,
    params: unknown,
    op: (trx: Trx) => Promise<{ status: number; data: T }>,
  ) => idempotent(db, { userId, key, scope, params }, config.idempotencyTtlHours, op);

  const accounts = new Accounts();
  const account = (trx: Trx, kind: AccountKind, ownerId: string | null) => accounts.id(trx, kind, ownerId, currency);
  const accountsOf = creatorAccounts(accounts, currency);
  const payouts = new Payouts({ db, config, provider, accounts, accountsOf, log, registry });
  // Tips, top-ups and purchases of lessons and tickets go through the batcher (batch.ts); the
  // domain events follow each batch's commit.
  const batcher = new MoneyBatchThread({
    data: {
      databaseUrl,
      connections: moneyConnections,
      providerName: provider.name,
      config: {
        currency,
        platformFeeBps: config.platformFeeBps,
        idempotencyTtlHours: config.idempotencyTtlHours,
        payoutHoldHours: config.payoutHoldHours,
      },
    },
    provider,
    log,
    registry,
    committed(done) {
      for (const d of done) {
        if (!d.outcome.ok) continue;
        if (d.kind === 'tip') {
          const { tip, creatorId, fee } = d.outcome.data;
          events.emit('tip.created', { tip, creatorId, fee });
        } else if (d.kind === 'purchase') {
          events.emit('purchase.completed', { purchase: d.outcome.data.purchase, ...d.notice });
        } else events.emit('wallet.topup', { userId: d.userId, amount: d.amount, balance: d.outcome.data.balance });
      }
    },
  });
  /**
   * Content kinds never change: a lesson is bought in a batch, a course or bundle on its own. The
   * lookup itself is shared: a storm of buyers of a new lesson asks the database once, not once each.
   */
  const contentKinds = new Map<string, Promise<string | undefined>>();
  async function isLesson(contentId: string): Promise<boolean> {
    let kind = contentKinds.get(contentId);
    if (!kind) {
      if (contentKinds.size >= 100_000) contentKinds.clear();
      kind = db
        .selectFrom('contents')
        .select('kind')
        .where('id', '=', contentId)
        .executeTakeFirst()
        .then((row) => row?.kind);
      contentKinds.set(contentId, kind);
      // Only a kind that exists is remembered: a failed lookup or content not there yet is asked again.
      kind.then(
        (k) => k === undefined && contentKinds.delete(contentId),
        () => contentKinds.delete(contentId),
      );
    }
    const k = await kind;
    return k === undefined || k === 'lesson'; // no such content: the batch says NOT_FOUND
  }
  const payoutRules = {
    payoutMinAmount: config.payoutMinAmount,
    payoutDailyCap: config.payoutDailyCap,
    holdHours: config.payoutHoldHours,
  };
  const tasks = log ? new PeriodicTasks(log, 'payments') : undefined;

  /** Releases every creator's due holds, a creator at a time (each in its own transaction). */
  async function releaseAllDue(): Promise<void> {
    for (const creatorId of await creatorsWithDueHolds(db, 500)) {
      await db.transaction().execute((trx) => releaseDue(trx, accountsOf, creatorId, currency));
    }
  }

  /** The buyer saw another price than the one that would be charged: nothing moves. */
  function checkPrice(expected: number | undefined, charged: number): void {
    const refusal = priceRefusal(expected, charged);
    if (refusal) throw refusal;
  }

  /**
   * The room a sale counts for: the live room of the seller the buyer says they are in; a room
   * of someone else, or one not live, is a mistake of the client.
   */
  async function saleRoom(trx: Trx, fromRoomId: string | undefined, sellerId: string): Promise<string | null> {
    if (!fromRoomId) return null;
    const room = await trx
      .selectFrom('rooms')
      .select(['owner_id', 'status'])
      .where('id', '=', fromRoomId)
      .executeTakeFirst();
    const refusal = saleRoomRefusal(room, sellerId);
    if (refusal) throw refusal;
    return fromRoomId;
  }

  /**
   * Opens the ledger transaction of a sale (the payer's wallet to the creator, minus the
   * platform's fee) so the rows that reference it can be written first; `settle()` moves the
   * money and returns the payer's new balance. Callers settle last: see `postEntries`.
   */
  async function openSale(
    trx: Trx,
    kind: 'purchase' | 'tip',
    payerId: string,
    creatorId: string,
    amount: number,
    memo: string,
  ) {
    const { fee, net } = splitFee(amount, config.platformFeeBps);
    const wallet = await account(trx, 'wallet', payerId);
    const earnings = await account(trx, 'earnings_pending', creatorId);
    const platform = await account(trx, 'platform_revenue', null);
    const transactionId = await openTransaction(trx, kind, { memo });
    // The creator's share is held: refunds can still take it back until it is released.
    await holdEarnings(trx, { transactionId, creatorId, currency, amount: net, holdHours: config.payoutHoldHours });
    return {
      transactionId,
      fee,
      async settle(): Promise<number> {
        await postEntries(trx, transactionId, [
          { accountId: wallet, amount: -amount },
          { accountId: earnings, amount: net },
          { accountId: platform, amount: fee },
        ]);
        return balanceOf(trx, wallet);
      },
    };
  }

  async function insertPurchase(trx: Trx, values: Insertable<PurchasesTable>) {
    try {
      const row = await trx.insertInto('purchases').values(values).returningAll().executeTakeFirstOrThrow();
      // Same transaction as the sale: analytics and webhooks get it even if the node dies right after.
      await stageDomainEvent(trx, 'purchase.completed', { purchase: toPurchase(row) });
      return row;
    } catch (err) {
      if (isUniqueViolation(err)) throw conflict('already purchased');
      throw err;
    }
  }

  async function buyContent(trx: Trx, userId: string, contentId: string, fromRoomId?: string, expected?: number) {
    const content = await trx
      .selectFrom('contents')
      .select(['id', 'creator_id', 'price', 'title', 'currency'])
      .where('id', '=', contentId)
      .where('archived_at', 'is', null)
      .executeTakeFirst();
    const refused = contentRefusal(content, userId, currency);
    if (refused || !content) throw refused ?? notFound('content');
    if (await ownsContent(trx, userId, contentId)) throw conflict('already purchased');
    // A course or bundle of which the buyer owns some items costs less what they paid for those.
    const quote = await contentQuote(trx, userId, content.id);
    if (quote.items > 0 && quote.owned === quote.items) {
      throw conflict('you already own everything in it', { owned: quote.owned, items: quote.items });
    }
    if (quote.due <= 0) {
      throw conflict('you already paid as much for its items as it costs', {
        credit: quote.credit,
        price: quote.price,
      });
    }
    checkPrice(expected, quote.due);
    const contextRoom = await saleRoom(trx, fromRoomId, content.creator_id);
    const sale = await openSale(trx, 'purchase', userId, content.creator_id, quote.due, `content ${content.id}`);
    const row = await insertPurchase(trx, {
      buyer_id: userId,
      kind: 'content',
      content_id: content.id,
      context_room_id: contextRoom,
      creator_id: content.creator_id,
      amount: quote.due,
      fee: sale.fee,
      currency,
      transaction_id: sale.transactionId,
    });
    await grantContent(trx, userId, content.id, row.id);
    return { purchase: toPurchase(row), balance: await sale.settle() };
  }

  /**
   * Takes back what a refunded subscription purchase had not yet given: the unexpired part of its
   * period (all of it if queued, none if used up). Later purchases, queued right after it, move
   * up by that much, and the subscription ends where the last remaining purchase ends. Runs
   * after the purchase is marked refunded, under the buyer's lock.
   */
  async function refundPeriod(trx: Trx, purchase: PurchaseRow) {
    await sql`
      UPDATE purchases AS later
      SET period_start = later.period_start - cut.unexpired, period_end = later.period_end - cut.unexpired
      FROM (
        SELECT period_start, greatest(period_end - greatest(period_start, now()), interval '0') AS unexpired
        FROM purchases WHERE id = ${purchase.id}
      ) AS cut
      WHERE later.buyer_id = ${purchase.buyer_id} AND later.creator_id = ${purchase.creator_id}
        AND later.kind = 'subscription' AND later.status = 'completed'
        AND later.period_start > cut.period_start AND cut.unexpired > interval '0'
    `.execute(trx);
    await sql`
      UPDATE subscriptions
      SET current_period_end = coalesce(
            (SELECT max(period_end) FROM purchases
             WHERE buyer_id = ${purchase.buyer_id} AND creator_id = ${purchase.creator_id}
               AND kind = 'subscription' AND status = 'completed'),
            least(current_period_end, now())),
          updated_at = now()
      WHERE subscriber_id = ${purchase.buyer_id} AND creator_id = ${purchase.creator_id}
    `.execute(trx);
  }

  const announcePurchase = <T extends { purchase: Purchase }>(outcome: Outcome<T>) => {
    if (outcome.ok && !outcome.replayed) events.emit('purchase.completed', { purchase: outcome.data.purchase });
    return outcome;
  };

  const service: PaymentsService = {
    async wallet(userId) {
      const row = await db
        .selectFrom('accounts')
        .select('balance')
        .where('kind', '=', 'wallet')
        .where('owner_id', '=', userId)
        .where('currency', '=', currency)
        .executeTakeFirst();
      return { balance: row?.balance ?? 0, currency };
    },

    async walletHistory(userId, query = {}) {
      const { limit } = parse(historySchema, query);
      const rows = await db
        .selectFrom('ledger_entries as e')
        .innerJoin('accounts as a', 'a.id', 'e.account_id')
        .innerJoin('ledger_transactions as t', 't.id', 'e.transaction_id')
        .select(['t.id', 't.kind', 'e.amount', 'e.created_at'])
        .where('a.kind', '=', 'wallet')
        .where('a.owner_id', '=', userId)
        .orderBy('e.id', 'desc')
        .limit(limit)
        .execute();
      return rows.map((r) => ({
        transactionId: r.id,
        kind: r.kind,
        amount: r.amount,
        createdAt: r.created_at.toISOString(),
      }));
    },

    async topUp(userId, input, key) {
      const params = parse(topUpSchema, input);
      return batcher.submit<{ balance: number }>(userId, key, { kind: 'topup', params });
    },

    async purchase(userId, input, key) {
      const params = parse(purchaseSchema, input);
      if ('roomId' in params || (await isLesson(params.contentId))) {
        return batcher.submit<{ purchase: Purchase; balance: number }>(userId, key, { kind: 'purchase', params });
      }
      // A course or bundle: ownership of what it holds and the upgrade price, on its own.
      return announcePurchase(
        await run(userId, key, 'purchase', params, async (trx) => {
          // Ownership checks hold only if no other purchase of this buyer (a bundle holding this
          // lesson, under another key) commits in between: one buyer's purchases go one at a time.
          await lockBuyer(trx, userId);
          return {
            status: 201,
            data: await buyContent(trx, userId, params.contentId, params.fromRoomId, params.expectedPrice),
          };
        }),
      );
    },

    async subscribe(userId, input, key) {
      const params = parse(subscribeSchema, input);
      const { creatorId, fromRoomId, expectedPrice: expected } = params;
      const outcome = await run(userId, key, 'subscribe', params, async (trx) => {
        // The period below is read from the subscription and then extended: no other purchase or
        // refund of this buyer may move it in between.
        await lockBuyer(trx, userId);
        const profile = await trx
          .selectFrom('creator_profiles')
          .select(['subscription_price', 'subscription_period_days'])
          .where('user_id', '=', creatorId)
          .executeTakeFirst();
        if (!profile) throw notFound('creator');
        if (profile.subscription_price === null) throw invalidArgument('this creator offers no subscription');
        if (creatorId === userId) throw conflict('you cannot subscribe to yourself');
        checkPrice(expected, profile.subscription_price);
        const contextRoom = await saleRoom(trx, fromRoomId, creatorId);
        const days = profile.subscription_period_days;
        // A renewal queues after the running period; a lapsed subscription starts again now.
        // As text, so that the microseconds survive the trip through JavaScript.
        const { rows } = await sql<{ start: string; end: string }>`
          SELECT p.start::text AS start, (p.start + make_interval(days => ${days}))::text AS end
          FROM (SELECT greatest(now(), (
            SELECT current_period_end FROM subscriptions
            WHERE subscriber_id = ${userId} AND creator_id = ${creatorId}
          )) AS start) p`.execute(trx);
        const period = rows[0];
        const sale = await openSale(
          trx,
          'purchase',
          userId,
          creatorId,
          profile.subscription_price,
          `subscription ${creatorId}`,
        );
        const row = await insertPurchase(trx, {
          buyer_id: userId,
          kind: 'subscription',
          creator_id: creatorId,
          context_room_id: contextRoom,
          amount: profile.subscription_price,
          fee: sale.fee,
          currency,
          subscription_days: days,
          period_start: period.start,
          period_end: period.end,
          transaction_id: sale.transactionId,
        });
        const sub = await trx
          .insertInto('subscriptions')
          .values({ subscriber_id: userId, creator_id: creatorId, current_period_end: period.end })
          .onConflict((oc) =>
            oc.columns(['subscriber_id', 'creator_id']).doUpdateSet({
              current_period_end: period.end,
              updated_at: sql<Date>`now()` as never,
            }),
          )
          .returning(['id', 'subscriber_id', 'creator_id', 'current_period_end'])
          .executeTakeFirstOrThrow();
        const subscription: Subscription = {
          id: sub.id,
          subscriberId: sub.subscriber_id,
          creatorId: sub.creator_id,
          currentPeriodEnd: sub.current_period_end.toISOString(),
          status: 'active',
        };
        await stageDomainEvent(trx, 'subscription.started', {
          purchase: toPurchase(row),
          subscriberId: userId,
          creatorId,
          periodEnd: subscription.currentPeriodEnd,
        });
        return { status: 201, data: { purchase: toPurchase(row), subscription, balance: await sale.settle() } };
      });
      if (outcome.ok && !outcome.replayed) {
        const { purchase, subscription } = outcome.data;
        events.emit('purchase.completed', { purchase });
        events.emit('subscription.started', {
          purchase,
          subscriberId: userId,
          creatorId,
          periodEnd: subscription.currentPeriodEnd,
        });
      }
      return outcome;
    },

    async tip(userId, input, key, pinnedUntil, payerName) {
      const params = parse(tipSchema, input);
      const outcome = await batcher.submit<{ tip: Tip; balance: number }>(userId, key, {
        kind: 'tip',
        params,
        pinnedUntil: pinnedUntil(params.amount)?.toISOString() ?? null,
        ...(payerName ? { payerName } : {}),
      });
      // The stored answer also says whose room it was and the fee (for the sales feed): not the tipper's business.
      return outcome.ok ? { ...outcome, data: { tip: outcome.data.tip, balance: outcome.data.balance } } : outcome;
    },

    async refund(adminId, purchaseId, key) {
      const pid = parse(id, purchaseId);
      const outcome = await run(adminId, key, 'refund', { purchaseId: pid }, async (trx) => {
        // The buyer's lock first (as purchases take it), then the row: see `refundPeriod`.
        const buyer = await trx.selectFrom('purchases').select('buyer_id').where('id', '=', pid).executeTakeFirst();
        if (!buyer) throw notFound('purchase');
        await lockBuyer(trx, buyer.buyer_id);
        const purchase = await trx
          .selectFrom('purchases')
          .selectAll()
          .where('id', '=', pid)
          .forUpdate()
          .executeTakeFirst();
        if (!purchase) throw notFound('purchase');
        if (purchase.status === 'refunded') throw conflict('already refunded');
        const entries = await trx
          .selectFrom('ledger_entries as e')
          .innerJoin('accounts as a', 'a.id', 'e.account_id')
          .select(['e.account_id', 'e.amount', 'a.kind', 'a.owner_id'])
          .where('e.transaction_id', '=', purchase.transaction_id)
          .execute();
        // The buyer and the platform get back exactly what they gave and took; the creator's
        // share comes from wherever it is now (held, available, or owed: see earnings.ts).
        const isCreatorShare = (e: (typeof entries)[number]) =>
          (e.kind === 'earnings' || e.kind === 'earnings_pending') && e.owner_id === purchase.creator_id;
        const net = entries.filter(isCreatorShare).reduce((sum, e) => sum + e.amount, 0);
        const creatorSide = await takeBackEarnings(trx, accountsOf, {
          transactionId: purchase.transaction_id,
          creatorId: purchase.creator_id,
          net,
        });
        const refundId = await postTransaction(
          trx,
          'refund',
          [
            ...entries.filter((e) => !isCreatorShare(e)).map((e) => ({ accountId: e.account_id, amount: -e.amount })),
            ...creatorSide.postings,
          ],
          { memo: `refund of purchase ${purchase.id}`, reversesId: purchase.transaction_id },
        );
        await creatorSide.markCancelled(refundId);
        const row = await trx
          .updateTable('purchases')
          .set({ status: 'refunded', refund_transaction_id: refundId, refunded_at: sql<Date>`now()` as never })
          .where('id', '=', purchase.id)
          .returningAll()
          .executeTakeFirstOrThrow();
        await trx
          .updateTable('entitlements')
          .set({ revoked_at: sql<Date>`now()` as never })
          .where('purchase_id', '=', purchase.id)
          .where('revoked_at', 'is', null)
          .execute();
        if (purchase.kind === 'subscription') await refundPeriod(trx, purchase);
        await stageDomainEvent(trx, 'purchase.refunded', { purchase: toPurchase(row) });
        return { status: 200, data: { purchase: toPurchase(row) } };
      });
      if (outcome.ok && !outcome.replayed) events.emit('purchase.refunded', { purchase: outcome.data.purchase });
      return outcome;
    },

    async purchases(userId) {
      const rows = await db
        .selectFrom('purchases')
        .selectAll()
        .where('buyer_id', '=', userId)
        .orderBy('created_at', 'desc')
        .limit(200)
        .execute();
      return rows.map(toPurchase);
    },

    orders: (userId, query) => ordersOf(db, userId, query),

    async subscriptions(userId) {
      const rows = await db
        .selectFrom('subscriptions')
        .select(['id', 'subscriber_id', 'creator_id', 'current_period_end'])
        .where('subscriber_id', '=', userId)
        .orderBy('current_period_end', 'desc')
        .execute();
      const now = Date.now();
      return rows.map((r) => ({
        id: r.id,
        subscriberId: r.subscriber_id,
        creatorId: r.creator_id,
        currentPeriodEnd: r.current_period_end.toISOString(),
        status: r.current_period_end.getTime() > now ? ('active' as const) : ('expired' as const),
      }));
    },

    async creatorEarnings(creatorId) {
      const [account, sales, tips] = await Promise.all([
        db
          .selectFrom('account_balances')
          .select((eb) => eb.fn.sum<string>('balance').as('balance'))
          .where('kind', 'in', ['earnings', 'earnings_pending'])
          .where('owner_id', '=', creatorId)
          .where('currency', '=', currency)
          .executeTakeFirst(),
        db
          .selectFrom('purchases')
          .select((eb) => ['kind', eb.fn.sum<string>('amount').as('gross'), eb.fn.sum<string>('fee').as('fees')])
          .where('creator_id', '=', creatorId)
          .where('status', '=', 'completed')
          .groupBy('kind')
          .execute(),
        db
          .selectFrom('tips')
          .select((eb) => [eb.fn.sum<string>('amount').as('gross'), eb.fn.sum<string>('fee').as('fees')])
          .where('creator_id', '=', creatorId)
          .executeTakeFirstOrThrow(),
      ]);
      const byKind = { content: 0, ticket: 0, subscription: 0, tip: Number(tips.gross ?? 0) - Number(tips.fees ?? 0) };
      let grossSales = Number(tips.gross ?? 0);
      let platformFees = Number(tips.fees ?? 0);
      for (const s of sales) {
        byKind[s.kind] = Number(s.gross) - Number(s.fees);
        grossSales += Number(s.gross);
        platformFees += Number(s.fees);
      }
      return { balance: Number(account?.balance ?? 0), currency, byKind, grossSales, platformFees };
    },

    async earnings(creatorId) {
      await db.transaction().execute((trx) => releaseDue(trx, accountsOf, creatorId, currency));
      return earningsOf(db, creatorId, currency, payoutRules);
    },

    async requestPayout(creatorId, input, key) {
      const outcome = await payouts.request(creatorId, input, key);
      // Straight to the provider rather than at the next tick.
      if (outcome.ok && !outcome.replayed) void payouts.settle().catch(() => {});
      return outcome;
    },
    payouts: (creatorId) => payouts.list(creatorId),
    allPayouts: (query) => payouts.listAll(query),
    async retryPayout(adminId, payoutId, input, key) {
      const outcome = await payouts.retry(adminId, parse(id, payoutId), input, key);
      if (outcome.ok && !outcome.replayed) void payouts.settle().catch(() => {});
      return outcome;
    },

    async replayed(userId, key, operation, input) {
      // Parsed as the operation parses them: the same parameters hash the same (idempotency.ts).
      const schema = { tip: tipSchema, purchase: purchaseSchema, subscribe: subscribeSchema }[operation];
      const params = parse(schema, input);
      return storedOutcome(db, { userId, key, scope: operation, params }, config.idempotencyTtlHours);
    },

    tipLeaderboard: (roomId, limit) => tipLeaderboard(db, roomId, limit),
    pinnedTips: (roomId, limit) => pinnedTips(db, roomId, limit),

    async saleNotice(sale) {
      if ('tip' in sale) {
        const { tip } = sale;
        // The gateway knows the room's title (its cached state): no query per tip in a gift storm.
        const room =
          sale.roomTitle !== undefined
            ? { title: sale.roomTitle }
            : await db.selectFrom('rooms').select('title').where('id', '=', tip.roomId).executeTakeFirst();
        return {
          id: tip.id,
          kind: 'tip',
          buyer: tip.user,
          title: room?.title ?? '',
          amount: tip.amount,
          currency: tip.currency,
          roomId: tip.roomId,
          at: tip.createdAt,
        };
      }
      const p = sale.purchase;
      // A batch read both for its sales (no query per sale in a storm of purchases).
      const known =
        sale.buyerName !== undefined && sale.title !== undefined
          ? { username: sale.buyerName, title: sale.title }
          : undefined;
      const { rows } = known
        ? { rows: [known] }
        : await sql<{ username: string; title: string | null }>`
        SELECT u.username,
          coalesce((SELECT title FROM contents WHERE id = ${p.contentId}), (SELECT title FROM rooms WHERE id = ${p.roomId})) AS title
        FROM users u WHERE u.id = ${p.buyerId}
      `.execute(db);
      return {
        id: p.id,
        kind: p.kind,
        buyer: { id: p.buyerId, username: rows[0]?.username ?? '' },
        title: rows[0]?.title ?? 'Subscription',
        amount: p.amount,
        currency: p.currency,
        roomId: p.roomId ?? p.fromRoomId,
        at: p.createdAt,
      };
    },

    async settleNow() {
      await releaseAllDue();
      await payouts.settle();
    },

    start() {
      // Derived balances (platform revenue, pending earnings, provider): committed deltas into the rows.
      tasks?.every(1000, 'ledger roll-up', () => sql`SELECT ledger_roll_up(50000)`.execute(db));
      tasks?.every(config.earningsReleaseIntervalMs, 'earnings release', releaseAllDue);
      tasks?.every(config.payoutSettleIntervalMs, 'payout settlement', () => payouts.settle());
    },

    async close() {
      tasks?.stop();
      await batcher.close();
    },

    ownsContent: (userId, contentId) => ownsContent(db, userId, contentId),
    quote: (userId, contentId) => contentQuote(db, userId, parse(id, contentId)),
    ownedContentIds: (userId) => ownedContentIds(db, userId),
    hasRoomEntitlement: (user, room) => hasRoomEntitlement(db, user, room),
    roomEntitlement: (user, room) => roomEntitlement(db, user, room),
    sweepIdempotencyKeys: () => sweepIdempotencyKeys(db, config.idempotencyTtlHours),
  };
  return countOperations(service, registry);
}
