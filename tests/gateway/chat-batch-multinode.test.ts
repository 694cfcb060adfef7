import { randomBytes, randomUUID } from 'node:crypto';
import type { ChatMessage, SaleNotice, Tip } from '../../protocol';
import { deleteRedisKeys } from '../analytics/drain';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { TEST_REDIS_URL } from '../helpers/env';
import { type ServerProcess, spawnServer } from '../helpers/process';
import { Api, TEST_JWT_SECRET } from '../helpers/server';
import { closeAllSockets, connect, eventually, ok, record } from '../helpers/socket';

/**
 * Batched chat and sales across gateway processes (Socket.IO Redis Streams adapter): each node
 * decides which of its own connections take `chat:batch` and which `chat:message`, for messages
 * sent through any node; a creator's connections on any node hear every sale made through any;
 * viewers on any node hear a gift storm's every tip, listed or (those that asked) summed.
 */
let database: TestDatabase;
let nodes: ServerProcess[];
const prefix = `lectern-test-${randomBytes(4).toString('hex')}:`;

beforeAll(async () => {
  database = await createTestDatabase();
  const env = {
    DATABASE_URL: database.url,
    REDIS_URL: TEST_REDIS_URL,
    REDIS_KEY_PREFIX: prefix,
    JWT_SECRET: TEST_JWT_SECRET,
    MIGRATE_ON_START: 'false',
    PORT: '0',
    MEDIA_ENABLED: 'false',
    RECOMMENDER_ENABLED: 'false',
    CHAT_BURST: '50',
    CHAT_MESSAGES_PER_SECOND: '50',
  };
  nodes = await Promise.all([spawnServer(env), spawnServer(env)]);
}, 90_000);

afterAll(async () => {
  closeAllSockets();
  await Promise.all(nodes.map((n) => n.stop()));
  await database.drop();
  await deleteRedisKeys(prefix);
});

it('plain and batching viewers on either node get every message, once, each in their own event', async () => {
  const [A, B] = nodes.map((n) => new Api(n.url));
  const owner = await A.register('creator');
  const room = await A.room(owner.token);
  await A.post(`/api/rooms/${room.id}/start`, {}, owner.token);

  const viewers = await Promise.all(
    nodes.flatMap((node) =>
      [false, true].map(async (batched) => {
        const token = (await A.register()).token;
        const sock = await connect(node.url, token, batched ? { capabilities: ['chat:batch'] } : {});
        await ok(sock, 'room:join', { roomId: room.id });
        const heard: ChatMessage[] = [];
        const singles = record(sock, 'chat:message');
        let batches = 0;
        sock.on('chat:batch', (p) => {
          batches++;
          heard.push(...p.messages);
        });
        return { batched, singles, heard, batches: () => batches };
      }),
    ),
  );
  const talkers = await Promise.all(
    [A, B].map(async (api, i) => {
      const sock = await connect(nodes[i].url, (await api.register()).token);
      await ok(sock, 'room:join', { roomId: room.id });
      return sock;
    }),
  );
  const sent = await Promise.all(
    Array.from({ length: 20 }, (_, i) => ok(talkers[i % 2], 'chat:send', { roomId: room.id, text: `m${i}` })),
  );
  const ids = new Set(sent.map((r) => r.message.id));
  const got = (v: (typeof viewers)[number]) => (v.batched ? v.heard : v.singles);
  await eventually(() => viewers.every((v) => got(v).length === 20), 10_000, 'every message everywhere');
  for (const v of viewers) {
    expect(new Set(got(v).map((m) => m.id))).toEqual(ids);
    if (v.batched) {
      expect(v.singles).toEqual([]);
      expect(v.batches()).toBeGreaterThan(0);
    } else {
      expect(v.heard).toEqual([]);
    }
  }
  // Messages sent through one node reach every viewer in the same order (the one it sent them in).
  for (const node of [0, 1]) {
    const through = (v: (typeof viewers)[number]) =>
      got(v)
        .filter((m) => Number(m.text.slice(1)) % 2 === node)
        .map((m) => m.id);
    for (const v of viewers) expect(through(v)).toEqual(through(viewers[0]));
  }
});

