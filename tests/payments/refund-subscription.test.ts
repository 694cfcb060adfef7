import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { HEALTHY_LEDGER, ledgerInvariants } from '../helpers/ledger';
import { type Account, startTestServer, type TestServer } from '../helpers/server';
import { closeAllSockets, connect, next, ok } from '../helpers/socket';

let s: TestServer;
let creator: Account;
let admin: Account;
beforeAll(async () => {
  s = await startTestServer({ PLATFORM_FEE_BPS: '1500' });
  creator = await s.api.register('creator');
  admin = await s.admin();
});
afterEach(closeAllSockets);
afterAll(() => s.close());

const balanceOf = async (token: string) => (await s.api.get('/api/wallet', token)).body.balance as number;
const earningsBalance = async () =>
  (await s.api.get('/api/creators/me/earnings', creator.token)).body.balance as number;
const refund = (purchaseId: string, token = admin.token, key = randomUUID()) =>
  s.api.post(`/api/admin/purchases/${purchaseId}/refund`, {}, token, key);

describe('refunds', () => {
  it('reverse every ledger entry and the entitlements of the purchase', async () => {
    const viewer = await s.api.register();
    await s.api.topUp(viewer.token, 4000);
    const lesson = await s.api.content(creator.token, { price: 400 });
    const course = await s.api.content(creator.token, { kind: 'course', price: 1000, itemIds: [lesson.id] });
    const earningsBefore = await earningsBalance();
    const { body } = await s.api.post('/api/purchases', { contentId: course.id }, viewer.token, randomUUID());
    expect(await earningsBalance()).toBe(earningsBefore + 850);

    const key = randomUUID();
    const res = await refund(body.purchase.id, admin.token, key);
    expect(res.status).toBe(200);
    expect(res.body.purchase).toMatchObject({ id: body.purchase.id, status: 'refunded' });
    expect(res.body.purchase.refundedAt).toEqual(expect.any(String));
    expect(await balanceOf(viewer.token)).toBe(4000);
    expect(await earningsBalance()).toBe(earningsBefore);
    for (const c of [course, lesson])
      expect((await s.api.get(`/api/contents/${c.id}`, viewer.token)).body.owned).toBe(false);

    // Replaying the refund changes nothing; a second refund is a conflict.
    expect((await refund(body.purchase.id, admin.token, key)).headers.get('idempotent-replayed')).toBe('true');
    expect((await refund(body.purchase.id)).body.error.code).toBe('CONFLICT');
    expect(await balanceOf(viewer.token)).toBe(4000);

    // The reversing transaction points at the one it reverses.
    const txns = await s.lectern.database.db
      .selectFrom('purchases as p')
      .innerJoin('ledger_transactions as t', 't.id', 'p.refund_transaction_id')
      .select(['t.kind', 't.reverses_id', 'p.transaction_id'])
      .where('p.id', '=', body.purchase.id)
      .executeTakeFirstOrThrow();
    expect(txns.kind).toBe('refund');
    expect(txns.reverses_id).toBe(txns.transaction_id);

    // After a refund the content can be bought again.
    expect((await s.api.post('/api/purchases', { contentId: course.id }, viewer.token, randomUUID())).status).toBe(201);
  });

  it('are for admins only', async () => {
    const viewer = await s.api.register();
    await s.api.topUp(viewer.token, 1000);
    const lesson = await s.api.content(creator.token, { price: 100 });
    const { body } = await s.api.post('/api/purchases', { contentId: lesson.id }, viewer.token, randomUUID());
    expect((await refund(body.purchase.id, viewer.token)).status).toBe(403);
    expect((await refund(body.purchase.id, creator.token)).body.error.code).toBe('FORBIDDEN');
    expect((await refund(randomUUID())).body.error.code).toBe('NOT_FOUND');
    expect(await balanceOf(viewer.token)).toBe(900);
  });
});

