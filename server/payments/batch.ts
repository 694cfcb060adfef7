import { randomUUID } from 'node:crypto';
import { type Kysely, type RawBuilder, type Selectable, sql } from 'kysely';
import type pg from 'pg';
import type { Purchase, Tip } from '../../protocol';
import type { Config } from '../config';
import type { AccountKind, ContentsTable, DB, RoomsTable } from '../db';
import { kyselyOn, onPooledClient, RoundTrip } from '../db/round-trip';
import { AppError, conflict, httpStatusOf, invalidArgument, notFound } from '../errors';
import type { Logger } from '../log';
import { splitFee } from './fees';
import {
  answerBody,
  KEY_LOCK_SPACE,
  keyLockHash,
  keyReused,
  type Outcome,
  providerIdempotencyKey,
  replayOf,
  requestHash,
} from './idempotency';
import { type Accounts, BUYER_LOCK_SPACE } from './ledger';
import type { PaymentProvider } from './provider';
import { contentRefusal, priceRefusal, saleRoomRefusal } from './rules';

/**
 * Money at gift-storm scale (docs/money.md#throughput). Tips, top-ups and purchases of lessons
 * and tickets are not run one database transaction each: operations that arrive while batches
 * are being written wait for the next one, and a batch is one transaction of two round trips
 * whatever its size (three with top-ups): first the keys' locks taken and their stored answers
 * read, the rooms, contents and names read, the buyers' locks taken and what they own read, the
 * payers' wallets locked (in id order); then every ledger row, tip, purchase, hold, entitlement,
 * outbox event and new key with its answer written in one statement, and the commit.
 *
 * Each operation stays all-or-nothing: everything that can refuse it (room not live, already
 * owned, price changed, not enough money — applied in arrival order against the locked
 * balances) is decided before anything is written, and a refused operation writes only its
 * stored answer. A batch that fails as a whole (a bug, a lost connection) runs its operations
 * again one by one, so one bad operation never takes others with it. Every batch is one
 * transaction, so a crash leaves all of it or none of it; a retry with the same key replays.
 */

export type BatchOp =
  | {
      kind: 'tip';
      params: { roomId: string; amount: number; message?: string };
      payerName?: string;
      /** Until when the tip is pinned (ISO), decided by the room's rules before it is sent. */
      pinnedUntil: string | null;
    }
  | { kind: 'topup'; params: { amount: number; paymentMethod?: string } }
  | {
      kind: 'purchase';
      params:
        | { contentId: string; fromRoomId?: string; expectedPrice?: number }
        | { roomId: string; expectedPrice?: number };
    };

/** The scope of each kind's idempotency keys, as the single-operation path used. */
const SCOPE: Record<BatchOp['kind'], string> = { tip: 'tip', topup: 'wallet.topup', purchase: 'purchase' };

interface Pending {
  op: BatchOp;
  userId: string;
  key: string;
  hash: string;
  resolve: (outcome: Outcome<unknown>) => void;
  reject: (err: unknown) => void;
}

/** What happened to an operation, for its caller and for the domain events after the commit. */
export type Done =
  | { kind: 'tip'; outcome: Outcome<{ tip: Tip; balance: number; creatorId: string; fee: number }> }
  | { kind: 'topup'; outcome: Outcome<{ balance: number }>; amount: number; userId: string }
  | {
      kind: 'purchase';
      outcome: Outcome<{ purchase: Purchase; balance: number }>;
      /** The buyer's name and the item's title, for the creator's sales feed. */
      notice?: { buyerName: string; title: string };
    };

export interface BatchDeps {
  /** Compiles the batches' statements (they run on `pool`'s connections). */
  db: Kysely<DB>;
  /** The batches' own connections, one batch each at a time. */
  pool: pg.Pool;
  config: Pick<Config, 'currency' | 'platformFeeBps' | 'idempotencyTtlHours' | 'payoutHoldHours'>;
  provider: Pick<PaymentProvider, 'name' | 'charge'>;
  accounts: Accounts;
  log?: Logger;
  /** Called after a batch committed, with what each new (not replayed) operation did. */
  committed: (done: Done[]) => void;
  maxBatch?: number;
  /**
   * Connections for batches (default 2): one writes tips and purchases, a batch at a time; the
   * others write top-ups (at least one lane each; with a single connection they take turns).
   */
  concurrency?: number;
  /** Told each batch's size and how long it took to write. */
  observe?: (operations: number, seconds: number) => void;
}

const keyOf = (userId: string, key: string) => `${userId}\n${key}`;

/**
 * How the batches' connections are opened (`createPool`'s options). No JIT: a batch statement
 * whose row estimate crosses jit_above_cost (a misjudged recursive CTE was enough) compiled for
 * 150-220 ms before running, its wallet locks held (auto_explain).
 */
export const MONEY_CONNECTION_OPTIONS = '-c jit=off';

