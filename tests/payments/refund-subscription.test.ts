import { randomUUID } from 'node:crypto';
import { HEALTHY_LEDGER, ledgerInvariants } from '../helpers/ledger';
import { type Account, startTestServer, type TestServer } from '../helpers/server';

let s: TestServer;
let creator: Account;
let admin: Account;
beforeAll(async () => {
  s = await startTestServer({ PLATFORM_FEE_BPS: '1500' });
  creator = await s.api.register('creator');
  admin = await s.admin();
});
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

    await refund(second.body.purchase.id);
    await refund(first.body.purchase.id);
    expect(await entitled()).toBe(false);
    const list = await s.api.get('/api/subscriptions', viewer.token);
    expect(list.body.subscriptions[0].status).toBe('expired');
    expect(await balanceOf(viewer.token)).toBe(10_000);
  });
});

describe('the database guards the ledger itself', () => {
  it('refuses an unbalanced transaction at commit', async () => {
    const { db } = s.lectern.database;
    const account = await db
      .selectFrom('accounts')
      .select('id')
      .where('kind', '=', 'platform_revenue')
      .executeTakeFirstOrThrow();
    await expect(
      db.transaction().execute(async (trx) => {
        const t = await trx
          .insertInto('ledger_transactions')
          .values({ kind: 'topup' })
          .returning('id')
          .executeTakeFirstOrThrow();
        await trx
          .insertInto('ledger_entries')
          .values({ transaction_id: t.id, account_id: account.id, amount: 5 })
          .execute();
      }),
    ).rejects.toThrow(/does not balance/);
  });

  it('refuses to edit or delete entries', async () => {
    const { db } = s.lectern.database;
    await expect(db.updateTable('ledger_entries').set({ amount: 1 }).execute()).rejects.toThrow(/append-only/);
    await expect(db.deleteFrom('ledger_entries').execute()).rejects.toThrow(/append-only/);
  });

  it('and every invariant holds after all of the above', async () => {
    expect(await ledgerInvariants(s.lectern)).toEqual(HEALTHY_LEDGER);
  });
});