describe('creator subscriptions', () => {
  it('grant subscriber rooms until the period end; renewals extend it; a refund takes the period back', async () => {
    const viewer = await s.api.register();
    await s.api.topUp(viewer.token, 10_000);
    const sub = (key = randomUUID()) =>
      s.api.post('/api/subscriptions', { creatorId: creator.user.id }, viewer.token, key);

    expect((await sub()).body.error.code).toBe('INVALID_ARGUMENT'); // no subscription offered yet
    const profile = await s.api.request('PATCH', '/api/creators/me', {
      token: creator.token,
      body: { subscriptionPrice: 999, subscriptionPeriodDays: 30, tags: ['Math', 'physics'] },
    });
    expect(profile.body.profile).toMatchObject({
      subscriptionPrice: 999,
      subscriptionPeriodDays: 30,
      tags: ['math', 'physics'],
    });

    const room = await s.api.room(creator.token, { access: 'subscribers', previewSeconds: 30 });
    const entitled = () =>
      s.lectern.services.payments.hasRoomEntitlement(
        { id: viewer.user.id, role: 'viewer' },
        { id: room.id, ownerId: creator.user.id, access: 'subscribers' },
      );
    expect(await entitled()).toBe(false);

    const first = await sub();
    expect(first.status).toBe(201);
    expect(first.body.balance).toBe(10_000 - 999);
    const end1 = Date.parse(first.body.subscription.currentPeriodEnd);
    expect(end1 - Date.now()).toBeGreaterThan(29.9 * 86400_000);
    expect(await entitled()).toBe(true);

    const second = await sub();
    const end2 = Date.parse(second.body.subscription.currentPeriodEnd);
    expect(end2 - end1).toBeGreaterThan(29.99 * 86400_000);
    expect(end2 - end1).toBeLessThan(30.01 * 86400_000);

    expect((await refund(second.body.purchase.id)).status).toBe(200);
    expect(await entitled()).toBe(true); // the first period is still running
    expect((await refund(first.body.purchase.id)).status).toBe(200);
    expect(await entitled()).toBe(false);
    const list = await s.api.get('/api/subscriptions', viewer.token);
    expect(list.body.subscriptions[0].status).toBe('expired');
    expect(await balanceOf(viewer.token)).toBe(10_000);
  });
});

describe('refunding one of several subscription purchases', () => {
  const DAY = 86400_000;

  /** A creator offering a 30-day subscription, a viewer with money, and what they need. */
  async function setup() {
    const seller = await s.api.register('creator');
    await s.api.request('PATCH', '/api/creators/me', {
      token: seller.token,
      body: { subscriptionPrice: 1000, subscriptionPeriodDays: 30 },
    });
    const viewer = await s.api.register();
    await s.api.topUp(viewer.token, 10_000);
    const room = await s.api.room(seller.token, { access: 'subscribers' });
    return {
      viewer,
      subscribe: () => s.api.post('/api/subscriptions', { creatorId: seller.user.id }, viewer.token, randomUUID()),
      entitled: () =>
        s.lectern.services.payments.hasRoomEntitlement(
          { id: viewer.user.id, role: 'viewer' },
          { id: room.id, ownerId: seller.user.id, access: 'subscribers' },
        ),
      periodEnd: async () =>
        Date.parse((await s.api.get('/api/subscriptions', viewer.token)).body.subscriptions[0].currentPeriodEnd),
      /** Moves the viewer's subscription history `days` into the past, as if that time had gone by. */
      travel: async (days: number) => {
        const { db } = s.lectern.database;
        const back = sql`make_interval(days => ${days})`;
        await sql`
          UPDATE purchases SET created_at = created_at - ${back},
            period_start = period_start - ${back}, period_end = period_end - ${back}
          WHERE buyer_id = ${viewer.user.id} AND kind = 'subscription'`.execute(db);
        await sql`
          UPDATE subscriptions SET current_period_end = current_period_end - ${back}
          WHERE subscriber_id = ${viewer.user.id}`.execute(db);
      },
    };
  }

  it('lapse, renew, refund the old one: the renewal keeps its whole period', async () => {
    const t = await setup();
    const old = await t.subscribe();
    expect(old.status).toBe(201);
    await t.travel(40); // used up ten days ago
    expect(await t.entitled()).toBe(false);

    const renewal = await t.subscribe();
    expect(renewal.status).toBe(201);
    const renewedUntil = Date.parse(renewal.body.subscription.currentPeriodEnd);
    expect(renewedUntil - Date.now()).toBeGreaterThan(29.9 * DAY); // a lapsed subscription starts afresh

    expect((await refund(old.body.purchase.id)).status).toBe(200);
    expect(await t.entitled()).toBe(true);
    expect(await t.periodEnd()).toBe(renewedUntil);
    expect((await s.api.get('/api/wallet', t.viewer.token)).body.balance).toBe(10_000 - 1000);
  });

  it('refund the current one: only its unexpired days go, and the queued renewal moves up', async () => {
    const t = await setup();
    const current = await t.subscribe();
    await t.travel(10); // twenty days left
    const queued = await t.subscribe();
    expect(Date.parse(queued.body.subscription.currentPeriodEnd) - Date.now()).toBeGreaterThan(49.9 * DAY);

    expect((await refund(current.body.purchase.id)).status).toBe(200);
    // The renewal now runs from the refund: 30 days from now, not 50 - 30 = 20.
    const left = (await t.periodEnd()) - Date.now();
    expect(left).toBeGreaterThan(29.9 * DAY);
    expect(left).toBeLessThan(30.01 * DAY);
    expect(await t.entitled()).toBe(true);

    expect((await refund(queued.body.purchase.id)).status).toBe(200);
    expect(await t.entitled()).toBe(false);
    expect((await s.api.get('/api/subscriptions', t.viewer.token)).body.subscriptions[0].status).toBe('expired');
    expect((await s.api.get('/api/wallet', t.viewer.token)).body.balance).toBe(10_000);
  });

  it('a renewal bought after a refund queues after what is left', async () => {
    const t = await setup();
    const first = await t.subscribe();
    const second = await t.subscribe();
    expect((await refund(second.body.purchase.id)).status).toBe(200);
    const third = await t.subscribe();
    expect(third.body.subscription.currentPeriodEnd).toBe(second.body.subscription.currentPeriodEnd);
    expect((await refund(first.body.purchase.id)).status).toBe(200);
    const left = (await t.periodEnd()) - Date.now();
    expect(left).toBeGreaterThan(29.9 * DAY);
    expect(left).toBeLessThan(30.01 * DAY);
  });
});

