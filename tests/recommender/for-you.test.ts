import { randomUUID } from 'node:crypto';
import type { RoomForYou, RoomsForYou } from '../../protocol';
import { analyticsDrained } from '../analytics/drain';
import { type Account, startTestServer, type TestServer } from '../helpers/server';
import { type ClientSocket, closeAllSockets, connect, ok } from '../helpers/socket';

/**
 * "Live now for you" through the real server: `GET /api/rooms/for-you` ranks the rooms live now
 * for the caller from what they really did (joined a creator's earlier room over the socket,
 * subscribed), the gateway's viewer counts and the page's context; an ended room never comes
 * out; guests and new viewers get popularity; the query is validated like every route's.
 */

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
});
afterAll(async () => {
  closeAllSockets();
  await s.close();
});

const forYou = async (query = '', token?: string) => {
  const res = await s.api.get<RoomsForYou>(`/api/rooms/for-you${query}`, token);
  expect(res.status).toBe(200);
  return res.body;
};
const idsOf = (list: RoomForYou[]) => list.map((r) => r.room.id);
/** The order of `ids` in the answer (rooms of other tests may be around them). */
const orderOf = (list: RoomForYou[], ids: string[]) => idsOf(list).filter((id) => ids.includes(id));

async function liveRoom(owner: Account, fields: Record<string, unknown> = {}) {
  const room = await s.api.room(owner.token, fields);
  const started = await s.api.post(`/api/rooms/${room.id}/start`, {}, owner.token);
  expect(started.status).toBe(200);
  return started.body.room as { id: string; title: string; ownerId: string };
}

async function end(owner: Account, roomId: string) {
  expect((await s.api.post(`/api/rooms/${roomId}/end`, {}, owner.token)).status).toBe(200);
}

/** `n` guests watching the room (the gateway's count). */
async function audience(roomId: string, n: number): Promise<ClientSocket[]> {
  const sockets: ClientSocket[] = [];
  for (let i = 0; i < n; i++) {
    const sock = await connect(s.url);
    await ok(sock, 'room:join', { roomId });
    sockets.push(sock);
  }
  return sockets;
}

/** The viewer watches the room live: joins it over the socket, stays a moment, leaves. */
async function watchLive(viewer: Account, roomId: string) {
  const sock = await connect(s.url, viewer.token);
  await ok(sock, 'room:join', { roomId });
  await ok(sock, 'room:leave', { roomId });
  sock.close();
}

