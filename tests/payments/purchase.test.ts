import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { HEALTHY_LEDGER, ledgerInvariants } from '../helpers/ledger';
import { type Account, startTestServer, type TestServer } from '../helpers/server';
import { eventually } from '../helpers/socket';

let s: TestServer;
let creator: Account;
beforeAll(async () => {
  s = await startTestServer({ PLATFORM_FEE_BPS: '1000' });
  creator = await s.api.register('creator');
});
afterAll(() => s.close());

const balanceOf = async (token: string) => (await s.api.get('/api/wallet', token)).body.balance as number;
const earnings = async () => (await s.api.get('/api/creators/me/earnings', creator.token)).body;
const buy = (token: string, body: object, key = randomUUID()) => s.api.post('/api/purchases', body, token, key);

/**
 * Holds a buyer's wallet row locked, so that purchases reaching it wait there; `waiters(n)`
 * resolves once n sessions of the database wait on a lock, `release()` lets them through.
 */
async function holdWallet(userId: string) {
  const { db } = s.lectern.database;
  const wallet = await db
    .selectFrom('accounts')
    .select('id')
    .where('kind', '=', 'wallet')
    .where('owner_id', '=', userId)
    .executeTakeFirstOrThrow();
  const waiting = async () =>
    Number(
      (
        await sql<{ n: string }>`
          SELECT count(*) AS n FROM pg_stat_activity
          WHERE datname = current_database() AND wait_event_type = 'Lock'`.execute(db)
      ).rows[0].n,
    );
  let release = () => {};
  let locked = () => {};
  const isLocked = new Promise<void>((resolve) => {
    locked = resolve;
  });
  const blocker = db.transaction().execute(async (trx) => {
    await trx.selectFrom('accounts').select('id').where('id', '=', wallet.id).forUpdate().execute();
    locked();
    await new Promise<void>((resolve) => {
      release = resolve;
    });
  });
  await isLocked;
  return {
    waiters: (n: number, what: string) => eventually(async () => (await waiting()) === n, 10_000, what),
    release: async () => {
      release();
      await blocker;
    },
  };
}