/**
 * Sales (tips and purchases) are written by a single writer, one batch at a time: while it writes,
 * the next batch gathers, so batches grow with the load. A batch has a fixed cost (the reads
 * and locks, the ledger's statement triggers, the commit); four sale batches at once each
 * carried a quarter of the operations and paid it four times: in a purchase storm they sustained
 * about 940 a second, one at a time about 1,340 (docs/money.md#throughput). Top-ups wait on the
 * payment provider between their round trips, so they have lanes of their own and a slow provider
 * never holds up a room's tips.
 */
interface Lane {
  queue: Pending[];
  /** Batches being written now (each its own transaction and connection). */
  running: number;
  /** How many may be. */
  limit: number;
}

export class MoneyBatcher {
  private readonly sales: Lane;
  private readonly topUps: Lane;
  private readonly maxBatch: number;

  constructor(private readonly d: BatchDeps) {
    this.maxBatch = d.maxBatch ?? 200;
    this.sales = { queue: [], running: 0, limit: 1 };
    this.topUps = { queue: [], running: 0, limit: Math.max(1, (d.concurrency ?? 2) - 1) };
  }

  /** Resolves once nothing is queued or being written (for a clean shutdown). */
  async drain(): Promise<void> {
    const busy = (lane: Lane) => lane.running > 0 || lane.queue.length > 0;
    while (busy(this.sales) || busy(this.topUps)) await new Promise((resolve) => setTimeout(resolve, 10));
  }

  submit<T>(userId: string, key: string, op: BatchOp): Promise<Outcome<T>> {
    const hash = requestHash(SCOPE[op.kind], op.params);
    const lane = op.kind === 'topup' ? this.topUps : this.sales;
    return new Promise((resolve, reject) => {
      lane.queue.push({ op, userId, key, hash, resolve: resolve as Pending['resolve'], reject });
      this.pump(lane);
    });
  }

  /**
   * As many batches at once as the lane allows, each in its own transaction: while they are
   * written, the next one gathers. Batches lock the payers' wallets (and buyers) in id order, so
   * two never deadlock; the same key is never in two batches at once, whatever their lanes (the
   * second replays the first).
   */
  private pump(lane: Lane): void {
    while (lane.running < lane.limit && lane.queue.length > 0 && this.startBatch(lane));
  }

  private readonly inFlight = new Set<string>();

  /** Starts a batch of what the lane has queued; false when all of it waits for a batch in flight. */
  private startBatch(lane: Lane): boolean {
    const batch: Pending[] = [];
    const rest: Pending[] = [];
    const seen = new Set<string>();
    for (const p of lane.queue) {
      // The same key twice waits for a later batch, where it replays the first.
      const k = keyOf(p.userId, p.key);
      if (batch.length < this.maxBatch && !seen.has(k) && !this.inFlight.has(k)) {
        seen.add(k);
        batch.push(p);
      } else rest.push(p);
    }
    lane.queue = rest;
    if (batch.length === 0) return false;
    lane.running++;
    for (const k of seen) this.inFlight.add(k);
    void this.execute(batch).finally(() => {
      lane.running--;
      for (const k of seen) this.inFlight.delete(k);
      // A key waiting in either lane may have been this batch's.
      this.pump(this.sales);
      this.pump(this.topUps);
    });
    return true;
  }

  private async execute(batch: Pending[]): Promise<void> {
    const started = performance.now();
    try {
      this.settle(batch, await this.write(batch));
      this.d.observe?.(batch.length, (performance.now() - started) / 1000);
    } catch (err) {
      if (batch.length === 1) {
        batch[0].reject(err);
        return;
      }
      this.d.log?.warn(
        { err, operations: batch.length },
        'money batch failed as a whole; running its operations one by one',
      );
      for (const p of batch) {
        try {
          this.settle([p], await this.write([p]));
        } catch (single) {
          p.reject(single);
        }
      }
    }
  }

  private settle(batch: Pending[], results: Map<Pending, Done | { error: unknown }>): void {
    const fresh: Done[] = [];
    for (const p of batch) {
      const result = results.get(p);
      if (!result) p.reject(new AppError('INTERNAL', 'the operation was lost'));
      else if ('error' in result) p.reject(result.error);
      else {
        if (!result.outcome.replayed && result.outcome.ok) fresh.push(result);
        p.resolve(result.outcome);
      }
    }
    this.d.committed(fresh);
  }

  /**
   * One transaction for the whole batch, in two round trips (three with top-ups); resolves what
   * each operation got. A failure rolls all of it back and is thrown.
   */
  private write(batch: Pending[]): Promise<Map<Pending, Done | { error: unknown }>> {
    // Nothing of the batch is kept if it fails.
    return onPooledClient(this.d.pool, (client) => this.transaction(client, batch));
  }

