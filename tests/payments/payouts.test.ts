import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { HEALTHY_LEDGER, ledgerInvariants } from '../helpers/ledger';
import { type Account, startTestServer, type TestServer } from '../helpers/server';

/**
 * Earnings on their way out: held, released, paid out through the sandbox provider, returned
 * when a payout fails, and what a refund does after a payout. Fee 10%: a 1,000 sale earns 900.
 */
let s: TestServer;
let admin: Account;
let buyer: Account;

beforeAll(async () => {
  s = await startTestServer({
    PAYOUT_HOLD_HOURS: '24',
    PAYOUT_MIN_AMOUNT: '500',
    PAYOUT_DAILY_CAP: '5000',
    SANDBOX_PAYOUT_DELAY_MS: '100',
    // Settled by hand (settleNow) so the tests see each state.
    PAYOUT_SETTLE_INTERVAL_MS: '3600000',
    EARNINGS_RELEASE_INTERVAL_MS: '3600000',
  });
  admin = await s.admin();
  buyer = await s.api.register();
  await s.api.topUp(buyer.token, 100_000);
});
afterAll(() => s.close());

const earnings = async (creator: Account) => (await s.api.get('/api/earnings', creator.token)).body;
const payout = (creator: Account, body: unknown, key = randomUUID()) =>
  s.api.post('/api/payouts', body, creator.token, key);

/** A creator with `sales` sales of 1,000 (900 earned each), optionally past their hold. */
async function creatorWithSales(sales: number, { released = true } = {}) {
  const creator = await s.api.register('creator');
  const purchases: string[] = [];
  for (let i = 0; i < sales; i++) {
    const lesson = await s.api.content(creator.token, { price: 1000 });
    const res = await s.api.post('/api/purchases', { contentId: lesson.id }, buyer.token, randomUUID());
    expect(res.status).toBe(201);
    purchases.push(res.body.purchase.id);
  }
  if (released) await passHolds(creator);
  return { creator, purchases };
}

/** Time passes for the creator's holds (the hold is 24 h in these tests). */
async function passHolds(creator: Account) {
  await sql`UPDATE earnings_holds SET release_at = now() - interval '1 second' WHERE creator_id = ${creator.user.id}`.execute(
    s.lectern.database.db,
  );
}

/**
 * The payout once the sandbox answered: settled again until it is no longer pending. The provider
 * is asked after the request's answer, and settles `SANDBOX_PAYOUT_DELAY_MS` after that, so a fixed
 * wait from the answer raced a busy machine.
 */
async function settled(payoutId: string, creator: Account) {
  const deadline = Date.now() + 10_000;
  for (;;) {
    await new Promise((r) => setTimeout(r, 100)); // the sandbox's transfer time
    await s.lectern.services.payments.settleNow();
    const listed = (await s.api.get('/api/payouts', creator.token)).body.payouts;
    const payout = listed.find((p: { id: string }) => p.id === payoutId);
    if (payout?.status !== 'pending' || Date.now() > deadline) return payout;
  }
}

describe('earnings', () => {
  it('are pending during the hold, then available', async () => {
    const { creator } = await creatorWithSales(2, { released: false });
    expect(await earnings(creator)).toMatchObject({ available: 0, pending: 1800, paidOut: 0, currency: 'USD' });
    expect((await earnings(creator)).nextReleaseAt).toEqual(expect.any(String));
    expect((await payout(creator, { amount: 600 })).body.error.code).toBe('INSUFFICIENT_FUNDS');
    await passHolds(creator);
    expect(await earnings(creator)).toMatchObject({ available: 1800, pending: 0, nextReleaseAt: null });
    expect(await ledgerInvariants(s.lectern)).toEqual(HEALTHY_LEDGER);
  });

  it('are released by the periodic task too, for every creator', async () => {
    const { creator } = await creatorWithSales(1, { released: false });
    await passHolds(creator);
    await s.lectern.services.payments.settleNow();
    const row = await s.lectern.database.db
      .selectFrom('earnings_holds')
      .select('released_transaction_id')
      .where('creator_id', '=', creator.user.id)
      .executeTakeFirstOrThrow();
    expect(row.released_transaction_id).not.toBeNull();
  });

  it('are only for creators', async () => {
    expect((await s.api.get('/api/earnings', buyer.token)).status).toBe(403);
    expect((await s.api.get('/api/earnings')).status).toBe(401);
    expect((await payout(buyer, { amount: 500 })).status).toBe(403);
  });
});

