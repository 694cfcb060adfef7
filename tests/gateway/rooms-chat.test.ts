import { ENGAGEMENT_STREAM } from '../../server/events';
import { type Account, startTestServer, type TestServer } from '../helpers/server';
import { closeAllSockets, connect, eventually, next, ok, record, refused, send, sleep } from '../helpers/socket';

let s: TestServer;
let owner: Account;
beforeAll(async () => {
  s = await startTestServer({
    CHAT_HISTORY_SIZE: '5',
    VIEWER_COUNT_INTERVAL_MS: '100',
    CHAT_BURST: '50',
    CHAT_MESSAGES_PER_SECOND: '50',
  });
  owner = await s.api.register('creator');
});
afterEach(closeAllSockets);
afterAll(() => s.close());

const liveRoom = async (fields: Record<string, unknown> = {}) => {
  const room = await s.api.room(owner.token, fields);
  await s.api.post(`/api/rooms/${room.id}/start`, {}, owner.token);
  return room;
};

describe('joining a room', () => {
  it('returns the room, viewer count, history, access and role', async () => {
    const room = await liveRoom({ title: 'Algebra live' });
    const viewer = await s.api.register();
    const sock = await connect(s.url, viewer.token);
    const joined = await ok(sock, 'room:join', { roomId: room.id });
    expect(joined.room).toMatchObject({ id: room.id, title: 'Algebra live', status: 'live' });
    expect(joined).toMatchObject({
      access: 'full',
      role: 'viewer',
      history: [],
      questions: [],
      leaderboard: [],
      pinned: [],
      likesTotal: 0,
    });
    expect(joined.viewerCount).toBeGreaterThanOrEqual(1);
    const ownerSock = await connect(s.url, owner.token);
    expect((await ok(ownerSock, 'room:join', { roomId: room.id })).role).toBe('owner');
  });

  it('gives late joiners the last messages, oldest first, bounded', async () => {
    const room = await liveRoom();
    const talker = await connect(s.url, (await s.api.register()).token);
    await ok(talker, 'room:join', { roomId: room.id });
    for (let i = 1; i <= 8; i++) await ok(talker, 'chat:send', { roomId: room.id, text: `line ${i}` });
    const late = await connect(s.url, (await s.api.register()).token);
    const { history } = await ok(late, 'room:join', { roomId: room.id });
    expect(history.map((m) => m.text)).toEqual(['line 4', 'line 5', 'line 6', 'line 7', 'line 8']);
  });

  it('refuses unknown and ended rooms, and bad ids', async () => {
    const sock = await connect(s.url, (await s.api.register()).token);
    expect(await refused(sock, 'room:join', { roomId: '00000000-0000-4000-8000-000000000000' })).toBe('NOT_FOUND');
    expect(await refused(sock, 'room:join', { roomId: 'nope' })).toBe('INVALID_ARGUMENT');
    const room = await liveRoom();
    await s.api.post(`/api/rooms/${room.id}/end`, {}, owner.token);
    expect(await refused(sock, 'room:join', { roomId: room.id })).toBe('CONFLICT');
  });

  it('serialises a connection’s joins: one membership per room, the room cap holds', async () => {
    const room = await liveRoom({ access: 'ticket', ticketPrice: 100, previewSeconds: 60 });
    const viewer = await s.api.register();
    const sock = await connect(s.url, viewer.token);
    const twice = await Promise.all([1, 2, 3].map(() => send(sock, 'room:join', { roomId: room.id })));
    expect(twice.map((r) => r.ok)).toEqual([true, true, true]);
    await s.lectern.engagement.publisher.flush();
    const joined = (await s.lectern.engagement.log.range(ENGAGEMENT_STREAM)).filter(
      (e) => e.event?.type === 'room.joined' && e.event.roomId === room.id && e.event.userId === viewer.user.id,
    );
    expect(joined).toHaveLength(1);

    const rooms = await Promise.all(Array.from({ length: 11 }, () => liveRoom()));
    const replies = await Promise.all(rooms.map((r) => send(sock, 'room:join', { roomId: r.id })));
    // Already in one room: nine more fit.
    expect(replies.filter((r) => r.ok)).toHaveLength(9);
    expect(replies.filter((r) => !r.ok && r.error.code === 'INVALID_ARGUMENT')).toHaveLength(2);
  });

  it('a join still in progress when the room ends leaves no member behind', async () => {
    const room = await liveRoom({ access: 'ticket', ticketPrice: 100, previewSeconds: 60 });
    const viewers = await Promise.all(
      Array.from({ length: 12 }, async () => connect(s.url, (await s.api.register()).token)),
    );
    // Paid-room joins query the database (entitlement, preview): the end lands among them.
    const joins = viewers.map((v) => send(v, 'room:join', { roomId: room.id }));
    const ended = s.api.post(`/api/rooms/${room.id}/end`, {}, owner.token);
    const replies = await Promise.all(joins);
    expect((await ended).status).toBe(200);
    for (const r of replies) if (!r.ok) expect(r.error.code).toBe('CONFLICT');
    expect(s.lectern.gateway.audience.members().filter((m) => m.roomId === room.id)).toEqual([]);
    expect(await refused(viewers[0], 'chat:send', { roomId: room.id, text: 'anyone?' })).toBe('FORBIDDEN');
  });

  it('a join storm reads questions, leaderboard, pins and likes once, and a change shows at once', async () => {
    const room = await liveRoom();
    const asker = await connect(s.url, (await s.api.register()).token);
    await ok(asker, 'room:join', { roomId: room.id });
    // The question's broadcast reads the list too: let it happen before counting the joins' reads.
    const listed = next(asker, 'question:list');
    await ok(asker, 'question:ask', { roomId: room.id, text: 'first question' });
    await listed;
    const lookups = async () => {
      const metric = await s.lectern.metrics.registry.getSingleMetric('lectern_gateway_cache_lookups_total')!.get();
      // A snapshot: prom-client hands out its live value objects.
      const values = metric.values.map((v) => ({ cache: v.labels.cache, outcome: v.labels.outcome, value: v.value }));
      return (cache: string, outcome: string) =>
        values.find((v) => v.cache === cache && v.outcome === outcome)?.value ?? 0;
    };
    const viewers = await Promise.all(
      Array.from({ length: 20 }, async () => connect(s.url, (await s.api.register()).token)),
    );
    const atStart = await lookups();
    const joined = await Promise.all(viewers.map((v) => ok(v, 'room:join', { roomId: room.id })));
    const atEnd = await lookups();
    for (const cache of ['questions', 'leaderboard', 'pinned', 'likes', 'chat_history']) {
      const misses = atEnd(cache, 'miss') - atStart(cache, 'miss');
      const hits = atEnd(cache, 'hit') - atStart(cache, 'hit');
      // One load, or two if the storm outlived the cache's second.
      expect({ cache, misses: misses <= 2, lookups: hits + misses }).toEqual({ cache, misses: true, lookups: 20 });
    }
    expect(joined.every((j) => j.questions.length === 1)).toBe(true);
    // A change made here is seen by the next joiner, not a second later.
    await ok(asker, 'question:ask', { roomId: room.id, text: 'second question' });
    const late = await connect(s.url, (await s.api.register()).token);
    expect((await ok(late, 'room:join', { roomId: room.id })).questions.map((q) => q.text)).toEqual([
      'first question',
      'second question',
    ]);
  });

  it('broadcasts viewer counts as people come and go', async () => {
    const room = await liveRoom();
    const watcher = await connect(s.url, (await s.api.register()).token);
    const counts = record(watcher, 'viewers:count');
    await ok(watcher, 'room:join', { roomId: room.id });
    const others = await Promise.all([1, 2, 3].map(async () => connect(s.url, (await s.api.register()).token)));
    for (const o of others) await ok(o, 'room:join', { roomId: room.id });
    await eventually(() => counts.at(-1)?.count === 4, 5000, 'count 4');
    await ok(others[0], 'room:leave', { roomId: room.id });
    others[1].close();
    await eventually(() => counts.at(-1)?.count === 2, 5000, 'count 2');
    expect(counts.every((c) => c.roomId === room.id)).toBe(true);
  });

  it('ends for everyone when the owner ends it', async () => {
    const room = await liveRoom();
    const a = await connect(s.url, (await s.api.register()).token);
    const b = await connect(s.url);
    await ok(a, 'room:join', { roomId: room.id });
    await ok(b, 'room:join', { roomId: room.id });
    const endedA = next(a, 'room:ended');
    const endedB = next(b, 'room:ended');
    const res = await s.api.post(`/api/rooms/${room.id}/end`, {}, owner.token);
    expect(res.status).toBe(200);
    expect(await endedA).toEqual({ roomId: room.id });
    expect(await endedB).toEqual({ roomId: room.id });
    expect(await refused(a, 'chat:send', { roomId: room.id, text: 'anyone?' })).toBe('FORBIDDEN');
  });
});