describe('buying content', () => {
  it('moves the price from the wallet, splits it between creator and platform, and grants access', async () => {
    const viewer = await s.api.register();
    await s.api.topUp(viewer.token, 5000);
    const lesson = await s.api.content(creator.token, { price: 1999 });
    const earningsBefore = await earnings();
    expect((await s.api.get(`/api/contents/${lesson.id}`, viewer.token)).body.owned).toBe(false);

    const res = await buy(viewer.token, { contentId: lesson.id });
    expect(res.status).toBe(201);
    expect(res.body.balance).toBe(5000 - 1999);
    expect(res.body.purchase).toMatchObject({
      buyerId: viewer.user.id,
      kind: 'content',
      contentId: lesson.id,
      creatorId: creator.user.id,
      amount: 1999,
      fee: 200, // 10% of 1999 = 199.9, rounded half up
      status: 'completed',
    });
    const after = await earnings();
    expect(after.balance - earningsBefore.balance).toBe(1799);
    expect(after.byKind.content - earningsBefore.byKind.content).toBe(1799);
    expect((await s.api.get(`/api/contents/${lesson.id}`, viewer.token)).body.owned).toBe(true);
    expect((await buy(viewer.token, { contentId: lesson.id })).body.error.code).toBe('CONFLICT');
  });

  it('N parallel purchases from a wallet that affords k give exactly k successes', async () => {
    const viewer = await s.api.register();
    const price = 700;
    const n = 20;
    const k = 7;
    await s.api.topUp(viewer.token, price * k + price - 1); // k, not k+1
    const lessons = await Promise.all(Array.from({ length: n }, () => s.api.content(creator.token, { price })));
    const replies = await Promise.all(lessons.map((l) => buy(viewer.token, { contentId: l.id })));
    const statuses = replies.map((r) => r.status);
    expect(statuses.filter((st) => st === 201)).toHaveLength(k);
    expect(replies.filter((r) => r.status === 402).map((r) => r.body.error.code)).toEqual(
      Array(n - k).fill('INSUFFICIENT_FUNDS'),
    );
    expect(await balanceOf(viewer.token)).toBe(price - 1);
    const owned = await s.api.get('/api/purchases', viewer.token);
    expect(owned.body.purchases).toHaveLength(k);
  });

  it('the same content bought in parallel with different keys is sold once', async () => {
    const viewer = await s.api.register();
    await s.api.topUp(viewer.token, 10_000);
    const lesson = await s.api.content(creator.token, { price: 1000 });
    const replies = await Promise.all(Array.from({ length: 8 }, () => buy(viewer.token, { contentId: lesson.id })));
    expect(replies.filter((r) => r.status === 201)).toHaveLength(1);
    expect(replies.filter((r) => r.status === 409).map((r) => r.body.error.code)).toEqual(Array(7).fill('CONFLICT'));
    expect(await balanceOf(viewer.token)).toBe(9000);
  });

  it('a retried purchase replays the first answer and charges once', async () => {
    const viewer = await s.api.register();
    await s.api.topUp(viewer.token, 3000);
    const lesson = await s.api.content(creator.token, { price: 1000 });
    const key = randomUUID();
    const replies = await Promise.all([1, 2, 3, 4, 5].map(() => buy(viewer.token, { contentId: lesson.id }, key)));
    expect(replies.map((r) => r.status)).toEqual([201, 201, 201, 201, 201]);
    expect(new Set(replies.map((r) => r.body.purchase.id)).size).toBe(1);
    expect(await balanceOf(viewer.token)).toBe(2000);
    const other = await s.api.content(creator.token, { price: 10 });
    expect((await buy(viewer.token, { contentId: other.id }, key)).body.error.code).toBe('CONFLICT');
  });

  it('an insufficient-funds answer is kept for its key; a new key after a top-up succeeds', async () => {
    const viewer = await s.api.register();
    const lesson = await s.api.content(creator.token, { price: 1000 });
    const key = randomUUID();
    expect((await buy(viewer.token, { contentId: lesson.id }, key)).body.error.code).toBe('INSUFFICIENT_FUNDS');
    await s.api.topUp(viewer.token, 1000);
    const replay = await buy(viewer.token, { contentId: lesson.id }, key);
    expect(replay.body.error.code).toBe('INSUFFICIENT_FUNDS');
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect((await buy(viewer.token, { contentId: lesson.id })).status).toBe(201);
  });

  it('a bundle grants its items, and a course in it grants its lessons', async () => {
    const viewer = await s.api.register();
    await s.api.topUp(viewer.token, 10_000);
    const [l1, l2, l3] = await Promise.all([1, 2, 3].map(() => s.api.content(creator.token, { price: 300 })));
    const course = await s.api.content(creator.token, { kind: 'course', price: 500, itemIds: [l1.id, l2.id] });
    const bundle = await s.api.content(creator.token, { kind: 'bundle', price: 900, itemIds: [course.id, l3.id] });
    expect(bundle.itemIds).toEqual([course.id, l3.id]);
    expect((await buy(viewer.token, { contentId: bundle.id })).status).toBe(201);
    for (const c of [bundle, course, l1, l2, l3]) {
      expect((await s.api.get(`/api/contents/${c.id}`, viewer.token)).body.owned).toBe(true);
    }
    // Owned through the bundle: buying an item again is refused.
    expect((await buy(viewer.token, { contentId: l1.id })).body.error.code).toBe('CONFLICT');
    expect(await balanceOf(viewer.token)).toBe(9100);
  });

  it('a bundle and one of its items bought at once (different keys) are not both sold', async () => {
    const viewer = await s.api.register();
    await s.api.topUp(viewer.token, 5000);
    const lesson = await s.api.content(creator.token, { price: 400 });
    const bundle = await s.api.content(creator.token, { kind: 'bundle', price: 1000, itemIds: [lesson.id] });
    // Both purchases are held just before they move money (their wallet row is locked), the
    // bundle first: without a per-buyer lock the lesson's ownership check passes meanwhile.
    const wallet = await holdWallet(viewer.user.id);
    const bundleReply = buy(viewer.token, { contentId: bundle.id });
    await wallet.waiters(1, 'the bundle purchase waits');
    const lessonReply = buy(viewer.token, { contentId: lesson.id });
    await wallet.waiters(2, 'the lesson purchase waits');
    await wallet.release();

    const [b, l] = await Promise.all([bundleReply, lessonReply]);
    expect(b.status).toBe(201);
    expect([l.status, l.body.error?.code]).toEqual([409, 'CONFLICT']);
    expect(await balanceOf(viewer.token)).toBe(4000);
    expect((await s.api.get('/api/purchases', viewer.token)).body.purchases).toHaveLength(1);
    expect(await ledgerInvariants(s.lectern)).toEqual(HEALTHY_LEDGER);
  });

  it('one key used at once by a batched purchase and a single one: the first runs, the second is refused', async () => {
    const viewer = await s.api.register();
    await s.api.topUp(viewer.token, 5000);
    const lesson = await s.api.content(creator.token, { price: 300 });
    const course = await s.api.content(creator.token, {
      kind: 'course',
      price: 700,
      itemIds: [(await s.api.content(creator.token, { price: 500 })).id],
    });
    const wallet = await holdWallet(viewer.user.id);
    // The lesson (a batch) holds the key and the buyer and waits for the wallet; the course (one
    // transaction of its own) must wait for the key, not take it and then wait for the buyer:
    // that would deadlock with the batch, which inserts the key last.
    const key = randomUUID();
    const lessonReply = buy(viewer.token, { contentId: lesson.id }, key);
    await wallet.waiters(1, 'the lesson purchase waits');
    const courseReply = buy(viewer.token, { contentId: course.id }, key);
    await wallet.waiters(2, 'the course purchase waits');
    await wallet.release();

    const [l, c] = await Promise.all([lessonReply, courseReply]);
    expect(l.status).toBe(201);
    expect([c.status, c.body.error?.code]).toEqual([409, 'CONFLICT']);
    expect(await balanceOf(viewer.token)).toBe(4700);
    expect((await s.api.get('/api/purchases', viewer.token)).body.purchases).toHaveLength(1);
    expect(await ledgerInvariants(s.lectern)).toEqual(HEALTHY_LEDGER);
  });

  it('items added to a course later belong to its earlier buyers; items taken out stay theirs', async () => {
    const viewer = await s.api.register();
    await s.api.topUp(viewer.token, 5000);
    const [first, added] = await Promise.all([1, 2].map(() => s.api.content(creator.token, { price: 300 })));
    const course = await s.api.content(creator.token, { kind: 'course', price: 800, itemIds: [first.id] });
    const bundle = await s.api.content(creator.token, { kind: 'bundle', price: 900, itemIds: [course.id] });
    expect((await buy(viewer.token, { contentId: bundle.id })).status).toBe(201);
    const owned = async (id: string) => (await s.api.get(`/api/contents/${id}`, viewer.token)).body.owned;
    expect(await owned(added.id)).toBe(false);

    const patch = (itemIds: string[]) =>
      s.api.request('PATCH', `/api/contents/${course.id}`, { token: creator.token, body: { itemIds } });
    expect((await patch([first.id, added.id])).status).toBe(200);
    expect(await owned(added.id)).toBe(true); // through the course, through the bundle
    expect((await s.lectern.services.payments.ownedContentIds(viewer.user.id)).has(added.id)).toBe(true);
    expect((await buy(viewer.token, { contentId: added.id })).body.error.code).toBe('CONFLICT');

    expect((await patch([added.id])).status).toBe(200);
    expect(await owned(first.id)).toBe(true); // granted at purchase time
    expect(await balanceOf(viewer.token)).toBe(4100);
  });

  it('refuses what cannot be bought, writing nothing', async () => {
    const viewer = await s.api.register();
    await s.api.topUp(viewer.token, 5000);
    const free = await s.api.content(creator.token, { price: 0 });
    const own = await s.api.content(creator.token, { price: 100 });
    await s.api.topUp(creator.token, 1000);
    const archived = await s.api.content(creator.token, { price: 100 });
    expect((await s.api.request('DELETE', `/api/contents/${archived.id}`, { token: creator.token })).status).toBe(204);

    const cases: [object, string, number, string][] = [
      [{ contentId: free.id }, viewer.token, 400, 'INVALID_ARGUMENT'],
      [{ contentId: own.id }, creator.token, 409, 'CONFLICT'],
      [{ contentId: archived.id }, viewer.token, 404, 'NOT_FOUND'],
      [{ contentId: randomUUID() }, viewer.token, 404, 'NOT_FOUND'],
      [{ contentId: 'not-a-uuid' }, viewer.token, 400, 'INVALID_ARGUMENT'],
      [{}, viewer.token, 400, 'INVALID_ARGUMENT'],
      [{ contentId: free.id, roomId: randomUUID() }, viewer.token, 400, 'INVALID_ARGUMENT'],
    ];
    for (const [body, token, status, code] of cases) {
      const res = await buy(token, body);
      expect([JSON.stringify(body), res.status, res.body.error?.code]).toEqual([JSON.stringify(body), status, code]);
    }
    expect(await balanceOf(viewer.token)).toBe(5000);
    expect((await s.api.get('/api/purchases', viewer.token)).body.purchases).toEqual([]);
  });
});

