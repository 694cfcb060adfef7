import { randomUUID } from 'node:crypto';
import { type Account, startTestServer, type TestServer } from '../helpers/server';
import { closeAllSockets, connect, next, ok, refused } from '../helpers/socket';

/**
 * Where a sale was made: buying from inside a room says so (`fromRoomId`), and only a buyer who
 * is in that live room of the seller's can say it; the seller hears of every sale (`sale:new`).
 */
let s: TestServer;
let creator: Account;
let buyer: Account;

beforeAll(async () => {
  s = await startTestServer();
  [creator, buyer] = await Promise.all([s.api.register('creator'), s.api.register()]);
  await s.api.topUp(buyer.token, 100_000);
});
afterEach(closeAllSockets);
afterAll(() => s.close());

async function liveRoom(owner = creator) {
  const room = await s.api.room(owner.token, { access: 'free' });
  await s.api.post(`/api/rooms/${room.id}/start`, {}, owner.token);
  return room;
}

it('a purchase from inside a room remembers the room, and the seller hears of it', async () => {
  const room = await liveRoom();
  const lesson = await s.api.content(creator.token, { title: 'Eigenvalues', price: 900 });
  const seller = await connect(s.url, creator.token);
  const sock = await connect(s.url, buyer.token);
  await ok(sock, 'room:join', { roomId: room.id });
  const heard = next(seller, 'sale:new');
  const { purchase } = await ok(sock, 'purchase:create', {
    contentId: lesson.id,
    fromRoomId: room.id,
    idempotencyKey: randomUUID(),
  });
  expect(purchase.fromRoomId).toBe(room.id);
  expect(await heard).toMatchObject({
    id: purchase.id,
    kind: 'content',
    buyer: { id: buyer.user.id, username: buyer.user.username },
    title: 'Eigenvalues',
    amount: 900,
    roomId: room.id,
  });
});

it('a buyer cannot credit a room they are not in', async () => {
  const room = await liveRoom();
  const lesson = await s.api.content(creator.token, { price: 300 });
  const sock = await connect(s.url, buyer.token);
  const code = await refused(sock, 'purchase:create', {
    contentId: lesson.id,
    fromRoomId: room.id,
    idempotencyKey: randomUUID(),
  });
  expect(code).toBe('FORBIDDEN');
});

it('over HTTP, only a live room of the seller can be named', async () => {
  const lesson = await s.api.content(creator.token, { price: 300 });
  const other = await s.api.register('creator');
  const foreign = await liveRoom(other);
  const bad = await s.api.post(
    '/api/purchases',
    { contentId: lesson.id, fromRoomId: foreign.id },
    buyer.token,
    randomUUID(),
  );
  expect(bad.status).toBe(400);
  const mine = await liveRoom();
  const good = await s.api.post(
    '/api/purchases',
    { contentId: lesson.id, fromRoomId: mine.id },
    buyer.token,
    randomUUID(),
  );
  expect(good.status).toBe(201);
  expect(good.body.purchase.fromRoomId).toBe(mine.id);
  const elsewhere = await s.api.post(
    '/api/purchases',
    { contentId: (await s.api.content(creator.token, { price: 300 })).id },
    buyer.token,
    randomUUID(),
  );
  expect(elsewhere.body.purchase.fromRoomId).toBeNull();
});