describe('payouts', () => {
  it('pay available earnings through the provider, asynchronously', async () => {
    const { creator } = await creatorWithSales(2);
    const res = await payout(creator, { amount: 1500 });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ payout: { amount: 1500, status: 'pending' }, available: 300 });
    expect(await earnings(creator)).toMatchObject({ available: 300, inFlight: 1500, paidOut: 0 });
    const paid = await settled(res.body.payout.id, creator);
    expect(paid).toMatchObject({ status: 'paid', attempt: 1, settledAt: expect.any(String) });
    expect(await earnings(creator)).toMatchObject({ available: 300, inFlight: 0, paidOut: 1500 });
    expect(await ledgerInvariants(s.lectern)).toEqual(HEALTHY_LEDGER);
  });

  it('pay once per Idempotency-Key, and replay the first answer', async () => {
    const { creator } = await creatorWithSales(1);
    const key = randomUUID();
    const first = await payout(creator, { amount: 600 }, key);
    const again = await payout(creator, { amount: 600 }, key);
    expect(first.status).toBe(201);
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body.payout.id).toBe(first.body.payout.id);
    expect((await payout(creator, { amount: 700 }, key)).status).toBe(409); // same key, other amount
    expect((await s.api.get('/api/payouts', creator.token)).body.payouts).toHaveLength(1);
  });

  it('in parallel beyond the available balance: exactly those that fit', async () => {
    const { creator } = await creatorWithSales(4); // 3,600 available
    const results = await Promise.all(Array.from({ length: 10 }, () => payout(creator, { amount: 1000 })));
    const statuses = results.map((r) => r.status).sort();
    expect(statuses.filter((st) => st === 201)).toHaveLength(3);
    expect(results.filter((r) => r.status !== 201).every((r) => r.body.error.code === 'INSUFFICIENT_FUNDS')).toBe(true);
    expect(await earnings(creator)).toMatchObject({ available: 600, inFlight: 3000 });
    expect(await ledgerInvariants(s.lectern)).toEqual(HEALTHY_LEDGER);
  });

  it('keep to the minimum and the 24-hour cap', async () => {
    const { creator } = await creatorWithSales(7); // 6,300 available
    expect((await payout(creator, { amount: 499 })).body.error.code).toBe('INVALID_ARGUMENT');
    expect((await payout(creator, { amount: 4000 })).status).toBe(201);
    const over = await payout(creator, { amount: 1500 });
    expect(over.status).toBe(409);
    expect(over.body.error.details).toEqual({ dailyCap: 5000, remaining: 1000 });
    expect((await payout(creator, { amount: 1000 })).status).toBe(201);
  });

  it('that fail return the money, and an admin can retry them', async () => {
    const { creator } = await creatorWithSales(2);
    const res = await payout(creator, { amount: 1000, method: 'sandbox_fail' });
    expect(res.body.available).toBe(800);
    const failed = await settled(res.body.payout.id, creator);
    expect(failed).toMatchObject({ status: 'failed', failureReason: expect.any(String) });
    expect(await earnings(creator)).toMatchObject({ available: 1800, inFlight: 0, paidOut: 0 });

    const listed = await s.api.get('/api/admin/payouts?status=failed', admin.token);
    expect(listed.body.payouts.map((p: { id: string }) => p.id)).toContain(res.body.payout.id);
    expect((await s.api.get('/api/admin/payouts', creator.token)).status).toBe(403);

    const retried = await s.api.post(
      `/api/admin/payouts/${res.body.payout.id}/retry`,
      { method: 'bank-account-2' },
      admin.token,
      randomUUID(),
    );
    expect(retried.status).toBe(200);
    expect(retried.body.payout).toMatchObject({ status: 'pending', attempt: 2 });
    expect(await earnings(creator)).toMatchObject({ available: 800, inFlight: 1000 });
    expect(await settled(res.body.payout.id, creator)).toMatchObject({ status: 'paid', attempt: 2 });
    expect(await earnings(creator)).toMatchObject({ available: 800, paidOut: 1000 });
    // A paid payout is not retried.
    const again = await s.api.post(`/api/admin/payouts/${res.body.payout.id}/retry`, {}, admin.token, randomUUID());
    expect(again.status).toBe(409);
    expect(await ledgerInvariants(s.lectern)).toEqual(HEALTHY_LEDGER);
  });

  it('requested just before a crash reach the provider afterwards', async () => {
    const { creator } = await creatorWithSales(1);
    // The request committed (money in clearing) but the node died before asking the provider.
    const res = await payout(creator, { amount: 800 });
    await s.lectern.database.db
      .updateTable('payouts')
      .set({ status: 'requested', provider_reference: null })
      .where('id', '=', res.body.payout.id)
      .execute();
    await s.lectern.services.payments.settleNow();
    expect(await settled(res.body.payout.id, creator)).toMatchObject({ status: 'paid' });
  });
});

