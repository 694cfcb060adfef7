import { randomUUID } from 'node:crypto';
import { HEALTHY_LEDGER, ledgerInvariants } from '../helpers/ledger';
import { type Account, startTestServer, type TestServer } from '../helpers/server';
import { closeAllSockets, connect, ok, refused, send } from '../helpers/socket';

/**
 * The buyer pays the price they saw (`expectedPrice`), on every paying path; and a retry with
 * the key of a completed operation gets its first answer, whatever changed since.
 */
let s: TestServer;
let creator: Account;
let admin: Account;

beforeAll(async () => {
  s = await startTestServer();
  [creator, admin] = await Promise.all([s.api.register('creator'), s.admin()]);
  await s.api.request('PATCH', '/api/creators/me', { token: creator.token, body: { subscriptionPrice: 500 } });
});
afterEach(closeAllSockets);
afterAll(() => s.close());

async function buyer(amount = 100_000) {
  const a = await s.api.register();
  await s.api.topUp(a.token, amount);
  return a;
}
const wallet = async (a: Account) => (await s.api.get('/api/wallet', a.token)).body.balance as number;
const setPrice = (contentId: string, price: number) =>
  s.api.request('PATCH', `/api/contents/${contentId}`, { token: creator.token, body: { price } });

describe('expectedPrice', () => {
  it('a content bought at the price seen goes through; a changed price is CONFLICT with the price now, nothing moves', async () => {
    const b = await buyer();
    const lesson = await s.api.content(creator.token, { price: 500 });
    await setPrice(lesson.id, 9_000_000);
    const refusedBuy = await s.api.post(
      '/api/purchases',
      { contentId: lesson.id, expectedPrice: 500 },
      b.token,
      randomUUID(),
    );
    expect(refusedBuy.status).toBe(409);
    expect(refusedBuy.body.error).toMatchObject({
      code: 'CONFLICT',
      details: { price: 9_000_000, expectedPrice: 500 },
    });
    expect(await wallet(b)).toBe(100_000);
    await setPrice(lesson.id, 500);
    const bought = await s.api.post(
      '/api/purchases',
      { contentId: lesson.id, expectedPrice: 500 },
      b.token,
      randomUUID(),
    );
    expect(bought.status).toBe(201);
    expect(await wallet(b)).toBe(99_500);
  });

  it('the upgrade price of a course is the price seen, not its list price', async () => {
    const b = await buyer();
    const l1 = await s.api.content(creator.token, { price: 300 });
    const l2 = await s.api.content(creator.token, { price: 400 });
    const course = await s.api.content(creator.token, { kind: 'course', price: 1000, itemIds: [l1.id, l2.id] });
    await s.api.post('/api/purchases', { contentId: l1.id }, b.token, randomUUID());
    const atList = await s.api.post(
      '/api/purchases',
      { contentId: course.id, expectedPrice: 1000 },
      b.token,
      randomUUID(),
    );
    expect(atList.status).toBe(409);
    expect(atList.body.error.details.price).toBe(700);
    const atUpgrade = await s.api.post(
      '/api/purchases',
      { contentId: course.id, expectedPrice: 700 },
      b.token,
      randomUUID(),
    );
    expect(atUpgrade.status).toBe(201);
  });

  it('a ticket and a subscription, over HTTP and the socket', async () => {
    const b = await buyer();
    const room = await s.api.room(creator.token, { access: 'ticket', ticketPrice: 300 });
    expect(
      (await s.api.post('/api/purchases', { roomId: room.id, expectedPrice: 299 }, b.token, randomUUID())).status,
    ).toBe(409);
    const sock = await connect(s.url, b.token);
    expect(
      await refused(sock, 'purchase:create', { roomId: room.id, expectedPrice: 301, idempotencyKey: randomUUID() }),
    ).toBe('CONFLICT');
    await ok(sock, 'purchase:create', { roomId: room.id, expectedPrice: 300, idempotencyKey: randomUUID() });
    expect(
      await refused(sock, 'subscription:create', {
        creatorId: creator.user.id,
        expectedPrice: 400,
        idempotencyKey: randomUUID(),
      }),
    ).toBe('CONFLICT');
    const sub = await s.api.post(
      '/api/subscriptions',
      { creatorId: creator.user.id, expectedPrice: 500 },
      b.token,
      randomUUID(),
    );
    expect(sub.status).toBe(201);
    const lesson = await s.api.content(creator.token, { price: 250 });
    expect(
      await refused(sock, 'purchase:create', {
        contentId: lesson.id,
        expectedPrice: 200,
        idempotencyKey: randomUUID(),
      }),
    ).toBe('CONFLICT');
    expect(await wallet(b)).toBe(100_000 - 300 - 500);
  });

  it('left out, buys at the current price (older clients)', async () => {
    const b = await buyer();
    const lesson = await s.api.content(creator.token, { price: 500 });
    await setPrice(lesson.id, 700);
    expect(
      (await s.api.post('/api/purchases', { contentId: lesson.id }, b.token, randomUUID())).body.purchase.amount,
    ).toBe(700);
  });
});