it("a creator's plain and batching connections on either node hear every sale, once, each in their own event", async () => {
  const [A] = nodes.map((n) => new Api(n.url));
  const creator = await A.register('creator');
  const buyer = await A.register();
  await A.topUp(buyer.token, 10_000);
  const lessons = await Promise.all(Array.from({ length: 30 }, () => A.content(creator.token, { price: 100 })));
  const studios = await Promise.all(
    nodes.flatMap((node) =>
      [false, true].map(async (batched) => {
        const sock = await connect(node.url, creator.token, batched ? { capabilities: ['sale:batch'] } : {});
        const heard: SaleNotice[] = [];
        sock.on('sale:new', (sale) => heard.push(sale));
        let batches = 0;
        sock.on('sale:batch', (p) => {
          batches++;
          heard.push(...p.sales);
        });
        return { batched, heard, batches: () => batches };
      }),
    ),
  );
  // Sold through both nodes at once.
  const sold = await Promise.all(
    lessons.map((lesson, i) =>
      new Api(nodes[i % 2].url).post('/api/purchases', { contentId: lesson.id }, buyer.token, randomUUID()),
    ),
  );
  const ids = new Set(sold.map((r) => r.body.purchase.id));
  expect(ids.size).toBe(30);
  await eventually(() => studios.every((v) => v.heard.length >= 30), 10_000, 'every sale everywhere');
  await new Promise((r) => setTimeout(r, 200)); // nothing more comes
  for (const v of studios) {
    expect(v.heard.map((sale) => sale.id).sort()).toEqual([...ids].sort());
    if (!v.batched) expect(v.batches()).toBe(0);
  }
});

it('in a gift storm through one node, plain viewers on either node hear every tip; summing ones every cent', async () => {
  const [A] = nodes.map((n) => new Api(n.url));
  const owner = await A.register('creator');
  const room = await A.room(owner.token);
  await A.post(`/api/rooms/${room.id}/start`, {}, owner.token);
  // Node A, where the tips are sent, holds no plain viewer: its full list must still reach B's.
  const viewers = await Promise.all(
    (
      [
        [nodes[0], true],
        [nodes[1], false],
        [nodes[1], true],
      ] as const
    ).map(async ([node, summing]) => {
      const sock = await connect(
        node.url,
        (await A.register()).token,
        summing ? { capabilities: ['tip:summary'] } : {},
      );
      await ok(sock, 'room:join', { roomId: room.id });
      const heard = { tips: [] as Tip[], summedCount: 0, summedAmount: 0 };
      sock.on('tip:new', (tip) => heard.tips.push(tip));
      sock.on('tip:batch', (p) => {
        heard.tips.push(...p.tips);
        heard.summedCount += p.more?.count ?? 0;
        heard.summedAmount += p.more?.amount ?? 0;
      });
      return { summing, heard };
    }),
  );
  const fans = await Promise.all(
    Array.from({ length: 8 }, async () => {
      const fan = await A.register();
      await A.topUp(fan.token, 10_000);
      const sock = await connect(nodes[0].url, fan.token, { capabilities: ['tip:summary'] });
      await ok(sock, 'room:join', { roomId: room.id });
      return sock;
    }),
  );
  const sent = await Promise.all(
    fans.flatMap((sock, i) =>
      Array.from({ length: 20 }, (_, j) =>
        ok(sock, 'tip:send', { roomId: room.id, amount: 1 + ((i + j) % 5), idempotencyKey: randomUUID() }),
      ),
    ),
  );
  const total = sent.reduce((n, r) => n + r.tip.amount, 0);
  const count = (v: (typeof viewers)[number]) => v.heard.tips.length + v.heard.summedCount;
  await eventually(() => viewers.every((v) => count(v) >= sent.length), 10_000, 'every tip everywhere');
  await new Promise((r) => setTimeout(r, 200)); // nothing more comes
  for (const { summing, heard } of viewers) {
    expect(heard.tips.length + heard.summedCount).toBe(sent.length);
    expect(heard.tips.reduce((n, t) => n + t.amount, 0) + heard.summedAmount).toBe(total);
    if (!summing) expect(heard.tips.map((t) => t.id).sort()).toEqual(sent.map((r) => r.tip.id).sort());
  }
});