  private async transaction(client: pg.PoolClient, batch: Pending[]): Promise<Map<Pending, Done | { error: unknown }>> {
    const { db, config, accounts } = this.d;
    const currency = config.currency;
    const onClient = kyselyOn(client);
    /** Account ids: cached after first use; a miss is read (or created) on this connection. */
    const account = (kind: AccountKind, ownerId: string | null) => accounts.id(onClient, kind, ownerId, currency);
    const results = new Map<Pending, Done | { error: unknown }>();
    const expiredBefore = new Date(Date.now() - config.idempotencyTtlHours * 3600_000);

    // Before the transaction: the accounts every operation touches whatever is decided.
    const wallets = new Map<string, string>();
    for (const userId of new Set(batch.map((p) => p.userId))) wallets.set(userId, await account('wallet', userId));
    const platform = await account('platform_revenue', null);
    const provider = await account('provider', null);

    const tips = ofKind(batch, 'tip');
    const buys = ofKind(batch, 'purchase');
    const topUps = ofKind(batch, 'topup');
    const roomIds = new Set<string>();
    for (const p of tips) roomIds.add(p.op.params.roomId);
    for (const p of buys) {
      if ('roomId' in p.op.params) roomIds.add(p.op.params.roomId);
      else if (p.op.params.fromRoomId) roomIds.add(p.op.params.fromRoomId);
    }
    const contentIds = [...new Set(buys.flatMap((p) => ('contentId' in p.op.params ? [p.op.params.contentId] : [])))];

    // 1. The keys' advisory locks, in hash order (a key another transaction holds, here or on
    // the single-operation path, makes this wait for its commit), the stored answers of keys used
    // before, and what the operations are decided on: rooms, contents, tippers' names. A key
    // with no answer is this batch's, and is written once, with its answer, in the last trip:
    // one row version, not a claim and then its update. Then the locks, in the order the
    // single-operation path takes them (so the two never deadlock): keys, buyers, then wallets
    // in id order; what the buyers own is read once their locks are held. Top-ups are charged by
    // the provider between the keys and the other locks (no wallet is locked while a provider
    // answers): their locks take a trip of their own.
    const first = new RoundTrip();
    first.add('BEGIN');
    const users = batch.map((p) => p.userId);
    const keys = batch.map((p) => p.key);
    first.add(
      sql`
        SELECT pg_advisory_xact_lock(${KEY_LOCK_SPACE}, v.h)
        FROM (SELECT ${keyLockHash(sql.ref('v.user_id'), sql.ref('v.key'))} AS h
              FROM unnest(${users}::uuid[], ${keys}::text[]) AS v(user_id, key)) v
        ORDER BY v.h
      `.compile(db),
    );
    // An expired key is new again: its old answer goes (with this transaction, if it commits).
    first.add(
      sql`
        DELETE FROM idempotency_keys k USING unnest(${users}::uuid[], ${keys}::text[]) AS v(user_id, key)
        WHERE k.user_id = v.user_id AND k.key = v.key AND k.created_at < ${expiredBefore}
      `.compile(db),
    );
    const clock = first.add<{ now: Date }>('SELECT now() AS now');
    const stored = first.add<StoredKey>(
      sql`
        SELECT k.user_id, k.key, k.request_hash, k.response_status, k.response_body
        FROM idempotency_keys k
        JOIN unnest(${users}::uuid[], ${keys}::text[]) AS v(user_id, key)
          ON k.user_id = v.user_id AND k.key = v.key
      `.compile(db),
    );
    const roomRows = roomIds.size
      ? first.add<RoomRow>(
          db
            .selectFrom('rooms')
            .select(['id', 'owner_id', 'status', 'access', 'ticket_price', 'currency', 'title'])
            .where('id', 'in', [...roomIds])
            .compile(),
        )
      : () => [];
    const contentRows = contentIds.length
      ? first.add<ContentRow>(
          db
            .selectFrom('contents')
            .select(['id', 'creator_id', 'price', 'currency', 'kind', 'archived_at', 'title'])
            .where('id', 'in', contentIds)
            .compile(),
        )
      : () => [];
    // Payers' names: for tips (unless the gateway gave them) and for the sales feed's notices.
    const unnamed = [...new Set([...tips.filter((p) => !p.op.payerName), ...buys].map((p) => p.userId))];
    const nameRows = unnamed.length
      ? first.add<{ id: string; username: string }>(
          db.selectFrom('users').select(['id', 'username']).where('id', 'in', unnamed).compile(),
        )
      : () => [];
    const locksTrip = topUps.length ? new RoundTrip() : first;
    const locks = this.locks(locksTrip, buys, [...new Set(wallets.values())]);
    await first.send(client);

    // A key with no answer stored is this batch's (its lock is held until the answer is); one
    // with an answer is a retry, replayed.
    const answered = new Set(stored().map((r) => keyOf(r.user_id, r.key)));
    const isLive = (p: Pending) => !answered.has(keyOf(p.userId, p.key));
    const now = clock()[0].now;
    const live = batch.filter(isLive);
    this.replay(
      batch.filter((p) => !isLive(p)),
      stored(),
      results,
    );
    const room = new Map(roomRows().map((r) => [r.id, r]));
    const content = new Map(contentRows().map((c) => [c.id, c]));
    const names = new Map(nameRows().map((r) => [r.id, r.username]));
    for (const p of tips) if (p.op.payerName) names.set(p.userId, p.op.payerName);

    // Top-ups charge the provider (with a key of their own: a retry is not charged twice). A
    // decline is that top-up's answer.
    const charges = new Map<Pending, { reference: string } | AppError>();
    await Promise.all(
      topUps.filter(isLive).map(async (p) => {
        try {
          charges.set(
            p,
            await this.d.provider.charge({
              userId: p.userId,
              amount: p.op.params.amount,
              currency,
              idempotencyKey: providerIdempotencyKey(p.userId, 'wallet.topup', p.key),
              paymentMethod: p.op.params.paymentMethod,
            }),
          );
        } catch (err) {
          if (!(err instanceof AppError) || err.code === 'INTERNAL' || err.code === 'UNAVAILABLE') throw err;
          charges.set(p, err);
        }
      }),
    );
    if (locksTrip !== first) await locksTrip.send(client);
    const { held, balances } = locks();

    // 3. Decide every operation that does not depend on money.
    interface Plan {
      p: Pending;
      /** Debit of the payer's wallet (checked against the locked balance), or a credit. */
      debit: number;
      credit: number;
      answer: (balance: number) => Done;
      rows?: () => void;
    }
    const plans: Plan[] = [];
    // A refusal is the operation's answer, stored with its key (as `idempotent` stores one).
    const refuse = (p: Pending, err: AppError) => {
      const outcome = { ok: false as const, status: httpStatusOf[err.code], error: err.toBody(), replayed: false };
      results.set(
        p,
        p.op.kind === 'topup'
          ? { kind: 'topup', outcome, amount: p.op.params.amount, userId: p.userId }
          : ({ kind: p.op.kind, outcome } as Done),
      );
    };

    const rows = new Rows();
    const pending = new Map<string, string>();
    const pendingOf = async (creatorId: string) => {
      let id = pending.get(creatorId);
      if (!id) {
        id = await account('earnings_pending', creatorId);
        pending.set(creatorId, id);
      }
      return id;
    };

    /** A sale's ledger transaction, hold and entries (written only if the payer can pay). */
    const sale = async (
      p: Pending,
      ledgerKind: 'tip' | 'purchase',
      creatorId: string,
      amount: number,
      memo: string,
    ) => {
      const { fee, net } = splitFee(amount, config.platformFeeBps);
      const transactionId = randomUUID();
      const earnings = await pendingOf(creatorId);
      return {
        transactionId,
        fee,
        write: () => {
          rows.transaction(transactionId, ledgerKind, memo);
          rows.hold(transactionId, creatorId, currency, net, config.payoutHoldHours);
          rows.entries(transactionId, [
            [wallets.get(p.userId)!, -amount],
            [earnings, net],
            [platform, fee],
          ]);
        },
      };
    };

    for (const p of tips.filter(isLive)) {
      const { roomId, amount, message } = p.op.params;
      const r = room.get(roomId);
      if (!r) refuse(p, notFound('room'));
      else if (r.status !== 'live') refuse(p, conflict('tips are only taken while the room is live'));
      else if (r.owner_id === p.userId) refuse(p, conflict('you cannot tip yourself'));
      else {
        const s = await sale(p, 'tip', r.owner_id, amount, `tip ${roomId}`);
        const tip: Tip = {
          id: randomUUID(),
          roomId,
          user: { id: p.userId, username: names.get(p.userId) ?? '' },
          amount,
          currency,
          message: message || null,
          pinnedUntil: p.op.pinnedUntil,
          createdAt: now.toISOString(),
        };
        plans.push({
          p,
          debit: amount,
          credit: 0,
          rows: () => {
            s.write();
            rows.tip(tip, r.owner_id, s.fee, s.transactionId);
            rows.outbox('tip.created', { tip, creatorId: r.owner_id, fee: s.fee }, now);
          },
          answer: (balance) => ({
            kind: 'tip',
            outcome: {
              ok: true,
              status: 201,
              data: { tip, balance, creatorId: r.owner_id, fee: s.fee },
              replayed: false,
            },
          }),
        });
      }
    }

    for (const p of buys.filter(isLive)) {
      const params = p.op.params;
      const purchaseId = randomUUID();
      const base = {
        id: purchaseId,
        buyerId: p.userId,
        currency,
        status: 'completed' as const,
        createdAt: now.toISOString(),
        refundedAt: null,
      };
      let item:
        | {
            creatorId: string;
            amount: number;
            memo: string;
            title: string;
            purchase: Omit<Purchase, 'fee'>;
            grant: () => void;
          }
        | AppError;
      if ('roomId' in params) {
        const r = room.get(params.roomId);
        if (!r) item = notFound('room');
        else if (r.access !== 'ticket' || r.ticket_price === null)
          item = invalidArgument('this room does not sell tickets');
        else if (r.currency !== currency) item = invalidArgument(`this room's tickets are priced in ${r.currency}`);
        else if (r.status === 'ended') item = conflict('this room has ended');
        else if (r.owner_id === p.userId) item = conflict('you cannot buy a ticket to your own room');
        else if (held.has(keyOf(p.userId, r.id))) item = conflict('already purchased');
        else {
          const price = r.ticket_price;
          item = priceRefusal(params.expectedPrice, price) ?? {
            creatorId: r.owner_id,
            amount: price,
            memo: `ticket ${r.id}`,
            title: r.title,
            purchase: {
              ...base,
              kind: 'ticket',
              contentId: null,
              roomId: r.id,
              creatorId: r.owner_id,
              amount: price,
              fromRoomId: null,
            },
            grant: () => rows.entitlement(p.userId, null, r.id, purchaseId),
          };
        }
      } else {
        const c = content.get(params.contentId);
        const from = params.fromRoomId ? room.get(params.fromRoomId) : undefined;
        const refused = contentRefusal(c, p.userId, currency);
        if (refused || !c) item = refused ?? notFound('content');
        else if (held.has(keyOf(p.userId, c.id))) item = conflict('already purchased');
        else
          item = priceRefusal(params.expectedPrice, c.price) ??
            (params.fromRoomId ? saleRoomRefusal(from, c.creator_id) : null) ?? {
              creatorId: c.creator_id,
              amount: c.price,
              memo: `content ${c.id}`,
              title: c.title,
              purchase: {
                ...base,
                kind: 'content',
                contentId: c.id,
                roomId: null,
                creatorId: c.creator_id,
                amount: c.price,
                fromRoomId: params.fromRoomId ?? null,
              },
              grant: () => rows.entitlement(p.userId, c.id, null, purchaseId),
            };
      }
      if (item instanceof AppError) {
        refuse(p, item);
        continue;
      }
      const it = item;
      // The same buyer and item twice in one batch: the second is already owned.
      held.add(keyOf(p.userId, it.purchase.contentId ?? it.purchase.roomId!));
      const s = await sale(p, 'purchase', it.creatorId, it.amount, it.memo);
      const purchase: Purchase = { ...it.purchase, fee: s.fee };
      plans.push({
        p,
        debit: it.amount,
        credit: 0,
        rows: () => {
          s.write();
          rows.purchase(purchase, s.transactionId);
          it.grant();
          rows.outbox('purchase.completed', { purchase }, now);
        },
        answer: (balance) => ({
          kind: 'purchase',
          outcome: { ok: true, status: 201, data: { purchase, balance }, replayed: false },
          // The sales feed's notice from what the batch read: no query per sale on the main thread.
          notice: { buyerName: names.get(p.userId) ?? '', title: it.title },
        }),
      });
    }

    for (const p of topUps.filter(isLive)) {
      const charge = charges.get(p)!;
      if (charge instanceof AppError) {
        refuse(p, charge);
        continue;
      }
      const transactionId = randomUUID();
      const amount = p.op.params.amount;
      plans.push({
        p,
        debit: 0,
        credit: amount,
        rows: () => {
          rows.transaction(transactionId, 'topup', `${this.d.provider.name} ${charge.reference}`);
          rows.entries(transactionId, [
            [provider, -amount],
            [wallets.get(p.userId)!, amount],
          ]);
        },
        answer: (balance) => ({
          kind: 'topup',
          amount,
          userId: p.userId,
          outcome: { ok: true, status: 200, data: { balance }, replayed: false },
        }),
      });
    }

    // 4. Money: the operations applied in arrival order against the locked balances.
    const order = new Map(batch.map((p, i) => [p, i]));
    plans.sort((a, b) => order.get(a.p)! - order.get(b.p)!);
    for (const plan of plans) {
      const wallet = wallets.get(plan.p.userId)!;
      const balance = balances.get(wallet) ?? 0;
      if (plan.debit > balance) {
        refuse(plan.p, new AppError('INSUFFICIENT_FUNDS', 'insufficient funds'));
        continue;
      }
      const after = balance - plan.debit + plan.credit;
      balances.set(wallet, after);
      plan.rows?.();
      results.set(plan.p, plan.answer(after));
    }

    // 5. Everything written and the answers stored with their keys in one statement, and the
    // commit, in the last round trip.
    for (const p of live) {
      const done = results.get(p) as Done | undefined;
      if (!done) continue;
      const o = done.outcome as Outcome<unknown>;
      rows.answer(p.userId, p.key, p.hash, o.status, answerBody(o));
    }
    const last = new RoundTrip();
    const write = rows.statement();
    if (write) last.add(write.compile(db));
    last.add('COMMIT');
    await last.send(client);
    return results;
  }