describe('buying a room ticket', () => {
  it('grants the room and is sold once per viewer', async () => {
    const viewer = await s.api.register();
    await s.api.topUp(viewer.token, 5000);
    const room = await s.api.room(creator.token, { access: 'ticket', ticketPrice: 1500, previewSeconds: 60 });
    const entitled = () =>
      s.lectern.services.payments.hasRoomEntitlement(
        { id: viewer.user.id, role: 'viewer' },
        { id: room.id, ownerId: creator.user.id, access: 'ticket' },
      );
    expect(await entitled()).toBe(false);
    const res = await buy(viewer.token, { roomId: room.id });
    expect(res.status).toBe(201);
    expect(res.body.purchase).toMatchObject({ kind: 'ticket', roomId: room.id, amount: 1500, fee: 150 });
    expect(await entitled()).toBe(true);
    expect((await buy(viewer.token, { roomId: room.id })).body.error.code).toBe('CONFLICT');
  });

  it('refuses a ticket priced in another currency than the wallet', async () => {
    const viewer = await s.api.register();
    await s.api.topUp(viewer.token, 5000);
    const room = await s.api.room(creator.token, { access: 'ticket', ticketPrice: 100 });
    await s.lectern.database.db.updateTable('rooms').set({ currency: 'EUR' }).where('id', '=', room.id).execute();
    const res = await buy(viewer.token, { roomId: room.id });
    expect([res.status, res.body.error.code]).toEqual([400, 'INVALID_ARGUMENT']);
    expect(res.body.error.message).toMatch(/EUR/);
    expect(await balanceOf(viewer.token)).toBe(5000);
  });

  it('refuses tickets to free rooms and ended rooms', async () => {
    const viewer = await s.api.register();
    await s.api.topUp(viewer.token, 5000);
    const free = await s.api.room(creator.token, { access: 'free' });
    expect((await buy(viewer.token, { roomId: free.id })).body.error.code).toBe('INVALID_ARGUMENT');
    const ended = await s.api.room(creator.token, { access: 'ticket', ticketPrice: 100 });
    await s.api.post(`/api/rooms/${ended.id}/end`, {}, creator.token);
    expect((await buy(viewer.token, { roomId: ended.id })).body.error.code).toBe('CONFLICT');
    expect(await balanceOf(viewer.token)).toBe(5000);
  });
});