describe('GET /api/rooms/for-you', () => {
  it('puts the creator a viewer watched before first, with reason watched_before; ended rooms never appear', async () => {
    const x = await s.api.register('creator');
    const y = await s.api.register('creator');
    const viewer = await s.api.register();
    // Last week: the viewer watched two of X's streams.
    for (const title of ['Monday clinic', 'Wednesday clinic']) {
      const earlier = await liveRoom(x, { title });
      await watchLive(viewer, earlier.id);
      await end(x, earlier.id);
    }
    await analyticsDrained(s.lectern);

    const busy = await liveRoom(y, { title: 'A busy stream' });
    await audience(busy.id, 3);
    const xNow = await liveRoom(x, { title: 'Friday clinic' });
    const ended = await liveRoom(y, { title: 'Over already' });
    await end(y, ended.id);

    const mine = await forYou('', viewer.token);
    expect(orderOf(mine.rooms, [xNow.id, busy.id])).toEqual([xNow.id, busy.id]);
    expect(mine.rooms[0]).toMatchObject({
      room: { id: xNow.id, status: 'live', title: 'Friday clinic', creator: { userId: x.user.id }, viewerCount: 0 },
      reason: { code: 'watched_before', text: expect.stringMatching(/watched this creator/) },
    });
    expect(mine.rooms.find((r) => r.room.id === busy.id)).toMatchObject({
      room: { viewerCount: 3 },
      reason: { code: 'popular_now' },
    });

    // Someone else, and a guest: the busy room first, nothing personal.
    for (const token of [(await s.api.register()).token, undefined]) {
      const theirs = await forYou('', token);
      expect(orderOf(theirs.rooms, [xNow.id, busy.id])).toEqual([busy.id, xNow.id]);
      expect(theirs.rooms.every((r) => r.reason.code === 'popular_now')).toBe(true);
    }

    // No ended room, ever: not the one just ended, not the ones the viewer watched.
    const all = [...mine.rooms, ...mine.upcoming, ...(await forYou('?limit=50')).rooms];
    expect(all.every((r) => r.room.status === 'live' || r.room.status === 'scheduled')).toBe(true);
    expect(idsOf(all)).not.toContain(ended.id);
    // The list item is the one GET /api/rooms gives.
    const listed = (await s.api.get(`/api/rooms?status=live&ownerId=${x.user.id}`)).body.rooms;
    expect(mine.rooms[0].room).toEqual(listed[0]);

    // Ended now: gone at once.
    await end(x, xNow.id);
    expect(idsOf((await forYou('?limit=50', viewer.token)).rooms)).not.toContain(xNow.id);
  });

  it('guests get the busiest rooms first', async () => {
    const creators = await Promise.all([1, 2, 3].map(() => s.api.register('creator')));
    const [one, three, none] = await Promise.all(creators.map((c, i) => liveRoom(c, { title: `Stream ${i}` })));
    await audience(one.id, 1);
    await audience(three.id, 3);
    const answer = await forYou('?limit=50');
    expect(orderOf(answer.rooms, [one.id, three.id, none.id])).toEqual([three.id, one.id, none.id]);
    const three_ = answer.rooms.find((r) => r.room.id === three.id)!;
    expect(three_.reason).toEqual({ code: 'popular_now', text: 'Popular now: 3 watching' });
    expect(three_.score).toBeGreaterThan(answer.rooms.find((r) => r.room.id === one.id)!.score);
    expect(answer.upcoming).toEqual([]);
  });

  it('cold start: a new creator’s first live room appears for a new viewer', async () => {
    const newcomer = await s.api.register('creator');
    const first = await liveRoom(newcomer, { title: 'My very first stream', tags: ['origami'] });
    const fresh = await s.api.register();
    const answer = await forYou('?limit=50', fresh.token);
    expect(answer.rooms.find((r) => r.room.id === first.id)).toMatchObject({
      room: { title: 'My very first stream', viewerCount: 0 },
      reason: { code: 'popular_now', text: 'Be one of the first to watch' },
    });
  });

  it('the page’s context: its room is left out and rooms on its topic come first', async () => {
    const a = await s.api.register('creator');
    const b = await s.api.register('creator');
    const here = await liveRoom(a, { title: 'Chess openings', tags: ['chess-openings'] });
    const related = await liveRoom(b, { title: 'Endgames', tags: ['chess-openings', 'endgames'] });
    const unrelated = await liveRoom(b, { title: 'Watercolours', tags: ['painting'] });
    await audience(unrelated.id, 2);
    const answer = await forYou(`?contextRoomId=${here.id}&limit=50`);
    expect(idsOf(answer.rooms)).not.toContain(here.id);
    expect(orderOf(answer.rooms, [related.id, unrelated.id])).toEqual([related.id, unrelated.id]);
    expect(answer.rooms.find((r) => r.room.id === related.id)?.reason).toEqual({
      code: 'tags',
      text: 'Matches your interest in #chess-openings',
    });
    // An ended context room still says what the page is about.
    await end(a, here.id);
    const after = await forYou(`?contextRoomId=${here.id}&limit=50`);
    expect(orderOf(after.rooms, [related.id, unrelated.id])).toEqual([related.id, unrelated.id]);
  });

  it('lists scheduled rooms the viewer may like as upcoming, soonest within a week', async () => {
    const x = await s.api.register('creator');
    const stranger = await s.api.register('creator');
    const viewer = await s.api.register();
    await s.api.request('PATCH', '/api/creators/me', {
      token: x.token,
      body: { displayName: 'Xena', subscriptionPrice: 500 },
    });
    await s.api.topUp(viewer.token, 2000);
    const sub = await s.api.post('/api/subscriptions', { creatorId: x.user.id }, viewer.token, randomUUID());
    expect(sub.status).toBe(201);
    const at = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString();
    const soon = await s.api.room(x.token, { title: 'Tomorrow', scheduledAt: at(1) });
    const later = await s.api.room(x.token, { title: 'In two months', scheduledAt: at(60) });
    const theirs = await s.api.room(stranger.token, { title: 'Not for them', scheduledAt: at(1) });
    const live = await liveRoom(x, { title: 'Subscribers live' });

    const answer = await forYou('', viewer.token);
    expect(answer.rooms[0]).toMatchObject({
      room: { id: live.id },
      reason: { code: 'subscribed', text: 'You subscribe to this creator' },
    });
    expect(idsOf(answer.upcoming)).toEqual([soon.id]);
    expect(answer.upcoming[0]).toMatchObject({
      room: { status: 'scheduled', title: 'Tomorrow', creator: { displayName: 'Xena' } },
      reason: { code: 'upcoming', text: 'Coming up from a creator you subscribe to' },
    });
    expect(idsOf(answer.upcoming)).not.toContain(later.id);
    expect(idsOf(answer.upcoming)).not.toContain(theirs.id);
  });

  it('a followed creator’s live room comes first for a viewer with no history, with reason following', async () => {
    const busyCreator = await s.api.register('creator');
    const followed = await s.api.register('creator');
    const busy = await liveRoom(busyCreator, { title: 'Crowded' });
    await audience(busy.id, 4);
    const theirs = await liveRoom(followed, { title: 'The one I follow' });
    const viewer = await s.api.register();
    // Before following: a cold start, the busiest first (and the answer is cached for a few seconds).
    expect(orderOf((await forYou('?limit=50', viewer.token)).rooms, [busy.id, theirs.id])).toEqual([
      busy.id,
      theirs.id,
    ]);

    const res = await s.api.request('PUT', `/api/creators/${followed.user.id}/follow`, { token: viewer.token });
    expect(res.body).toEqual({ following: true, followers: 1 });
    const mine = await forYou('?limit=50', viewer.token);
    expect(mine.rooms[0]).toMatchObject({
      room: { id: theirs.id, creator: { userId: followed.user.id } },
      reason: { code: 'following', text: expect.stringMatching(/follow/i) },
    });
    expect(mine.rooms.find((r) => r.room.id === busy.id)?.reason.code).toBe('popular_now');

    // Unfollowed: a cold start again, at once.
    await s.api.request('DELETE', `/api/creators/${followed.user.id}/follow`, { token: viewer.token });
    const after = await forYou('?limit=50', viewer.token);
    expect(orderOf(after.rooms, [busy.id, theirs.id])).toEqual([busy.id, theirs.id]);
    expect(after.rooms.every((r) => r.reason.code !== 'following')).toBe(true);
  });

  it('leaves out rooms the viewer is banned from', async () => {
    const owner = await s.api.register('creator');
    const viewer = await s.api.register();
    const room = await liveRoom(owner, { title: 'Strict room' });
    expect(idsOf((await forYou('?limit=50', viewer.token)).rooms)).toContain(room.id);
    const staff = await connect(s.url, owner.token);
    await ok(staff, 'room:join', { roomId: room.id });
    await ok(staff, 'moderation:ban', { roomId: room.id, userId: viewer.user.id });
    expect(idsOf((await forYou('?limit=50', viewer.token)).rooms)).not.toContain(room.id);
    expect(idsOf((await forYou('?limit=50')).rooms)).toContain(room.id);
  });

  it('takes limit 1..50 (20 by default) and refuses anything else the way every route does', async () => {
    const owner = await s.api.register('creator');
    for (let i = 0; i < 22; i++) await liveRoom(owner, { title: `Many ${i}` });
    expect((await forYou()).rooms).toHaveLength(20);
    expect((await forYou('?limit=1')).rooms).toHaveLength(1);
    expect((await forYou('?limit=50')).rooms.length).toBeGreaterThan(20);

    const refused = async (query: string, path: string) => {
      const res = await s.api.get(`/api/rooms/for-you${query}`);
      expect({ query, status: res.status, code: res.body.error?.code }).toEqual({
        query,
        status: 400,
        code: 'INVALID_ARGUMENT',
      });
      expect(res.body.error.message).toContain(path);
    };
    await refused('?limit=0', 'limit');
    await refused('?limit=51', 'limit');
    await refused('?limit=ten', 'limit');
    await refused('?limit=1.5', 'limit');
    await refused('?contextRoomId=nope', 'contextRoomId');
    // Unknown fields are refused, as by GET /api/rooms (`(root): Unrecognized key: "status"`).
    await refused('?status=live', 'status');
    expect((await s.api.get('/api/rooms?forYou=1')).body.error.message).toMatch(/^\(root\): Unrecognized key/);
    const res = await s.api.request('GET', '/api/rooms/for-you', { token: 'not-a-token' });
    expect(res.status).toBe(401);

    // The room route is still the room route.
    const room = await liveRoom(owner);
    expect((await s.api.get(`/api/rooms/${room.id}`)).body.room.id).toBe(room.id);
    expect((await s.api.get('/api/rooms/for-you')).headers.get('cache-control')).toBe('private, no-store');
  });
});