describe('refunding a room ticket', () => {
  it('takes the room away: the entitlement is revoked and joining again gives no access', async () => {
    const viewer = await s.api.register();
    await s.api.topUp(viewer.token, 1000);
    const room = await s.api.room(creator.token, { access: 'ticket', ticketPrice: 600, previewSeconds: 0 });
    await s.api.post(`/api/rooms/${room.id}/start`, {}, creator.token);
    const bought = await s.api.post('/api/purchases', { roomId: room.id }, viewer.token, randomUUID());
    expect(bought.status).toBe(201);
    const sock = await connect(s.url, viewer.token);
    expect((await ok(sock, 'room:join', { roomId: room.id })).access).toBe('full');

    const downgraded = next(sock, 'access:changed');
    expect((await refund(bought.body.purchase.id)).status).toBe(200);
    expect(await downgraded).toEqual({ roomId: room.id, access: 'none' });
    expect(
      await s.lectern.services.payments.hasRoomEntitlement(
        { id: viewer.user.id, role: 'viewer' },
        { id: room.id, ownerId: creator.user.id, access: 'ticket' },
      ),
    ).toBe(false);
    await ok(sock, 'room:leave', { roomId: room.id });
    expect((await ok(sock, 'room:join', { roomId: room.id })).access).toBe('none');
    expect((await s.api.get('/api/wallet', viewer.token)).body.balance).toBe(1000);
  });
});

