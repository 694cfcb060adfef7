import { randomUUID } from 'node:crypto';
import { type Account, startTestServer, type TestServer } from '../helpers/server';
import { closeAllSockets, connect, ok } from '../helpers/socket';

/** A viewer's order history: every wallet movement with what it was for, newest first, paged. */
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

it('lists top-ups, purchases, tickets, subscriptions, tips and refunds with their titles', async () => {
  const viewer = await s.api.register();
  await s.api.topUp(viewer.token, 10_000);
  const lesson = await s.api.content(creator.token, { title: 'Eigenvalues', price: 900 });
  const bought = await s.api.post('/api/purchases', { contentId: lesson.id }, viewer.token, randomUUID());
  const room = await s.api.room(creator.token, { title: 'Office hours', access: 'ticket', ticketPrice: 300 });
  await s.api.post('/api/purchases', { roomId: room.id }, viewer.token, randomUUID());
  await s.api.post('/api/subscriptions', { creatorId: creator.user.id }, viewer.token, randomUUID());
  await s.api.post(`/api/rooms/${room.id}/start`, {}, creator.token);
  const sock = await connect(s.url, viewer.token);
  await ok(sock, 'room:join', { roomId: room.id });
  await ok(sock, 'tip:send', { roomId: room.id, amount: 200, idempotencyKey: randomUUID() });
  await s.api.post(`/api/admin/purchases/${bought.body.purchase.id}/refund`, {}, admin.token, randomUUID());

  const { body } = await s.api.get('/api/orders', viewer.token);
  expect(body.orders.map((o: any) => [o.kind, o.purchaseKind, o.title, o.amount, o.status])).toEqual([
    ['refund', 'content', 'Eigenvalues', 900, 'refunded'],
    ['tip', null, 'Office hours', -200, 'completed'],
    // Top-ups and subscriptions have no item title: pages name them in their reader's language.
    ['subscription', 'subscription', '', -500, 'completed'],
    ['ticket', 'ticket', 'Office hours', -300, 'completed'],
    ['content', 'content', 'Eigenvalues', -900, 'refunded'],
    ['topup', null, '', 10_000, 'completed'],
  ]);
  expect(body.orders.map((o: any) => [o.contentId, o.roomId])).toEqual([
    [lesson.id, null],
    [null, room.id],
    [null, null],
    [null, room.id],
    [lesson.id, null],
    [null, null],
  ]);
  expect(body.orders[5].reference).toMatch(/^sandbox /);
  expect(body.orders[1].creator).toEqual({ id: creator.user.id, name: creator.user.username });

  const page1 = await s.api.get('/api/orders?limit=2', viewer.token);
  const page2 = await s.api.get(`/api/orders?limit=2&before=${page1.body.orders[1].id}`, viewer.token);
  expect(page2.body.orders.map((o: any) => o.kind)).toEqual(['subscription', 'ticket']);
  expect((await s.api.get('/api/orders')).status).toBe(401);
});