it('leaves a balanced ledger', async () => {
  expect(await ledgerInvariants(s.lectern)).toEqual(HEALTHY_LEDGER);
});

describe('upgrade pricing', () => {
  it('a course costs its price less what the buyer paid for its lessons, and the page says so', async () => {
    const buyer = await s.api.register();
    await s.api.topUp(buyer.token, 10_000);
    const l1 = await s.api.content(creator.token, { price: 300 });
    const l2 = await s.api.content(creator.token, { price: 400 });
    const course = await s.api.content(creator.token, { kind: 'course', price: 1000, itemIds: [l1.id, l2.id] });
    await s.api.post('/api/purchases', { contentId: l1.id }, buyer.token, randomUUID());
    const page = await s.api.get(`/api/contents/${course.id}`, buyer.token);
    expect(page.body.upgrade).toEqual({ yourPrice: 700, credit: 300, ownedItems: 1, items: 2 });
    const before = (await s.api.get('/api/wallet', buyer.token)).body.balance;
    const bought = await s.api.post('/api/purchases', { contentId: course.id }, buyer.token, randomUUID());
    expect(bought.status).toBe(201);
    expect(bought.body.purchase.amount).toBe(700);
    expect(bought.body.balance).toBe(before - 700);
  });

  it('refuses a bundle whose items the buyer all owns, saying why', async () => {
    const buyer = await s.api.register();
    await s.api.topUp(buyer.token, 10_000);
    const l1 = await s.api.content(creator.token, { price: 300 });
    const bundle = await s.api.content(creator.token, { kind: 'bundle', price: 250, itemIds: [l1.id] });
    await s.api.post('/api/purchases', { contentId: l1.id }, buyer.token, randomUUID());
    const res = await s.api.post('/api/purchases', { contentId: bundle.id }, buyer.token, randomUUID());
    expect(res.status).toBe(409);
    expect(res.body.error.message).toMatch(/already own everything/);
  });
});

it('lists what a viewer owns, course items included, for the pages to show as owned', async () => {
  const buyer = await s.api.register();
  await s.api.topUp(buyer.token, 10_000);
  const l1 = await s.api.content(creator.token, { price: 300 });
  const l2 = await s.api.content(creator.token, { price: 400 });
  const course = await s.api.content(creator.token, { kind: 'course', price: 600, itemIds: [l1.id] });
  await s.api.post('/api/purchases', { contentId: course.id }, buyer.token, randomUUID());
  const { body } = await s.api.get('/api/me/owned', buyer.token);
  expect(new Set(body.contentIds)).toEqual(new Set([course.id, l1.id]));
  expect(body.contentIds).not.toContain(l2.id);
});