  /** Answers of keys used before: the stored answer again, or CONFLICT for other parameters. */
  private replay(replays: Pending[], stored: StoredKey[], results: Map<Pending, Done | { error: unknown }>) {
    const byKey = new Map(stored.map((r) => [keyOf(r.user_id, r.key), r]));
    for (const p of replays) {
      const row = byKey.get(keyOf(p.userId, p.key));
      if (!row || row.response_status === null) {
        results.set(p, { error: new AppError('UNAVAILABLE', 'the first attempt of this key did not finish; retry') });
      } else if (row.request_hash !== p.hash) {
        results.set(p, { error: keyReused() });
      } else {
        const outcome = replayOf(row.response_status, row.response_body);
        results.set(p, { kind: p.op.kind, outcome, amount: 0, userId: p.userId } as Done);
      }
    }
  }

  /**
   * The batch's locks, added to a round trip: the buyers' (one purchase at a time per buyer, as
   * in the single-operation path), then what they own read under them — a lesson through an
   * entitlement to it or to a course or bundle holding it now (as `ownsContent` decides), a
   * ticket through its entitlement — then the payers' wallets, in id order, with their balances.
   * Ownership is one index probe per pair (`LATERAL ... LIMIT 1`), on the index of its kind
   * (migration 0017). As a join, planned on the recursive part's estimate (thousands of rows for
   * a few dozen) and on statistics a storm outgrows, it hashed every entitlement: 4.8 ms of a
   * batch of 50. The cost estimates such probes get would send them to JIT: the money
   * connections have it off (`MONEY_CONNECTION_OPTIONS`).
   */
  private locks(trip: RoundTrip, buys: Pending[], walletIds: string[]) {
    const { db } = this.d;
    const pairs = buys.map((p) => {
      const params = p.op.params as { contentId?: string; roomId?: string };
      return { userId: p.userId, contentId: params.contentId ?? null, roomId: params.roomId ?? null };
    });
    const buyers = [...new Set(pairs.map((x) => x.userId))].sort();
    if (buyers.length) {
      trip.add(
        sql`SELECT pg_advisory_xact_lock(${BUYER_LOCK_SPACE}, hashtext(b)) FROM unnest(${buyers}::text[]) AS b ORDER BY b`.compile(
          db,
        ),
      );
    }
    const lessons = pairs.filter((x) => x.contentId);
    const ownedLessons = lessons.length
      ? trip.add<{ user_id: string; item: string }>(
          sql`
            WITH RECURSIVE wanted(user_id, item) AS (
              SELECT * FROM unnest(${lessons.map((x) => x.userId)}::uuid[], ${lessons.map((x) => x.contentId)}::uuid[])
            ), holders(user_id, item, holder) AS (
              SELECT user_id, item, item FROM wanted
              UNION
              SELECT h.user_id, h.item, ci.parent_id FROM content_items ci JOIN holders h ON ci.item_id = h.holder
            )
            SELECT DISTINCT h.user_id, h.item FROM holders h
            CROSS JOIN LATERAL (
              SELECT 1 FROM entitlements e
              WHERE e.user_id = h.user_id AND e.content_id = h.holder AND e.revoked_at IS NULL LIMIT 1
            ) owned
          `.compile(db),
        )
      : () => [];
    const tickets = pairs.filter((x) => x.roomId);
    const ownedTickets = tickets.length
      ? trip.add<{ user_id: string; item: string }>(
          sql`
            SELECT w.user_id, w.room_id AS item
            FROM unnest(${tickets.map((x) => x.userId)}::uuid[], ${tickets.map((x) => x.roomId)}::uuid[]) AS w(user_id, room_id)
            CROSS JOIN LATERAL (
              SELECT 1 FROM entitlements e
              WHERE e.user_id = w.user_id AND e.room_id = w.room_id AND e.revoked_at IS NULL LIMIT 1
            ) owned
          `.compile(db),
        )
      : () => [];
    const wallets = trip.add<{ id: string; balance: number }>(
      sql`SELECT id, balance FROM accounts WHERE id = ANY(${[...walletIds].sort()}::uuid[]) ORDER BY id FOR UPDATE`.compile(
        db,
      ),
    );
    return () => ({
      held: new Set([...ownedLessons(), ...ownedTickets()].map((r) => keyOf(r.user_id, r.item))),
      balances: new Map(wallets().map((w) => [w.id, Number(w.balance)])),
    });
  }
}