describe('chat', () => {
  it('assigns ids and times, broadcasts, and persists before acknowledging', async () => {
    const room = await liveRoom();
    const alice = await s.api.register();
    const a = await connect(s.url, alice.token);
    const b = await connect(s.url, (await s.api.register()).token);
    await ok(a, 'room:join', { roomId: room.id });
    await ok(b, 'room:join', { roomId: room.id });
    const heard = next(b, 'chat:message');
    const before = Date.now();
    const { message } = await ok(a, 'chat:send', { roomId: room.id, text: '  hello, class  ' });
    expect(message).toMatchObject({
      roomId: room.id,
      text: 'hello, class',
      user: { id: alice.user.id, username: alice.user.username },
    });
    expect(message.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(Date.parse(message.sentAt)).toBeGreaterThanOrEqual(before - 1000);
    expect(await heard).toEqual(message);
    const row = await s.lectern.database.db
      .selectFrom('chat_messages')
      .selectAll()
      .where('id', '=', message.id)
      .executeTakeFirst();
    expect(row?.text).toBe('hello, class');
  });

  it('refuses guests, non-members, empty, oversized and control-character messages', async () => {
    const room = await liveRoom();
    const guest = await connect(s.url);
    await ok(guest, 'room:join', { roomId: room.id });
    expect(await refused(guest, 'chat:send', { roomId: room.id, text: 'hi' })).toBe('UNAUTHENTICATED');
    const viewer = await connect(s.url, (await s.api.register()).token);
    expect(await refused(viewer, 'chat:send', { roomId: room.id, text: 'hi' })).toBe('FORBIDDEN');
    await ok(viewer, 'room:join', { roomId: room.id });
    expect(await refused(viewer, 'chat:send', { roomId: room.id, text: '   ' })).toBe('INVALID_ARGUMENT');
    expect(await refused(viewer, 'chat:send', { roomId: room.id, text: 'x'.repeat(501) })).toBe('INVALID_ARGUMENT');
    expect(await refused(viewer, 'chat:send', { roomId: room.id, text: 'bell\u0007' })).toBe('INVALID_ARGUMENT');
    expect(await refused(viewer, 'chat:send', { roomId: room.id, text: 'hi', extra: 1 } as never)).toBe(
      'INVALID_ARGUMENT',
    );
    expect((await ok(viewer, 'chat:send', { roomId: room.id, text: 'x'.repeat(500) })).message.text).toHaveLength(500);
  });

  it('lets authors and moderators delete messages, not other viewers', async () => {
    const room = await liveRoom();
    const a = await connect(s.url, (await s.api.register()).token);
    const b = await connect(s.url, (await s.api.register()).token);
    const o = await connect(s.url, owner.token);
    for (const sock of [a, b, o]) await ok(sock, 'room:join', { roomId: room.id });
    const m1 = (await ok(a, 'chat:send', { roomId: room.id, text: 'one' })).message;
    const m2 = (await ok(a, 'chat:send', { roomId: room.id, text: 'two' })).message;
    expect(await refused(b, 'chat:delete', { roomId: room.id, messageId: m1.id })).toBe('FORBIDDEN');
    const gone = next(b, 'chat:deleted');
    await ok(a, 'chat:delete', { roomId: room.id, messageId: m1.id });
    expect(await gone).toEqual({ roomId: room.id, messageId: m1.id });
    await ok(o, 'chat:delete', { roomId: room.id, messageId: m2.id });
    expect(await refused(o, 'chat:delete', { roomId: room.id, messageId: m2.id })).toBe('NOT_FOUND');
    const late = await connect(s.url, (await s.api.register()).token);
    const { history } = await ok(late, 'room:join', { roomId: room.id });
    expect(history.map((m) => m.id)).not.toEqual(expect.arrayContaining([m1.id]));
    expect(history.map((m) => m.id)).not.toEqual(expect.arrayContaining([m2.id]));
  });
});

describe('a bad client', () => {
  it('gets coded errors for unknown events and wrong shapes, and nothing without an ack', async () => {
    const sock = await connect(s.url, (await s.api.register()).token);
    const res = await (sock.timeout(5000) as any).emitWithAck('admin:format-disk', {});
    expect(res).toMatchObject({ ok: false, error: { code: 'INVALID_ARGUMENT' } });
    expect(await send(sock, 'room:join', 'room' as never)).toMatchObject({
      ok: false,
      error: { code: 'INVALID_ARGUMENT' },
    });
    (sock as any).emit('room:join', { roomId: 'x' }); // no ack: ignored
    await sleep(50);
    expect(sock.connected).toBe(true);
  });
});
