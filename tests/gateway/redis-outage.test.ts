import { ENGAGEMENT_STREAM } from '../../server/events';
import { PrivateRedis } from '../../server/events/testing';
import { startTestServer, type TestServer } from '../helpers/server';
import { closeAllSockets, connect, eventually, next, ok } from '../helpers/socket';

/** Redis going away must not take chat down: local rooms keep working, events wait in a buffer. */
let redis: PrivateRedis;
let s: TestServer;
beforeAll(async () => {
  redis = await PrivateRedis.start();
  s = await startTestServer({ REDIS_URL: redis.url, CHAT_BURST: '50' });
});
afterAll(async () => {
  closeAllSockets();
  await s.close();
  await redis.stop();
});

it('keeps serving rooms while Redis is down, reports it, and flushes events when it returns', async () => {
  const owner = await s.api.register('creator');
  const room = await s.api.room(owner.token);
  await s.api.post(`/api/rooms/${room.id}/start`, {}, owner.token);
  const alice = await s.api.register();
  const a = await connect(s.url, alice.token);
  const b = await connect(s.url, (await s.api.register()).token);
  await ok(a, 'room:join', { roomId: room.id });
  await ok(b, 'room:join', { roomId: room.id });
  expect((await s.api.get('/healthz')).body.status).toBe('ok');

  await redis.stop();
  const heard = next(b, 'chat:message', (m) => m.text === 'still here');
  await ok(a, 'chat:send', { roomId: room.id, text: 'still here' });
  expect((await heard).user.id).toBe(alice.user.id);
  await eventually(
    async () => {
      const health = await s.api.get('/healthz');
      return health.status === 200 && health.body.status === 'degraded' && health.body.checks.redis.ok === false;
    },
    15_000,
    'health reports the degradation',
  );
  for (let i = 0; i < 5; i++) await ok(a, 'chat:send', { roomId: room.id, text: `during the outage ${i}` });
  await eventually(() => s.lectern.engagement.health().status === 'degraded', 15_000, 'publisher degraded');
  expect(s.lectern.engagement.health().buffered).toBeGreaterThan(0);

  await redis.start();
  await eventually(
    () => s.lectern.engagement.health().status === 'ok' && s.lectern.engagement.health().buffered === 0,
    20_000,
    'buffer flushed',
  );
  const recorded = (await s.lectern.engagement.log.range(ENGAGEMENT_STREAM)).filter(
    (e) => e.event?.type === 'chat.sent' && e.event.roomId === room.id,
  );
  expect(recorded.length).toBeGreaterThanOrEqual(6);
  expect(s.lectern.engagement.health().dropped).toBe(0);
  await eventually(async () => (await s.api.get('/healthz')).body.status === 'ok', 15_000, 'healthy again');
  const after = next(b, 'chat:message', (m) => m.text === 'back to normal');
  await ok(a, 'chat:send', { roomId: room.id, text: 'back to normal' });
  await after;
});