type Of<K extends BatchOp['kind']> = Pending & { op: Extract<BatchOp, { kind: K }> };
const ofKind = <K extends BatchOp['kind']>(batch: Pending[], kind: K) =>
  batch.filter((p): p is Of<K> => p.op.kind === kind);

interface StoredKey {
  user_id: string;
  key: string;
  request_hash: string;
  response_status: number | null;
  response_body: unknown;
}
type RoomRow = Pick<
  Selectable<RoomsTable>,
  'id' | 'owner_id' | 'status' | 'access' | 'ticket_price' | 'currency' | 'title'
>;
type ContentRow = Pick<
  Selectable<ContentsTable>,
  'id' | 'creator_id' | 'price' | 'currency' | 'kind' | 'archived_at' | 'title'
>;

/**
 * JSON texts as one JSON array, for `jsonb -> n`. As a `text[]` each text was quoted again inside
 * the array literal, every `"` escaped, on the money thread: the answers and the events are half of
 * a batch's statement (docs/money.md, "JSON as one array").
 */
const jsonArray = (texts: string[]) => `[${texts.join(',')}]`;

/** The rows of a batch, gathered per table and written with one statement each. */
class Rows {
  private readonly transactions: { id: string; kind: string; memo: string }[] = [];
  private readonly holds: {
    transactionId: string;
    creatorId: string;
    currency: string;
    amount: number;
    hours: number;
  }[] = [];
  private readonly ledger: { transactionId: string; accountId: string; amount: number }[] = [];
  private readonly tips: { tip: Tip; creatorId: string; fee: number; transactionId: string }[] = [];
  private readonly purchases: { purchase: Purchase; transactionId: string }[] = [];
  private readonly grants: { userId: string; contentId: string | null; roomId: string | null; purchaseId: string }[] =
    [];
  private readonly events: { topic: string; payload: string; at: Date }[] = [];
  private readonly answers: { userId: string; key: string; hash: string; status: number; body: string }[] = [];

