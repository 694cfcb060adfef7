import { randomUUID } from 'node:crypto';
import type { CreatorAnalytics, RoomAnalytics } from '../../server/analytics';
import { startTestServer, type TestServer } from '../helpers/server';
import { closeAllSockets, connect, eventually, ok } from '../helpers/socket';
import { analyticsDrained } from './drain';

/**
 * End to end: real sockets through the real gateway and payments, the events they record read by
 * the analytics consumer, and the numbers served by the HTTP endpoints.
 */

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer({ LIKE_BROADCAST_INTERVAL_MS: '100' });
});
afterAll(async () => {
  closeAllSockets();
  await s.close();
});

describe('analytics through the gateway', () => {
  let creator: { token: string; user: { id: string } };
  let room: { id: string; startedAt: string };

  beforeAll(async () => {
    creator = await s.api.register('creator');
    const lesson = await s.api.content(creator.token, { price: 500 });
    room = await s.api.room(creator.token, { title: 'Live algebra' });
    room = (await s.api.post(`/api/rooms/${room.id}/start`, {}, creator.token)).body.room;

    const owner = await connect(s.url, creator.token);
    await ok(owner, 'room:join', { roomId: room.id }); // the creator is not counted as a viewer
    const viewer = await s.api.register();
    await s.api.topUp(viewer.token, 2000);
    const sock = await connect(s.url, viewer.token);
    await ok(sock, 'room:join', { roomId: room.id });
    const guest = await connect(s.url);
    await ok(guest, 'room:join', { roomId: room.id });
    await ok(sock, 'chat:send', { roomId: room.id, text: 'hello' });
    await ok(sock, 'like:send', { roomId: room.id, count: 3 });
    await ok(sock, 'tip:send', { roomId: room.id, amount: 100, idempotencyKey: randomUUID() });
    // Bought from inside the room: it counts for the room's session.
    await ok(sock, 'purchase:create', { contentId: lesson.id, fromRoomId: room.id, idempotencyKey: randomUUID() });
    await ok(sock, 'room:leave', { roomId: room.id });
    await ok(guest, 'room:leave', { roomId: room.id });
    await ok(owner, 'room:leave', { roomId: room.id });
  });

  const report = async (token = creator.token) => {
    const res = await s.api.get<RoomAnalytics>(`/api/analytics/rooms/${room.id}`, token);
    expect(res.status).toBe(200);
    return res.body;
  };

  it('reports the viewers, activity and money of the live session', async () => {
    // Likes are recorded when the gateway flushes them; then wait for the consumer to catch up.
    await eventually(async () => (await report()).session.activity.likes === 3, 10_000, 'likes counted');
    await analyticsDrained(s.lectern);
    const { session, decomposition, series } = await report();
    expect(session).toMatchObject({
      roomId: room.id,
      title: 'Live algebra',
      status: 'live',
      startedAt: room.startedAt,
      endedAt: null,
      viewers: { peak: 2, unique: 1, guestJoins: 1, joins: 2 },
      activity: { chatMessages: 1, likes: 3, questionsAsked: 0, questionUpvotes: 0, questionsAnswered: 0 },
      money: {
        revenue: { ticket: 0, content: 500, tip: 100, subscription: 0, total: 600 },
        // The fees the events carried (10% by default): gross, fees and net.
        fees: 60,
        net: 540,
        refunds: { count: 0, amount: 0 },
        sales: 2,
        buyers: 1,
        buyersPerViewer: 1,
        viewerBuyers: 1,
        viewerConversion: 1,
        revenuePerViewer: 600,
        revenuePerBuyer: 600,
      },
    });
    expect(session.durationSeconds).toBeGreaterThan(0);
    expect(decomposition).toMatchObject({
      viewers: 1,
      buyersPerViewer: 1,
      revenuePerBuyer: 600,
      product: 600,
      holds: true,
    });
    expect(series.length).toBeGreaterThanOrEqual(1);
    expect(series.reduce((n, p) => n + p.revenue, 0)).toBe(600);
    expect(series.reduce((n, p) => n + p.chatMessages, 0)).toBe(1);
    expect(Math.max(...series.map((p) => p.peakViewers))).toBe(2);

    const creatorReport = await s.api.get<CreatorAnalytics>('/api/analytics/creator', creator.token);
    expect(creatorReport.status).toBe(200);
    expect(creatorReport.body.totals).toMatchObject({
      sessions: 1,
      liveSessions: 1,
      viewers: { peak: 2, unique: 1, guestJoins: 1 },
      money: { revenue: { total: 600 }, buyers: 1, buyersPerViewer: 1, viewerConversion: 1 },
      outsideSessions: { sales: 0 },
    });
    expect(creatorReport.body.sessions.map((x) => x.roomId)).toEqual([room.id]);
  });

  it('keeps the numbers once the room has ended', async () => {
    const ended = await s.api.post(`/api/rooms/${room.id}/end`, {}, creator.token);
    expect(ended.status).toBe(200);
    const { session } = await report();
    expect(session).toMatchObject({
      status: 'ended',
      endedAt: ended.body.room.endedAt,
      viewers: { peak: 2, unique: 1 },
      money: { revenue: { total: 600 } },
    });
  });

  it('shows a room only to its creator and admins, and a creator only their own totals', async () => {
    const viewer = await s.api.register();
    const other = await s.api.register('creator');
    const admin = await s.admin();
    const path = `/api/analytics/rooms/${room.id}`;
    expect((await s.api.get(path)).status).toBe(401);
    expect((await s.api.get(path, viewer.token)).body.error.code).toBe('FORBIDDEN');
    expect((await s.api.get(path, other.token)).body.error.code).toBe('FORBIDDEN');
    expect((await s.api.get(path, admin.token)).status).toBe(200);
    expect((await s.api.get(`/api/analytics/rooms/${randomUUID()}`, creator.token)).status).toBe(404);
    expect((await s.api.get('/api/analytics/rooms/not-a-uuid', creator.token)).status).toBe(400);

    const theirs = `/api/analytics/creator?creatorId=${creator.user.id}`;
    expect((await s.api.get(theirs, other.token)).body.error.code).toBe('FORBIDDEN');
    expect((await s.api.get('/api/analytics/creator', viewer.token)).body.error.code).toBe('FORBIDDEN');
    const asAdmin = await s.api.get<CreatorAnalytics>(theirs, admin.token);
    expect(asAdmin.status).toBe(200);
    expect(asAdmin.body.totals.money.revenue.total).toBe(600);
    const own = await s.api.get<CreatorAnalytics>('/api/analytics/creator', other.token);
    expect(own.body).toMatchObject({ creatorId: other.user.id, sessions: [], totals: { sessions: 0 } });
    expect((await s.api.get('/api/analytics/creator?limit=0', creator.token)).status).toBe(400);
    expect((await s.api.get('/api/analytics/creator?bogus=1', creator.token)).status).toBe(400);
  });

  it('serves the dashboard page', async () => {
    const res = await fetch(`${s.url}/dashboard`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/html/);
    expect(await res.text()).toContain('/assets/dashboard.js');
  });
});
