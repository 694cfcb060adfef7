import { type Account, startTestServer, type TestServer } from '../helpers/server';
import { closeAllSockets, connect, next, ok, record, refused, sleep } from '../helpers/socket';

/**
 * The free preview of a paid room is of the stream: a viewer who opens the room before it goes
 * live keeps theirs until it does, and gets it from then.
 */
let s: TestServer;
let owner: Account;
beforeAll(async () => {
  s = await startTestServer();
  owner = await s.api.register('creator');
  await s.api.request('PATCH', '/api/creators/me', { token: owner.token, body: { subscriptionPrice: 500 } });
});
afterEach(closeAllSockets);
afterAll(() => s.close());

const inAnHour = () => new Date(Date.now() + 3600_000).toISOString();
const previewsOf = (roomId: string) =>
  s.lectern.database.db.selectFrom('room_previews').select('user_id').where('room_id', '=', roomId).execute();

it('a viewer waiting in a scheduled ticket room gets the preview when it goes live, counted from then', async () => {
  const room = await s.api.room(owner.token, {
    title: 'Later today',
    access: 'ticket',
    ticketPrice: 800,
    previewSeconds: 2,
    scheduledAt: inAnHour(),
  });
  const viewer = await s.api.register();
  const sock = await connect(s.url, viewer.token);
  const joined = await ok(sock, 'room:join', { roomId: room.id });
  const joinedAt = Date.now();
  // Before the stream there is nothing to preview: no access yet, and no preview used.
  expect(joined.access).toBe('none');
  expect(joined.previewEndsAt).toBeUndefined();
  expect(await refused(sock, 'chat:send', { roomId: room.id, text: 'early bird' })).toBe('PAYMENT_REQUIRED');
  expect(await previewsOf(room.id)).toEqual([]);

  // Longer than the whole preview: had it started at the join, it would be over.
  await sleep(2500);
  expect(await previewsOf(room.id)).toEqual([]);
  const changes = record(sock, 'access:changed');
  const gotPreview = next(sock, 'access:changed');
  expect((await s.api.post(`/api/rooms/${room.id}/start`, {}, owner.token)).status).toBe(200);
  const preview = await gotPreview;
  expect(preview).toEqual({ roomId: room.id, access: 'preview', previewEndsAt: expect.any(String) });
  const endsAt = Date.parse(preview.previewEndsAt!);
  expect(endsAt - joinedAt).toBeGreaterThan(2500);
  await ok(sock, 'chat:send', { roomId: room.id, text: 'now I can talk' });

  // Coming back during the preview: the same one, not a new one.
  await ok(sock, 'room:leave', { roomId: room.id });
  const rejoined = await ok(sock, 'room:join', { roomId: room.id });
  expect(rejoined).toMatchObject({ access: 'preview', previewEndsAt: preview.previewEndsAt });

  // It runs out two seconds after going live, and stays used.
  expect(await next(sock, 'access:changed', (p) => p.access === 'none', 5000)).toEqual({
    roomId: room.id,
    access: 'none',
  });
  expect(Date.now()).toBeGreaterThanOrEqual(endsAt - 50);
  await ok(sock, 'room:leave', { roomId: room.id });
  expect((await ok(sock, 'room:join', { roomId: room.id })).access).toBe('none');
  expect(changes.map((c) => c.access)).toEqual(['preview', 'none']);
});

it('only members without full access are decided again; guests and ticket holders keep theirs', async () => {
  const room = await s.api.room(owner.token, {
    title: 'Members',
    access: 'ticket',
    ticketPrice: 300,
    previewSeconds: 600,
    scheduledAt: inAnHour(),
  });
  const holder = await s.api.register();
  await s.api.topUp(holder.token, 1000);
  const waiting = await s.api.register();
  const [h, w, g, o] = await Promise.all([
    connect(s.url, holder.token),
    connect(s.url, waiting.token),
    connect(s.url),
    connect(s.url, owner.token),
  ]);
  await ok(h, 'room:join', { roomId: room.id });
  // Tickets are sold before the stream too: the holder has full access already.
  await ok(h, 'purchase:create', { roomId: room.id, idempotencyKey: `ticket-${holder.user.id}` });
  expect((await ok(w, 'room:join', { roomId: room.id })).access).toBe('none');
  expect((await ok(g, 'room:join', { roomId: room.id })).access).toBe('none');
  expect((await ok(o, 'room:join', { roomId: room.id })).access).toBe('full');
  const seen = { h: record(h, 'access:changed'), g: record(g, 'access:changed'), o: record(o, 'access:changed') };
  const waited = next(w, 'access:changed');
  await s.api.post(`/api/rooms/${room.id}/start`, {}, owner.token);
  expect((await waited).access).toBe('preview');
  // Whoever else is in the room hears nothing new (a ping-pong proves the server had its say).
  await ok(g, 'room:leave', { roomId: room.id });
  expect(seen.h.filter((c) => c.access !== 'full')).toEqual([]);
  expect(seen.g).toEqual([]);
  expect(seen.o).toEqual([]);
  expect((await previewsOf(room.id)).map((p) => p.user_id)).toEqual([waiting.user.id]);
});

it('a subscribers room with a preview does the same', async () => {
  const room = await s.api.room(owner.token, {
    title: 'For subscribers',
    access: 'subscribers',
    previewSeconds: 300,
    scheduledAt: inAnHour(),
  });
  const viewer = await s.api.register();
  const sock = await connect(s.url, viewer.token);
  expect((await ok(sock, 'room:join', { roomId: room.id })).access).toBe('none');
  const changed = next(sock, 'access:changed');
  await s.api.post(`/api/rooms/${room.id}/start`, {}, owner.token);
  const preview = await changed;
  expect(preview.access).toBe('preview');
  const left = Date.parse(preview.previewEndsAt!) - Date.now();
  expect(left).toBeGreaterThan(290_000);
  expect(left).toBeLessThanOrEqual(300_000);
});