describe('refunds and earnings', () => {
  const refund = (purchaseId: string) =>
    s.api.post(`/api/admin/purchases/${purchaseId}/refund`, {}, admin.token, randomUUID());

  it('before the release take the sale back from pending; the hold never becomes available', async () => {
    const { creator, purchases } = await creatorWithSales(2, { released: false });
    expect((await refund(purchases[0])).status).toBe(200);
    expect(await earnings(creator)).toMatchObject({ pending: 900, available: 0 });
    await passHolds(creator);
    expect(await earnings(creator)).toMatchObject({ pending: 0, available: 900, debt: 0 });
    expect(await ledgerInvariants(s.lectern)).toEqual(HEALTHY_LEDGER);
  });

  it('after a payout take what is available, leave a debt, and later earnings repay it first', async () => {
    const { creator, purchases } = await creatorWithSales(2); // 1,800 available
    const out = await payout(creator, { amount: 1500 });
    await settled(out.body.payout.id, creator);
    // Refund both sales: 1,800 to take back, 300 available → 1,500 owed.
    expect((await refund(purchases[0])).status).toBe(200);
    expect((await refund(purchases[1])).status).toBe(200);
    expect(await earnings(creator)).toMatchObject({ available: 0, pending: 0, debt: 1500, paidOut: 1500 });
    // The buyer got everything back.
    expect(await ledgerInvariants(s.lectern)).toEqual(HEALTHY_LEDGER);

    // Two new sales (1,800): 1,500 repays the debt, 300 becomes available.
    const lesson = await s.api.content(creator.token, { price: 1000 });
    const lesson2 = await s.api.content(creator.token, { price: 1000 });
    await s.api.post('/api/purchases', { contentId: lesson.id }, buyer.token, randomUUID());
    await s.api.post('/api/purchases', { contentId: lesson2.id }, buyer.token, randomUUID());
    await passHolds(creator);
    expect(await earnings(creator)).toMatchObject({ available: 300, pending: 0, debt: 0 });
    expect(await ledgerInvariants(s.lectern)).toEqual(HEALTHY_LEDGER);
  });

  it('a failed payout repays a debt before it is available again', async () => {
    const { creator, purchases } = await creatorWithSales(2); // 1,800
    const out = await payout(creator, { amount: 1800, method: 'sandbox_fail' });
    expect((await refund(purchases[0])).status).toBe(200); // 900 owed while the payout is out
    expect(await earnings(creator)).toMatchObject({ available: 0, debt: 900, inFlight: 1800 });
    expect(await settled(out.body.payout.id, creator)).toMatchObject({ status: 'failed' });
    expect(await earnings(creator)).toMatchObject({ available: 900, debt: 0, inFlight: 0 });
    expect(await ledgerInvariants(s.lectern)).toEqual(HEALTHY_LEDGER);
  });
});