describe('the database guards the ledger itself', () => {
  /** One ledger transaction, its entries ([account, amount]) written by one statement per argument. */
  const postEntries = (...statements: [string, number][][]) =>
    s.lectern.database.db.transaction().execute(async (trx) => {
      const t = await trx
        .insertInto('ledger_transactions')
        .values({ kind: 'topup' })
        .returning('id')
        .executeTakeFirstOrThrow();
      for (const entries of statements) {
        await trx
          .insertInto('ledger_entries')
          .values(entries.map(([account_id, amount]) => ({ transaction_id: t.id, account_id, amount })))
          .execute();
      }
    });
  // Accounts without a non-negative check, so only the rule under test can refuse.
  const unchecked = () =>
    s.lectern.database.db
      .selectFrom('accounts')
      .select('id')
      .where('kind', 'in', ['platform_revenue', 'provider'])
      .orderBy('id')
      .execute();

  it('refuses an unbalanced transaction', async () => {
    const [a] = await unchecked();
    await expect(postEntries([[a.id, 5]])).rejects.toThrow(/does not balance/);
  });

  it('refuses an entry that unbalances a transaction balanced by an earlier statement', async () => {
    const [a, b] = await unchecked();
    await expect(
      postEntries(
        [
          [a.id, -5],
          [b.id, 5],
        ],
        [[a.id, 7]],
      ),
    ).rejects.toThrow(/does not balance/);
  });

  it('refuses entries for an account that does not exist, and never deletes an account', async () => {
    await expect(
      postEntries([
        [randomUUID(), -3],
        [randomUUID(), 3],
      ]),
    ).rejects.toThrow(/does not exist/);
    await expect(s.lectern.database.db.deleteFrom('accounts').execute()).rejects.toThrow(/never deleted/);
  });

  it('refuses to edit or delete entries', async () => {
    const { db } = s.lectern.database;
    await expect(db.updateTable('ledger_entries').set({ amount: 1 }).execute()).rejects.toThrow(/append-only/);
    await expect(db.deleteFrom('ledger_entries').execute()).rejects.toThrow(/append-only/);
  });

  it('refuses rows that point at a ledger transaction or purchase that is not there, and never deletes those', async () => {
    const { db } = s.lectern.database;
    const [a, b] = await unchecked();
    const missing = randomUUID();
    const fkey = (constraint: string) => expect.objectContaining({ code: '23503', constraint });
    await expect(
      db
        .insertInto('ledger_entries')
        .values([
          { transaction_id: missing, account_id: a.id, amount: -1 },
          { transaction_id: missing, account_id: b.id, amount: 1 },
        ])
        .execute(),
    ).rejects.toEqual(fkey('ledger_entries_transaction_id_fkey'));
    const creator = (await s.api.register('creator')).user.id;
    await expect(
      db
        .insertInto('earnings_holds')
        .values({ transaction_id: missing, creator_id: creator, currency: 'USD', amount: 1, release_at: new Date() })
        .execute(),
    ).rejects.toEqual(fkey('earnings_holds_transaction_id_fkey'));
    const purchase = await db.selectFrom('purchases').selectAll().limit(1).executeTakeFirstOrThrow();
    const { id: _id, transaction_id: _t, refund_transaction_id: _r, ...copy } = purchase;
    await expect(
      db
        .insertInto('purchases')
        .values({ ...copy, status: 'completed', buyer_id: creator, transaction_id: missing })
        .execute(),
    ).rejects.toEqual(fkey('purchases_transaction_id_fkey'));
    await expect(
      db
        .insertInto('entitlements')
        .values({ user_id: creator, content_id: purchase.content_id, room_id: purchase.room_id, purchase_id: missing })
        .execute(),
    ).rejects.toEqual(fkey('entitlements_purchase_id_fkey'));
    // The references cannot be moved afterwards, nor the rows they point at removed or renamed.
    await expect(
      db.updateTable('purchases').set({ transaction_id: missing }).where('id', '=', purchase.id).execute(),
    ).rejects.toThrow(/never changes/);
    await expect(db.deleteFrom('purchases').where('id', '=', purchase.id).execute()).rejects.toThrow(/never deleted/);
    // In a transaction rolled back whatever happens: without the guard, CASCADE would empty the ledger.
    await expect(
      db.transaction().execute(async (trx) => {
        await sql`TRUNCATE ledger_transactions CASCADE`.execute(trx);
        throw new Error('truncated');
      }),
    ).rejects.toThrow(/never deleted/);
    await expect(
      db.updateTable('ledger_transactions').set({ id: missing }).where('id', '=', purchase.transaction_id).execute(),
    ).rejects.toThrow(/keep their ids/);
  });

  it('and every invariant holds after all of the above', async () => {
    expect(await ledgerInvariants(s.lectern)).toEqual(HEALTHY_LEDGER);
  });
});