  transaction(id: string, kind: string, memo: string) {
    this.transactions.push({ id, kind, memo });
  }
  hold(transactionId: string, creatorId: string, currency: string, amount: number, hours: number) {
    this.holds.push({ transactionId, creatorId, currency, amount, hours });
  }
  entries(transactionId: string, postings: [string, number][]) {
    // Zero postings (a sale whose whole price is the fee) are no entries; account order as postEntries.
    for (const [accountId, amount] of [...postings].sort(([a], [b]) => (a < b ? -1 : 1))) {
      if (amount !== 0) this.ledger.push({ transactionId, accountId, amount });
    }
  }
  tip(tip: Tip, creatorId: string, fee: number, transactionId: string) {
    this.tips.push({ tip, creatorId, fee, transactionId });
  }
  purchase(purchase: Purchase, transactionId: string) {
    this.purchases.push({ purchase, transactionId });
  }
  entitlement(userId: string, contentId: string | null, roomId: string | null, purchaseId: string) {
    this.grants.push({ userId, contentId, roomId, purchaseId });
  }
  outbox(topic: string, payload: unknown, at: Date) {
    this.events.push({ topic, payload: JSON.stringify(payload), at });
  }
  /** The stored answer of an idempotency key claimed in this batch. */
  answer(userId: string, key: string, hash: string, status: number, body: string) {
    this.answers.push({ userId, key, hash, status, body });
  }