describe('a retry replays the first answer, whatever changed since', () => {
  async function liveRoom(fields: Record<string, unknown> = { access: 'free' }) {
    const room = await s.api.room(creator.token, fields);
    await s.api.post(`/api/rooms/${room.id}/start`, {}, creator.token);
    return room;
  }

  it('a tip retried after the room ended', async () => {
    const b = await buyer();
    const room = await liveRoom();
    const sock = await connect(s.url, b.token);
    await ok(sock, 'room:join', { roomId: room.id });
    const key = randomUUID();
    const first = await ok(sock, 'tip:send', { roomId: room.id, amount: 200, idempotencyKey: key });
    await s.api.post(`/api/rooms/${room.id}/end`, {}, creator.token);
    const again = await connect(s.url, b.token); // a new connection, not in the room any more
    const replay = await send(again, 'tip:send', { roomId: room.id, amount: 200, idempotencyKey: key });
    expect(replay).toEqual({ ok: true, data: first });
    expect(await wallet(b)).toBe(100_000 - 200);
  });

  it('a tip retried after the tipper was banned', async () => {
    const b = await buyer();
    const room = await liveRoom();
    const sock = await connect(s.url, b.token);
    await ok(sock, 'room:join', { roomId: room.id });
    const key = randomUUID();
    const first = await ok(sock, 'tip:send', { roomId: room.id, amount: 150, idempotencyKey: key });
    const host = await connect(s.url, creator.token);
    await ok(host, 'room:join', { roomId: room.id });
    await ok(host, 'moderation:ban', { roomId: room.id, userId: b.user.id });
    const replay = await send(sock, 'tip:send', { roomId: room.id, amount: 150, idempotencyKey: key });
    expect(replay).toEqual({ ok: true, data: first });
    // A new tip is refused: the ban holds for what did not happen yet.
    expect(await refused(sock, 'tip:send', { roomId: room.id, amount: 150, idempotencyKey: randomUUID() })).not.toBe(
      'OK',
    );
    expect(await wallet(b)).toBe(100_000 - 150);
  });

  it('a purchase retried after a price change, and after a refund, answers as it did', async () => {
    const b = await buyer();
    const lesson = await s.api.content(creator.token, { price: 400 });
    const key = randomUUID();
    const first = await s.api.post('/api/purchases', { contentId: lesson.id, expectedPrice: 400 }, b.token, key);
    await setPrice(lesson.id, 900);
    const afterPrice = await s.api.post('/api/purchases', { contentId: lesson.id, expectedPrice: 400 }, b.token, key);
    expect(afterPrice.status).toBe(201);
    expect(afterPrice.headers.get('idempotent-replayed')).toBe('true');
    expect(afterPrice.body).toEqual(first.body);
    await s.api.post(`/api/admin/purchases/${first.body.purchase.id}/refund`, {}, admin.token, randomUUID());
    const sock = await connect(s.url, b.token);
    const overSocket = await send(sock, 'purchase:create', {
      contentId: lesson.id,
      expectedPrice: 400,
      idempotencyKey: key,
    });
    expect(overSocket).toEqual({ ok: true, data: first.body });
    expect(await wallet(b)).toBe(100_000); // charged once, refunded once
  });

  it('a refusal is replayed too, even once the refusal no longer holds', async () => {
    const b = await buyer(100);
    const lesson = await s.api.content(creator.token, { price: 400 });
    const key = randomUUID();
    const first = await s.api.post('/api/purchases', { contentId: lesson.id }, b.token, key);
    expect(first.body.error.code).toBe('INSUFFICIENT_FUNDS');
    await s.api.topUp(b.token, 1000);
    const again = await s.api.post('/api/purchases', { contentId: lesson.id }, b.token, key);
    expect(again.body.error.code).toBe('INSUFFICIENT_FUNDS');
    expect(await ledgerInvariants(s.lectern)).toEqual(HEALTHY_LEDGER);
  });
});
