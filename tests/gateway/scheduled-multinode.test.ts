import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { TEST_REDIS_URL } from '../helpers/env';
import { type ServerProcess, spawnServer } from '../helpers/process';
import { Api, TEST_JWT_SECRET } from '../helpers/server';
import { closeAllSockets, connect, eventually, next, ok } from '../helpers/socket';

/**
 * Two gateway processes over one Postgres and Redis: a room that goes live on one node starts the
 * previews of viewers waiting on the other, and either node's room list counts every viewer.
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
    VIEWER_COUNT_INTERVAL_MS: '100',
    MEDIA_ENABLED: 'false',
    RECOMMENDER_ENABLED: 'false',
  };
  nodes = await Promise.all([spawnServer(env), spawnServer(env)]);
}, 90_000);

afterAll(async () => {
  closeAllSockets();
  await Promise.all((nodes ?? []).map((n) => n.stop()));
  await database?.drop();
  const redis = new Redis(TEST_REDIS_URL);
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
});

it('going live on one node starts the preview of a viewer waiting on the other; lists count both nodes', async () => {
  const [A, B] = nodes.map((n) => new Api(n.url));
  const owner = await A.register('creator');
  const room = await A.room(owner.token, {
    access: 'ticket',
    ticketPrice: 300,
    previewSeconds: 600,
    scheduledAt: new Date(Date.now() + 3600_000).toISOString(),
  });
  const [alice, bob] = await Promise.all([A.register(), B.register()]);
  const a = await connect(nodes[0].url, alice.token);
  const b = await connect(nodes[1].url, bob.token);
  expect((await ok(a, 'room:join', { roomId: room.id })).access).toBe('none');
  expect((await ok(b, 'room:join', { roomId: room.id })).access).toBe('none');

  const aPreview = next(a, 'access:changed');
  const bPreview = next(b, 'access:changed');
  expect((await A.post(`/api/rooms/${room.id}/start`, {}, owner.token)).status).toBe(200);
  expect((await aPreview).access).toBe('preview');
  expect((await bPreview).access).toBe('preview');

  const countOn = async (api: Api) =>
    (await api.get('/api/rooms?status=live')).body.rooms.find((r: { id: string }) => r.id === room.id)?.viewerCount;
  // Each node lists both viewers: its own, and the other's through Redis.
  for (const api of [A, B]) await eventually(async () => (await countOn(api)) === 2, 10_000, 'both viewers counted');
  // A node with nobody in the room reads what the others published.
  await ok(a, 'room:leave', { roomId: room.id });
  await eventually(async () => (await countOn(A)) === 1, 10_000, 'the viewer on the other node counted');
  await eventually(async () => (await countOn(B)) === 1, 10_000, 'the viewer who left no longer counted');
});
