import { randomUUID } from 'node:crypto';
import type { CreatorAnalytics, RoomAnalytics, SessionMetrics } from '../../server/analytics';
import { type Account, startTestServer, type TestServer } from '../helpers/server';
import { closeAllSockets, connect, ok } from '../helpers/socket';
import { analyticsDrained } from './drain';

/**
 * Which session a sale counts for, through the real gateway, payments, outbox and consumer: the
 * room it was made from, never "whichever room of the creator was live". Two rooms of one creator
 * are live at once, and another creator's free room beside them.
 */

let s: TestServer;
let creator: Account;
let other: Account;
let roomA: { id: string };
let roomB: { id: string };
let roomX: { id: string };
const lessons: Record<string, { id: string }> = {};

beforeAll(async () => {
  s = await startTestServer();
  [creator, other] = await Promise.all([s.api.register('creator'), s.api.register('creator')]);
  const live = async (owner: Account, title: string) => {
    const room = await s.api.room(owner.token, { title, access: 'free' });
    expect((await s.api.post(`/api/rooms/${room.id}/start`, {}, owner.token)).status).toBe(200);
    return room;
  };
  roomA = await live(creator, 'Room A');
  roomB = await live(creator, 'Room B'); // started last: the old guess credited everything to it
  roomX = await live(other, "X's free room");
  for (const [name, owner, price] of [
    ['fromA', creator, 900],
    ['catalog', creator, 700],
    ['fromB', creator, 400],
    ['ofX', other, 300],
  ] as const) {
    lessons[name] = await s.api.content(owner.token, { title: name, price });
  }
  await s.api.request('PATCH', '/api/creators/me', { body: { subscriptionPrice: 1000 }, token: creator.token });
});
afterAll(async () => {
  closeAllSockets();
  await s.close();
});

const roomReport = async (roomId: string, token = creator.token) => {
  const res = await s.api.get<RoomAnalytics>(`/api/analytics/rooms/${roomId}`, token);
  expect(res.status).toBe(200);
  return res.body.session;
};
const creatorReport = async (token = creator.token, query = '') => {
  const res = await s.api.get<CreatorAnalytics>(`/api/analytics/creator${query}`, token);
  expect(res.status).toBe(200);
  return res.body;
};
const kinds = (session: SessionMetrics) => session.money.salesByKind;

describe('session attribution with two rooms of one creator live at once', () => {
  beforeAll(async () => {
    const [inA, inB, inX] = await Promise.all([s.api.register(), s.api.register(), s.api.register()]);
    await Promise.all([inA, inB, inX].map((v) => s.api.topUp(v.token, 10_000)));
    const [sockA, sockB, sockX] = await Promise.all([
      connect(s.url, inA.token),
      connect(s.url, inB.token),
      connect(s.url, inX.token),
    ]);
    await ok(sockA, 'room:join', { roomId: roomA.id });
    await ok(sockB, 'room:join', { roomId: roomB.id });
    await ok(sockX, 'room:join', { roomId: roomX.id });

    // From inside room A (the watch page's buy button): room A's.
    await ok(sockA, 'purchase:create', {
      contentId: lessons.fromA.id,
      fromRoomId: roomA.id,
      idempotencyKey: randomUUID(),
    });
    await ok(sockA, 'tip:send', { roomId: roomA.id, amount: 200, idempotencyKey: randomUUID() });
    // Over HTTP with no room (the catalog, a content page): no session's, though two are live.
    const catalog = await s.api.post('/api/purchases', { contentId: lessons.catalog.id }, inB.token, randomUUID());
    expect(catalog.status).toBe(201);
    // From inside room B: a subscription over the socket, a lesson over HTTP naming the room.
    await ok(sockB, 'subscription:create', {
      creatorId: creator.user.id,
      fromRoomId: roomB.id,
      idempotencyKey: randomUUID(),
    });
    const fromB = await s.api.post(
      '/api/purchases',
      { contentId: lessons.fromB.id, fromRoomId: roomB.id },
      inB.token,
      randomUUID(),
    );
    expect(fromB.status).toBe(201);
    // In X's free room, X's lesson: that free room's, whatever rooms of X's or others are live.
    await ok(sockX, 'purchase:create', {
      contentId: lessons.ofX.id,
      fromRoomId: roomX.id,
      idempotencyKey: randomUUID(),
    });
    await analyticsDrained(s.lectern);
  });

  it('counts a content bought from room A for room A only', async () => {
    const a = await roomReport(roomA.id);
    expect(kinds(a)).toEqual({ ticket: 0, content: 1, tip: 1, subscription: 0 });
    expect(a.money.revenue).toEqual({ ticket: 0, content: 900, tip: 200, subscription: 0, total: 1100 });
    expect(a.money).toMatchObject({ fees: 110, net: 990, buyers: 1, viewerBuyers: 1 });
  });

  it('counts what was bought from room B for room B, and nothing of room A', async () => {
    const b = await roomReport(roomB.id);
    expect(kinds(b)).toEqual({ ticket: 0, content: 1, tip: 0, subscription: 1 });
    expect(b.money.revenue).toEqual({ ticket: 0, content: 400, tip: 0, subscription: 1000, total: 1400 });
    expect(b.money).toMatchObject({ fees: 140, net: 1260 });
  });

  it('counts a content bought over HTTP without a room for no session: outside sessions', async () => {
    const report = await creatorReport();
    expect(report.totals).toMatchObject({ sessions: 2, liveSessions: 2 });
    expect(report.totals.money.revenue.total).toBe(2500); // A's 1100 and B's 1400, not the catalog's
    expect(report.totals.outsideSessions).toEqual({
      revenue: { ticket: 0, content: 700, tip: 0, subscription: 0, total: 700 },
      sales: 1,
      fees: 70,
      net: 630,
      refunds: { count: 0, amount: 0 },
    });
    expect(report.totals.all).toMatchObject({ sales: 5, fees: 320, net: 2880, revenue: { total: 3200 } });
  });

  it("counts X's content bought in X's free room for that room", async () => {
    const x = await roomReport(roomX.id, other.token);
    expect(kinds(x)).toEqual({ ticket: 0, content: 1, tip: 0, subscription: 0 });
    expect(x.money).toMatchObject({ revenue: { total: 300 }, fees: 30, net: 270, viewerBuyers: 1 });
    const report = await creatorReport(other.token);
    expect(report.totals.outsideSessions.sales).toBe(0);
  });

  it('adds every sale, in and outside sessions, to today in the daily money', async () => {
    const tz = 'Asia/Shanghai';
    const { daily } = await creatorReport(creator.token, `?days=7&tz=${encodeURIComponent(tz)}`);
    expect(daily).toMatchObject({ days: 7, timeZone: tz });
    expect(daily.points).toHaveLength(7);
    const today = new Intl.DateTimeFormat('en-CA', { timeZone: tz }).format(new Date());
    expect(daily.points.at(-1)?.day).toBe(today);
    // Every sale is on a day of the range (today, unless the test ran across midnight there).
    const sum = (key: 'revenue' | 'fees' | 'net' | 'sales' | 'refunded') =>
      daily.points.reduce((n, p) => n + p[key], 0);
    expect([sum('revenue'), sum('fees'), sum('net'), sum('sales'), sum('refunded')]).toEqual([3200, 320, 2880, 5, 0]);
    expect((await s.api.get('/api/analytics/creator?tz=Mars/Olympus', creator.token)).status).toBe(400);
    expect((await s.api.get('/api/analytics/creator?days=400', creator.token)).status).toBe(400);
  });
});
