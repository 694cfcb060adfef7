import { randomUUID } from 'node:crypto';
import { ENGAGEMENT_STREAM, type WatchHeartbeatEvent } from '../server/events';
import { startTestServer, type TestServer } from './helpers/server';
import { closeAllSockets, connect, next, ok, sleep } from './helpers/socket';

/**
 * Watch time around access changes: the stretch before a change counts at the access it had.
 * Heartbeats are an hour apart here, so every second recorded comes from a join, an access change
 * or a leave, never from a periodic tick.
 */

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer({ WATCH_HEARTBEAT_SECONDS: '3600' });
});
afterAll(async () => {
  closeAllSockets();
  await s.close();
});

async function watched(roomId: string, userId: string): Promise<{ preview: number; full: number }> {
  await s.lectern.engagement.publisher.flush();
  const beats = (await s.lectern.engagement.log.range(ENGAGEMENT_STREAM))
    .map((e) => e.event)
    .filter((e): e is WatchHeartbeatEvent => e?.type === 'watch.heartbeat' && e.roomId === roomId)
    .filter((e) => e.userId === userId);
  const sum = (access: 'preview' | 'full') =>
    beats.filter((b) => b.data.access === access).reduce((n, b) => n + b.data.seconds, 0);
  return { preview: sum('preview'), full: sum('full') };
}

async function ticketRoom(previewSeconds: number) {
  const owner = await s.api.register('creator');
  const room = await s.api.room(owner.token, { access: 'ticket', ticketPrice: 300, previewSeconds });
  await s.api.post(`/api/rooms/${room.id}/start`, {}, owner.token);
  const viewer = await s.api.register();
  await s.api.topUp(viewer.token, 1000);
  return { room, viewer, sock: await connect(s.url, viewer.token) };
}

it('keeps the last stretch of a preview that ends', async () => {
  const { room, viewer, sock } = await ticketRoom(2);
  const ended = next(sock, 'access:changed', (p) => p.roomId === room.id && p.access === 'none');
  const joined = await ok(sock, 'room:join', { roomId: room.id });
  expect(joined.access).toBe('preview');
  await ended;
  await ok(sock, 'room:leave', { roomId: room.id });
  const { preview, full } = await watched(room.id, viewer.user.id);
  // The 2 s of preview, give or take the rounding and the moment the expiry is handled.
  expect(preview).toBeGreaterThanOrEqual(1);
  expect(preview).toBeLessThanOrEqual(3);
  expect(full).toBe(0);
});

it('does not count the time without access before a purchase as watched', async () => {
  const { room, viewer, sock } = await ticketRoom(1);
  const ended = next(sock, 'access:changed', (p) => p.roomId === room.id && p.access === 'none');
  await ok(sock, 'room:join', { roomId: room.id });
  await ended;
  await sleep(3000); // in the room, without access
  const full = next(sock, 'access:changed', (p) => p.roomId === room.id && p.access === 'full');
  const boughtAt = Date.now();
  await ok(sock, 'purchase:create', { roomId: room.id, idempotencyKey: randomUUID() });
  await full;
  await sleep(1200);
  await ok(sock, 'room:leave', { roomId: room.id });
  const withAccess = Math.ceil((Date.now() - boughtAt) / 1000);
  const seconds = await watched(room.id, viewer.user.id);
  expect(seconds.full).toBeGreaterThanOrEqual(1);
  expect(seconds.full).toBeLessThanOrEqual(withAccess); // not the 3 s without access before it
  expect(seconds.preview).toBeLessThanOrEqual(2);
});
