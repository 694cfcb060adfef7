import { PrivateRedis } from '../../server/events/testing';
import { startTestServer, type TestServer } from '../helpers/server';
import { eventually, sleep } from '../helpers/socket';

/**
 * While Redis is away, what the gateway tells other nodes (`serverSideEmit`: a room started,
 * updated or ended, a kick, an access re-check) goes nowhere — and must not leave a rejected
 * promise behind: the Socket.IO adapter publishes those without awaiting them, and an unhandled
 * rejection is an error in the log at best and a crashed process at worst.
 */
let redis: PrivateRedis;
let s: TestServer;
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);
beforeAll(async () => {
  redis = await PrivateRedis.start();
  s = await startTestServer({ REDIS_URL: redis.url });
  process.on('unhandledRejection', onUnhandled);
});
afterAll(async () => {
  process.off('unhandledRejection', onUnhandled);
  await s.close();
  await redis.stop();
});

it('telling other nodes while Redis is down leaves no unhandled rejection', async () => {
  const owner = await s.api.register('creator');
  const room = await s.api.room(owner.token);
  await redis.stop();
  await sleep(200); // the client has noticed
  // Going live tells the other nodes (room:invalidate, room:started).
  expect((await s.api.post(`/api/rooms/${room.id}/start`, {}, owner.token)).status).toBe(200);
  s.lectern.gateway.io.serverSideEmit('room:invalidate', { roomId: room.id });
  await sleep(200);
  expect(unhandled.map(String)).toEqual([]);
  // Back to normal before the server closes (its clients reconnect first).
  await redis.start();
  await eventually(async () => (await s.api.get('/healthz')).body.status === 'ok', 15_000, 'healthy again');
});