  /**
   * Every row in one statement: a data-modifying CTE per table. Foreign keys and the ledger's
   * triggers are checked at the end of the statement, when every row is there.
   */
  statement(): RawBuilder<unknown> | undefined {
    const t = this.transactions;
    const h = this.holds;
    const tp = this.tips;
    const p = this.purchases;
    const g = this.grants;
    const ev = this.events;
    const e = this.ledger;
    const k = this.answers;
    const parts: RawBuilder<unknown>[] = [];
    if (k.length) {
      parts.push(sql`k AS (
        INSERT INTO idempotency_keys (user_id, key, request_hash, response_status, response_body)
        SELECT v.user_id, v.key, v.hash, v.status, ${jsonArray(k.map((x) => x.body))}::jsonb -> (v.n::int - 1)
        FROM unnest(${k.map((x) => x.userId)}::uuid[], ${k.map((x) => x.key)}::text[], ${k.map((x) => x.hash)}::text[],
                    ${k.map((x) => x.status)}::int[]) WITH ORDINALITY AS v(user_id, key, hash, status, n))`);
    }
    if (t.length) {
      parts.push(sql`t AS (
        INSERT INTO ledger_transactions (id, kind, memo)
        SELECT * FROM unnest(${t.map((x) => x.id)}::uuid[], ${t.map((x) => x.kind)}::text[], ${t.map((x) => x.memo)}::text[]))`);
    }
    if (h.length) {
      parts.push(sql`h AS (
        INSERT INTO earnings_holds (transaction_id, creator_id, currency, amount, release_at)
        SELECT v.t, v.c, v.cur, v.a, now() + make_interval(secs => v.s)
        FROM unnest(${h.map((x) => x.transactionId)}::uuid[], ${h.map((x) => x.creatorId)}::uuid[],
                    ${h.map((x) => x.currency)}::text[], ${h.map((x) => x.amount)}::int8[],
                    ${h.map((x) => x.hours * 3600)}::float8[]) AS v(t, c, cur, a, s))`);
    }
    if (tp.length) {
      parts.push(sql`tp AS (
        INSERT INTO tips (id, room_id, sender_id, creator_id, amount, fee, currency, message, pinned_until, transaction_id, created_at)
        SELECT * FROM unnest(
          ${tp.map((x) => x.tip.id)}::uuid[], ${tp.map((x) => x.tip.roomId)}::uuid[],
          ${tp.map((x) => x.tip.user.id)}::uuid[], ${tp.map((x) => x.creatorId)}::uuid[],
          ${tp.map((x) => x.tip.amount)}::int8[], ${tp.map((x) => x.fee)}::int8[],
          ${tp.map((x) => x.tip.currency)}::text[], ${tp.map((x) => x.tip.message)}::text[],
          ${tp.map((x) => x.tip.pinnedUntil)}::timestamptz[], ${tp.map((x) => x.transactionId)}::uuid[],
          ${tp.map((x) => x.tip.createdAt)}::timestamptz[]))`);
      // Each tipper's running total in the room (the leaderboard), one row per tipper of the batch.
      parts.push(sql`tt AS (
        INSERT INTO room_tip_totals AS r (room_id, sender_id, total)
        SELECT v.room_id, v.sender_id, sum(v.amount)
        FROM unnest(${tp.map((x) => x.tip.roomId)}::uuid[], ${tp.map((x) => x.tip.user.id)}::uuid[],
                    ${tp.map((x) => x.tip.amount)}::int8[]) AS v(room_id, sender_id, amount)
        GROUP BY v.room_id, v.sender_id
        ON CONFLICT (room_id, sender_id) DO UPDATE SET total = r.total + excluded.total)`);
    }
    if (p.length) {
      // A unique violation (another node sold the same item to the same buyer meanwhile) fails the
      // batch; run again one by one, that operation is answered "already purchased".
      parts.push(sql`p AS (
        INSERT INTO purchases (id, buyer_id, kind, content_id, room_id, creator_id, amount, fee, currency, transaction_id, context_room_id, created_at)
        SELECT * FROM unnest(
          ${p.map((x) => x.purchase.id)}::uuid[], ${p.map((x) => x.purchase.buyerId)}::uuid[],
          ${p.map((x) => x.purchase.kind)}::text[], ${p.map((x) => x.purchase.contentId)}::uuid[],
          ${p.map((x) => x.purchase.roomId)}::uuid[], ${p.map((x) => x.purchase.creatorId)}::uuid[],
          ${p.map((x) => x.purchase.amount)}::int8[], ${p.map((x) => x.purchase.fee)}::int8[],
          ${p.map((x) => x.purchase.currency)}::text[], ${p.map((x) => x.transactionId)}::uuid[],
          ${p.map((x) => x.purchase.fromRoomId)}::uuid[], ${p.map((x) => x.purchase.createdAt)}::timestamptz[]))`);
    }
    if (g.length) {
      parts.push(sql`g AS (
        INSERT INTO entitlements (user_id, content_id, room_id, purchase_id)
        SELECT * FROM unnest(${g.map((x) => x.userId)}::uuid[], ${g.map((x) => x.contentId)}::uuid[],
                             ${g.map((x) => x.roomId)}::uuid[], ${g.map((x) => x.purchaseId)}::uuid[]))`);
    }
    if (ev.length) {
      parts.push(sql`ev AS (
        INSERT INTO events_outbox (topic, payload, created_at)
        SELECT v.topic, ${jsonArray(ev.map((x) => x.payload))}::jsonb -> (v.n::int - 1), v.at
        FROM unnest(${ev.map((x) => x.topic)}::text[], ${ev.map((x) => x.at)}::timestamptz[]) WITH ORDINALITY AS v(topic, at, n))`);
    }
    const entries = e.length
      ? sql`INSERT INTO ledger_entries (transaction_id, account_id, amount)
            SELECT * FROM unnest(${e.map((x) => x.transactionId)}::uuid[], ${e.map((x) => x.accountId)}::uuid[],
                                 ${e.map((x) => x.amount)}::int8[])`
      : sql`SELECT 1`;
    if (parts.length === 0 && e.length === 0) return undefined;
    return parts.length ? sql`WITH ${sql.join(parts, sql`, `)} ${entries}` : entries;
  }
}
