import { randomUUID } from 'node:crypto';
import type { CreatorAnalytics, RoomAnalytics } from '../../server/analytics';
import { ENGAGEMENT_STREAM, type EngagementEvent, newEvent } from '../../server/events';
import { type Account, startTestServer, type TestServer } from '../helpers/server';
import { closeAllSockets, connect, ok } from '../helpers/socket';
import { analyticsDrained } from './drain';

/**
 * Refunds reach analytics: the payments core records `purchase.refunded` with the refund (the
 * outbox), the consumer takes the sale out of the session it counted for and out of the
 * creator's totals, exactly once however often the event is delivered, in whatever order the
 * sale and its refund arrive.
 */

let s: TestServer;
let creator: Account;
let admin: Account;
let room: { id: string };
let fromRoom: { id: string; amount: number; fee: number };
let fromCatalog: { id: string };

beforeAll(async () => {
  s = await startTestServer();
  [creator, admin] = await Promise.all([s.api.register('creator'), s.admin()]);
  room = await s.api.room(creator.token, { title: 'Refunded', access: 'free' });
  await s.api.post(`/api/rooms/${room.id}/start`, {}, creator.token);
  const [lesson, other] = [
    await s.api.content(creator.token, { title: 'Eigenvalues', price: 900 }),
    await s.api.content(creator.token, { title: 'Determinants', price: 400 }),
  ];
  const viewer = await s.api.register();
  await s.api.topUp(viewer.token, 10_000);
  const sock = await connect(s.url, viewer.token);
  await ok(sock, 'room:join', { roomId: room.id });
  fromRoom = (
    await ok(sock, 'purchase:create', { contentId: lesson.id, fromRoomId: room.id, idempotencyKey: randomUUID() })
  ).purchase;
  await ok(sock, 'tip:send', { roomId: room.id, amount: 100, idempotencyKey: randomUUID() });
  fromCatalog = (await s.api.post('/api/purchases', { contentId: other.id }, viewer.token, randomUUID())).body.purchase;
  await analyticsDrained(s.lectern);
});
afterAll(async () => {
  closeAllSockets();
  await s.close();
});

const session = async () => {
  const res = await s.api.get<RoomAnalytics>(`/api/analytics/rooms/${room.id}`, creator.token);
  expect(res.status).toBe(200);
  return res.body;
};
const totals = async () => {
  const res = await s.api.get<CreatorAnalytics>('/api/analytics/creator', creator.token);
  expect(res.status).toBe(200);
  return res.body.totals;
};
const refund = (purchaseId: string, key = randomUUID()) =>
  s.api.post(`/api/admin/purchases/${purchaseId}/refund`, {}, admin.token, key);

describe('refunds in analytics', () => {
  it('counts the sales with their fees before any refund', async () => {
    const { session: before, series } = await session();
    expect(before.money).toMatchObject({
      revenue: { content: 900, tip: 100, total: 1000 },
      fees: 100,
      net: 900,
      refunds: { count: 0, amount: 0 },
      sales: 2,
    });
    expect(fromRoom.fee).toBe(90);
    expect(series.reduce((n, p) => n + p.revenue, 0)).toBe(1000);
  });

  it('takes a refunded sale out of the session it counted for and out of the totals', async () => {
    const key = randomUUID();
    expect((await refund(fromRoom.id, key)).status).toBe(200);
    await analyticsDrained(s.lectern);
    const { session: after, series, decomposition } = await session();
    expect(after.money).toMatchObject({
      revenue: { content: 0, tip: 100, total: 100 },
      fees: 10,
      net: 90,
      refunds: { count: 1, amount: 900 },
      sales: 1,
      salesByKind: { ticket: 0, content: 0, tip: 1, subscription: 0 },
      buyers: 1, // still a buyer: the tip
    });
    expect(series.reduce((n, p) => n + p.revenue, 0)).toBe(100);
    expect(decomposition).toMatchObject({ revenue: 100, holds: true });
    const t = await totals();
    expect(t.money).toMatchObject({ revenue: { total: 100 }, fees: 10, net: 90, refunds: { count: 1, amount: 900 } });
    expect(t.all).toMatchObject({ revenue: { total: 500 }, sales: 2, fees: 50, net: 450, refunds: { count: 1 } });

    // The same refund again (a retry with its key) records nothing new; another key is refused.
    expect((await refund(fromRoom.id, key)).status).toBe(200);
    expect((await refund(fromRoom.id)).body.error.code).toBe('CONFLICT');
    await analyticsDrained(s.lectern);
    expect((await session()).session.money).toMatchObject({ revenue: { total: 100 }, refunds: { count: 1 } });
  });

  it('takes a refund of a sale outside sessions out of the outside totals', async () => {
    expect((await refund(fromCatalog.id)).status).toBe(200);
    await analyticsDrained(s.lectern);
    const t = await totals();
    expect(t.outsideSessions).toEqual({
      revenue: { ticket: 0, content: 0, tip: 0, subscription: 0, total: 0 },
      sales: 0,
      fees: 0,
      net: 0,
      refunds: { count: 1, amount: 400 },
    });
    expect(t.all).toMatchObject({ revenue: { total: 100 }, sales: 1, refunds: { count: 2, amount: 1300 } });
  });

  it('subtracts a refund exactly once when the event is delivered twice', async () => {
    const refunds = (await s.lectern.engagement.log.range(ENGAGEMENT_STREAM))
      .filter((e): e is { id: string; deliveries: number; event: EngagementEvent } => 'event' in e)
      .map((e) => e.event)
      .filter((e) => e.type === 'purchase.refunded');
    expect(refunds.map((e) => e.type === 'purchase.refunded' && e.data.purchaseId).sort()).toEqual(
      [fromRoom.id, fromCatalog.id].sort(),
    );
    const fromRoomRefund = refunds.find((e) => e.type === 'purchase.refunded' && e.data.purchaseId === fromRoom.id)!;
    expect(fromRoomRefund).toMatchObject({ roomId: room.id, data: { amount: 900, fee: 90 } });

    // The money of the session and of the creator (the session is live: its time moves on).
    const money = async () => {
      const t = await totals();
      return { session: (await session()).session.money, totals: [t.money, t.outsideSessions, t.all] };
    };
    const before = await money();
    // A retried append: the same events, same ids, in the stream once more.
    await s.lectern.engagement.log.append(ENGAGEMENT_STREAM, refunds);
    await analyticsDrained(s.lectern);
    // And applied by hand, past the seen-ids store.
    for (const event of refunds) expect(await s.lectern.analytics.apply(event)).toBe(false);
    expect(await money()).toEqual(before);
  });

  it('counts a refund that arrives before its sale the same, once the sale arrives', async () => {
    const before = (await session()).session.money;
    const buyer = randomUUID();
    const purchaseId = randomUUID();
    const fields = { userId: buyer, creatorId: creator.user.id, roomId: room.id };
    const data = { purchaseId, kind: 'content' as const, amount: 500, fee: 50, currency: 'USD' };
    const sold = newEvent('purchase.completed', { ...fields, at: Date.now() - 1000, data });
    const refunded = newEvent('purchase.refunded', { ...fields, data });
    expect(await s.lectern.analytics.apply(refunded)).toBe(true);
    const early = (await session()).session.money;
    expect(early).toMatchObject({ revenue: before.revenue, fees: before.fees, refunds: { count: 2, amount: 1400 } });
    expect(await s.lectern.analytics.apply(sold)).toBe(true);
    const late = await session();
    expect(late.session.money).toEqual(early);
    expect(late.series.reduce((n, p) => n + p.revenue, 0)).toBe(before.revenue.total);
  });
});
