import { randomBytes } from 'node:crypto';
import { PrivateRedis } from '../../server/events/testing';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { type ServerProcess, spawnServer } from '../helpers/process';
import { Api, TEST_JWT_SECRET } from '../helpers/server';
import { closeAllSockets, connect, eventually, next, ok, send } from '../helpers/socket';

/**
 * Two server processes share a Redis of their own (the Socket.IO adapter between them), and
 * that Redis is stopped and started again — empty, as after a crash without persistence. Chat
 * within each node keeps working while it is down; across nodes it works again once it is back.
 */
let redis: PrivateRedis;
let database: TestDatabase;
let nodes: ServerProcess[];

beforeAll(async () => {
  redis = await PrivateRedis.start();
  database = await createTestDatabase();
  const env = {
    DATABASE_URL: database.url,
    REDIS_URL: redis.url,
    REDIS_KEY_PREFIX: `lectern-fault-${randomBytes(4).toString('hex')}:`,
    JWT_SECRET: TEST_JWT_SECRET,
    MIGRATE_ON_START: 'false',
    PORT: '0',
    MEDIA_ENABLED: 'false',
    RECOMMENDER_ENABLED: 'false',
    CHAT_BURST: '100',
    CHAT_MESSAGES_PER_SECOND: '100',
  };
  nodes = await Promise.all([spawnServer(env), spawnServer(env)]);
}, 120_000);
afterAll(async () => {
  closeAllSockets();
  await Promise.all(nodes.map((n) => n.stop()));
  await redis.stop();
  await database.drop();
});

it('Redis restarted under two nodes: chat within a node never stops, across nodes it comes back', async () => {
  const [A, B] = nodes.map((n) => new Api(n.url));
  const owner = await A.register('creator');
  const room = await A.room(owner.token);
  await A.post(`/api/rooms/${room.id}/start`, {}, owner.token);
  const [a1, a2] = await Promise.all(
    [A.register(), A.register()].map(async (u) => connect(nodes[0].url, (await u).token)),
  );
  const b1 = await connect(nodes[1].url, (await B.register()).token);
  for (const sock of [a1, a2, b1]) await ok(sock, 'room:join', { roomId: room.id });
  const across = next(b1, 'chat:message', (m) => m.text === 'before');
  await ok(a1, 'chat:send', { roomId: room.id, text: 'before' });
  await across;

  await redis.stop();
  for (let i = 0; i < 5; i++) {
    const heard = next(a2, 'chat:message', (m) => m.text === `down ${i}`);
    await ok(a1, 'chat:send', { roomId: room.id, text: `down ${i}` });
    await heard;
  }

  await redis.start();
  // Across nodes again: both ways (each node's reading loop reconnects by itself).
  let n = 0;
  await eventually(
    async () => {
      const text = `back ${n++}`;
      const heard = next(b1, 'chat:message', (m) => m.text === text, 1000).then(
        () => true,
        () => false,
      );
      await send(a1, 'chat:send', { roomId: room.id, text });
      return heard;
    },
    30_000,
    'A to B after the restart',
  );
  const toA = next(a1, 'chat:message', (m) => m.text === 'from B');
  await ok(b1, 'chat:send', { roomId: room.id, text: 'from B' });
  await toA;
  expect(nodes.every((node) => node.child.exitCode === null)).toBe(true);
});
