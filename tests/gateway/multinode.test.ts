import { randomBytes, randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { io } from 'socket.io-client';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { TEST_REDIS_URL } from '../helpers/env';
import { type ServerProcess, spawnServer } from '../helpers/process';
import { Api, TEST_JWT_SECRET } from '../helpers/server';
import {
  type ClientSocket,
  closeAllSockets,
  connect,
  eventually,
  next,
  ok,
  record,
  refused,
  send,
  sleep,
} from '../helpers/socket';

/**
 * Two gateway processes share Postgres and Redis (Socket.IO Redis Streams adapter); a client on
 * each sees what happens on the other.
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
    LIKE_BROADCAST_INTERVAL_MS: '100',
    VIEWER_COUNT_INTERVAL_MS: '100',
    MEDIA_ENABLED: 'false',
  };
  nodes = await Promise.all([spawnServer(env), spawnServer(env)]);
}, 90_000);

afterAll(async () => {
  if (process.env.SHOW_NODE_LOGS) for (const n of nodes) console.log(n.output().slice(-5000));
  closeAllSockets();
  await Promise.all(nodes.map((n) => n.stop()));
  await database.drop();
  const redis = new Redis(TEST_REDIS_URL);
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
});

it('chat, likes, tips, viewer counts, access and the end of a room cross between processes', async () => {
  const [A, B] = nodes.map((n) => new Api(n.url));
  expect(nodes[0].url).not.toBe(nodes[1].url);
  expect(nodes[0].output()).toContain('Socket.IO Redis Streams adapter');

  const owner = await A.register('creator');
  const room = await A.room(owner.token, { access: 'ticket', ticketPrice: 300, previewSeconds: 600 });
  await A.post(`/api/rooms/${room.id}/start`, {}, owner.token);
  const alice = await A.register();
  const bob = await B.register();
  await A.topUp(bob.token, 1000);

  const a = await connect(nodes[0].url, alice.token);
  const b = await connect(nodes[1].url, bob.token);
  const o = await connect(nodes[0].url, owner.token);
  const bCounts = record(b, 'viewers:count');
  const aCounts = record(a, 'viewers:count');
  const aLikes = record(a, 'like:count');
  const bLikes = record(b, 'like:count');
  await ok(o, 'room:join', { roomId: room.id });
  expect((await ok(a, 'room:join', { roomId: room.id })).access).toBe('preview');
  expect((await ok(b, 'room:join', { roomId: room.id })).access).toBe('preview');

  // Viewer counts add up across nodes (the owner is not a viewer).
  await eventually(
    () => aCounts.at(-1)?.count === 2 && bCounts.at(-1)?.count === 2,
    10_000,
    `both see 2 viewers: ${JSON.stringify([aCounts, bCounts])}`,
  );

  // Chat both ways.
  const atB = next(b, 'chat:message', (m) => m.text === 'from node A');
  await ok(a, 'chat:send', { roomId: room.id, text: 'from node A' });
  expect((await atB).text).toBe('from node A');
  const atA = next(a, 'chat:message', (m) => m.text === 'from node B');
  await ok(b, 'chat:send', { roomId: room.id, text: 'from node B' });
  expect((await atA).text).toBe('from node B');

  // Likes from both nodes add up to one total seen everywhere.
  await ok(a, 'like:send', { roomId: room.id, count: 7 });
  await ok(b, 'like:send', { roomId: room.id, count: 5 });
  await eventually(
    () => aLikes.at(-1)?.total === 12 && bLikes.at(-1)?.total === 12,
    10_000,
    `likes total 12: ${JSON.stringify([aLikes, bLikes])}`,
  );

  // A purchase on node B upgrades Bob at once; a tip on B reaches A.
  const upgraded = next(b, 'access:changed');
  await ok(b, 'purchase:create', { roomId: room.id, idempotencyKey: randomUUID() });
  expect(await upgraded).toEqual({ roomId: room.id, access: 'full' });
  const tipAtA = next(a, 'tip:new');
  await ok(b, 'tip:send', { roomId: room.id, amount: 200, message: 'across', idempotencyKey: randomUUID() });
  expect(await tipAtA).toMatchObject({ amount: 200, message: 'across', user: { id: bob.user.id } });

  // An HTTP purchase on node A upgrades a viewer connected to node B.
  const carol = await B.register();
  await A.topUp(carol.token, 500);
  const c = await connect(nodes[1].url, carol.token);
  expect((await ok(c, 'room:join', { roomId: room.id })).access).toBe('preview');
  const carolUpgraded = next(c, 'access:changed');
  expect((await A.post('/api/purchases', { roomId: room.id }, carol.token, randomUUID())).status).toBe(201);
  expect(await carolUpgraded).toEqual({ roomId: room.id, access: 'full' });

  // A ban on node A removes the user's connection on node B.
  await ok(o, 'moderation:ban', { roomId: room.id, userId: carol.user.id });
  await eventually(
    async () => {
      const res = await send(c, 'chat:send', { roomId: room.id, text: 'x' });
      return !res.ok && res.error.code === 'FORBIDDEN';
    },
    10_000,
    'carol kicked',
  );

  // Ending the room on node A reaches its members there and everyone on node B.
  const endedAtA = next(a, 'room:ended');
  const endedAtB = next(b, 'room:ended');
  await A.post(`/api/rooms/${room.id}/end`, {}, owner.token);
  expect(await endedAtA).toEqual({ roomId: room.id });
  expect(await endedAtB).toEqual({ roomId: room.id });
  expect(await refused(b, 'chat:send', { roomId: room.id, text: 'bye' })).toBe('FORBIDDEN');
});

it('a viewer hears like:count at most once per interval, however many nodes take taps', async () => {
  const [A, B] = nodes.map((n) => new Api(n.url));
  const owner = await A.register('creator');
  const room = await A.room(owner.token);
  await A.post(`/api/rooms/${room.id}/start`, {}, owner.token);
  const a = await connect(nodes[0].url, (await A.register()).token);
  const b = await connect(nodes[1].url, (await B.register()).token);
  await ok(a, 'room:join', { roomId: room.id });
  await ok(b, 'room:join', { roomId: room.id });
  const heardA = record(a, 'like:count');
  const heardB = record(b, 'like:count');
  const started = Date.now();
  for (let i = 0; i < 15; i++) {
    await Promise.all([
      ok(a, 'like:send', { roomId: room.id, count: 1 }),
      ok(b, 'like:send', { roomId: room.id, count: 1 }),
    ]);
    await sleep(50);
  }
  await eventually(
    () => heardA.at(-1)?.total === 30 && heardB.at(-1)?.total === 30,
    10_000,
    `both see 30: ${JSON.stringify([heardA, heardB])}`,
  );
  // LIKE_BROADCAST_INTERVAL_MS is 100: one message per interval that passed, plus the last one.
  const intervals = Math.ceil((Date.now() - started) / 100) + 1;
  expect(heardA.length).toBeLessThanOrEqual(intervals);
  expect(heardB.length).toBeLessThanOrEqual(intervals);
  for (const heard of [heardA, heardB]) {
    expect(heard.map((c) => c.total)).toEqual([...heard.map((c) => c.total)].sort((x, y) => x - y));
  }
});

it('a connection that was away when the room ended on another node hears room:ended on return', async () => {
  const [A, B] = nodes.map((n) => new Api(n.url));
  const owner = await A.register('creator');
  const room = await A.room(owner.token);
  await A.post(`/api/rooms/${room.id}/start`, {}, owner.token);
  const o = await connect(nodes[0].url, owner.token);
  const counts = record(o, 'viewers:count');
  await ok(o, 'room:join', { roomId: room.id });
  const viewer = await B.register();
  const sock: ClientSocket = io(nodes[1].url, {
    auth: { token: viewer.token },
    transports: ['websocket'],
    forceNew: true,
  });
  try {
    await new Promise((r) => sock.once('connect', () => r(undefined)));
    await ok(sock, 'room:join', { roomId: room.id });
    // Recovery resumes after the last broadcast received: make sure there is one.
    const heard = next(sock, 'chat:message');
    await ok(o, 'chat:send', { roomId: room.id, text: 'mark' });
    await heard;
    await eventually(() => counts.at(-1)?.count === 1, 10_000, 'one viewer');
    sock.io.reconnection(false);
    (sock.io as any).engine.close();
    await eventually(() => counts.at(-1)?.count === 0, 10_000, 'node B saw the drop');
    expect((await A.post(`/api/rooms/${room.id}/end`, {}, owner.token)).status).toBe(200);
    const ended = record(sock, 'room:ended');
    const left = record(sock, 'room:left');
    sock.io.reconnection(true);
    sock.connect();
    await eventually(() => ended.length > 0 && left.length > 0, 10_000, 'room:ended and room:left');
    expect(sock.recovered).toBe(true);
    expect(ended).toEqual([{ roomId: room.id }]);
    expect(left).toEqual([{ roomId: room.id, reason: 'ended' }]);
  } finally {
    sock.close();
  }
});

it('a connection banned while away on another node resumes without what was said after the ban', async () => {
  const [A, B] = nodes.map((n) => new Api(n.url));
  const owner = await A.register('creator');
  const room = await A.room(owner.token);
  await A.post(`/api/rooms/${room.id}/start`, {}, owner.token);
  const o = await connect(nodes[0].url, owner.token);
  await ok(o, 'room:join', { roomId: room.id });
  const talker = await connect(nodes[0].url, (await A.register()).token);
  await ok(talker, 'room:join', { roomId: room.id });
  const viewer = await B.register();
  const sock: ClientSocket = io(nodes[1].url, {
    auth: { token: viewer.token },
    transports: ['websocket'],
    forceNew: true,
  });
  try {
    await new Promise((r) => sock.once('connect', () => r(undefined)));
    await ok(sock, 'room:join', { roomId: room.id });
    const heard = record(sock, 'chat:message');
    await ok(talker, 'chat:send', { roomId: room.id, text: 'mark' });
    await eventually(() => heard.length > 0, 10_000, 'mark heard');
    const id = sock.id;
    sock.io.reconnection(false);
    (sock.io as any).engine.close();
    await ok(o, 'moderation:ban', { roomId: room.id, userId: viewer.user.id });
    await ok(talker, 'chat:send', { roomId: room.id, text: 'after the ban' });
    await sleep(300); // the broadcast is in the stream, and node B has seen the drop
    const left = record(sock, 'room:left');
    sock.io.reconnection(true);
    sock.connect();
    await eventually(() => left.length > 0, 10_000, 'room:left');
    expect(sock.recovered).toBe(true);
    expect(sock.id).toBe(id);
    expect(heard.map((m) => m.text)).toEqual(['mark']);
  } finally {
    sock.close();
  }
});
