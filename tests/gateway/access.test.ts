import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { type Account, startTestServer, type TestServer } from '../helpers/server';
import { closeAllSockets, connect, next, ok, record, refused } from '../helpers/socket';

let s: TestServer;
let owner: Account;
beforeAll(async () => {
  s = await startTestServer();
  owner = await s.api.register('creator');
  await s.api.request('PATCH', '/api/creators/me', { token: owner.token, body: { subscriptionPrice: 500 } });
});
afterEach(closeAllSockets);
afterAll(() => s.close());

const paidRoom = async (fields: Record<string, unknown>) => {
  const room = await s.api.room(owner.token, fields);
  await s.api.post(`/api/rooms/${room.id}/start`, {}, owner.token);
  return room;
};

describe('paid rooms', () => {
  it('fails closed: when access cannot be decided at a preview’s end (the database errs), the viewer has none until it can', async () => {
    const room = await paidRoom({ access: 'ticket', ticketPrice: 800, previewSeconds: 1 });
    const viewer = await s.api.register();
    const sock = await connect(s.url, viewer.token);
    expect((await ok(sock, 'room:join', { roomId: room.id })).access).toBe('preview');
    const { db } = s.lectern.database;
    // The entitlement check now fails (the table is away) when the preview ends.
    await sql`ALTER TABLE entitlements RENAME TO entitlements_away`.execute(db);
    try {
      expect(await next(sock, 'access:changed', undefined, 5000)).toEqual({ roomId: room.id, access: 'none' });
      expect(await refused(sock, 'chat:send', { roomId: room.id, text: 'free ride?' })).toBe('PAYMENT_REQUIRED');
    } finally {
      await sql`ALTER TABLE entitlements_away RENAME TO entitlements`.execute(db);
    }
    // Decided again once the database answers: a ticket bought now gives full access.
    const upgraded = next(sock, 'access:changed', (c) => c.access === 'full', 10_000);
    await s.api.topUp(viewer.token, 800);
    await ok(sock, 'purchase:create', { roomId: room.id, idempotencyKey: randomUUID() });
    await upgraded;
  });

  it('a viewer without a ticket previews, then loses access when the preview ends, once per viewer', async () => {
    const room = await paidRoom({ access: 'ticket', ticketPrice: 800, previewSeconds: 2 });
    const viewer = await s.api.register();
    const sock = await connect(s.url, viewer.token);
    const joined = await ok(sock, 'room:join', { roomId: room.id });
    expect(joined.access).toBe('preview');
    const ends = Date.parse(joined.previewEndsAt!);
    expect(ends - Date.now()).toBeGreaterThan(500);
    expect(ends - Date.now()).toBeLessThanOrEqual(2000);
    await ok(sock, 'chat:send', { roomId: room.id, text: 'the preview is the full experience' });
    expect(await next(sock, 'access:changed', undefined, 5000)).toEqual({ roomId: room.id, access: 'none' });
    expect(Date.now()).toBeGreaterThanOrEqual(ends - 50);
    expect(await refused(sock, 'chat:send', { roomId: room.id, text: 'still here?' })).toBe('PAYMENT_REQUIRED');
    // Leaving and coming back does not restart the preview.
    await ok(sock, 'room:leave', { roomId: room.id });
    expect((await ok(sock, 'room:join', { roomId: room.id })).access).toBe('none');
  });

  it('buying a ticket in the room upgrades access at once, without rejoining', async () => {
    const room = await paidRoom({ access: 'ticket', ticketPrice: 800, previewSeconds: 600 });
    const viewer = await s.api.register();
    await s.api.topUp(viewer.token, 1000);
    const sock = await connect(s.url, viewer.token);
    expect((await ok(sock, 'room:join', { roomId: room.id })).access).toBe('preview');
    const upgraded = next(sock, 'access:changed');
    const { purchase, balance } = await ok(sock, 'purchase:create', { roomId: room.id, idempotencyKey: randomUUID() });
    expect(purchase).toMatchObject({ kind: 'ticket', roomId: room.id, amount: 800 });
    expect(balance).toBe(200);
    expect(await upgraded).toEqual({ roomId: room.id, access: 'full' });
  });

  it('a subscription bought over HTTP upgrades a subscribers room; a refund takes it away', async () => {
    const room = await paidRoom({ access: 'subscribers', previewSeconds: 0 });
    const viewer = await s.api.register();
    await s.api.topUp(viewer.token, 1000);
    const sock = await connect(s.url, viewer.token);
    expect((await ok(sock, 'room:join', { roomId: room.id })).access).toBe('none');
    expect(await refused(sock, 'chat:send', { roomId: room.id, text: 'let me in' })).toBe('PAYMENT_REQUIRED');
    const upgraded = next(sock, 'access:changed');
    const sub = await s.api.post('/api/subscriptions', { creatorId: owner.user.id }, viewer.token, randomUUID());
    expect(sub.status).toBe(201);
    expect(await upgraded).toEqual({ roomId: room.id, access: 'full' });
    await ok(sock, 'chat:send', { roomId: room.id, text: 'thanks!' });
    const admin = await s.admin();
    const downgraded = next(sock, 'access:changed');
    await s.api.post(`/api/admin/purchases/${sub.body.purchase.id}/refund`, {}, admin.token, randomUUID());
    expect(await downgraded).toEqual({ roomId: room.id, access: 'none' });
  });

  it('subscribing in the room upgrades access at once; a retry with the same key is a replay', async () => {
    const room = await paidRoom({ access: 'subscribers', previewSeconds: 0 });
    const viewer = await s.api.register();
    await s.api.topUp(viewer.token, 1000);
    const sock = await connect(s.url, viewer.token);
    expect((await ok(sock, 'room:join', { roomId: room.id })).access).toBe('none');
    // A ticket is not for sale here: subscribing is the way in.
    expect(await refused(sock, 'purchase:create', { roomId: room.id, idempotencyKey: randomUUID() })).toBe(
      'INVALID_ARGUMENT',
    );
    const upgraded = next(sock, 'access:changed');
    const key = randomUUID();
    const first = await ok(sock, 'subscription:create', { creatorId: owner.user.id, idempotencyKey: key });
    expect(first.subscription).toMatchObject({
      subscriberId: viewer.user.id,
      creatorId: owner.user.id,
      status: 'active',
    });
    expect(first.purchase).toMatchObject({ kind: 'subscription', amount: 500 });
    expect(first.balance).toBe(500);
    expect(await upgraded).toEqual({ roomId: room.id, access: 'full' });
    await ok(sock, 'chat:send', { roomId: room.id, text: 'subscribed!' });
    // Same key, socket or HTTP: the first answer again, nothing charged.
    expect(await ok(sock, 'subscription:create', { creatorId: owner.user.id, idempotencyKey: key })).toEqual(first);
    const overHttp = await s.api.post('/api/subscriptions', { creatorId: owner.user.id }, viewer.token, key);
    expect(overHttp.body.subscription).toEqual(first.subscription);
    expect((await s.api.get('/api/wallet', viewer.token)).body.balance).toBe(500);
    expect(
      await refused(sock, 'subscription:create', { creatorId: viewer.user.id, idempotencyKey: randomUUID() }),
    ).toBe('NOT_FOUND');
  });

  it('a subscription that runs out during the session downgrades access then', async () => {
    const room = await paidRoom({ access: 'subscribers', previewSeconds: 0 });
    const viewer = await s.api.register();
    // A subscription whose period ends in two seconds.
    await s.lectern.database.db
      .insertInto('subscriptions')
      .values({
        subscriber_id: viewer.user.id,
        creator_id: owner.user.id,
        current_period_end: sql<Date>`now() + interval '2 seconds'` as never,
      })
      .execute();
    const sock = await connect(s.url, viewer.token);
    expect((await ok(sock, 'room:join', { roomId: room.id })).access).toBe('full');
    expect(await next(sock, 'access:changed', undefined, 6000)).toEqual({ roomId: room.id, access: 'none' });
    expect(await refused(sock, 'chat:send', { roomId: room.id, text: 'still subscribed?' })).toBe('PAYMENT_REQUIRED');
  });

  it('without access a viewer sees the room and its counts, not its conversation', async () => {
    const room = await paidRoom({ access: 'ticket', ticketPrice: 300, previewSeconds: 0 });
    const o = await connect(s.url, owner.token);
    await ok(o, 'room:join', { roomId: room.id });
    await ok(o, 'chat:send', { roomId: room.id, text: 'for ticket holders' });
    await ok(o, 'question:ask', { roomId: room.id, text: 'a question from the owner' });
    const viewer = await s.api.register();
    await s.api.topUp(viewer.token, 300);
    const sock = await connect(s.url, viewer.token);
    const heard = record(sock, 'chat:message');
    const lists = record(sock, 'question:list');
    const joined = await ok(sock, 'room:join', { roomId: room.id });
    expect(joined).toMatchObject({ access: 'none', history: [], questions: [], pinned: [] });
    expect(joined.room.id).toBe(room.id);
    await ok(o, 'chat:send', { roomId: room.id, text: 'live, for ticket holders' });
    await ok(o, 'question:ask', { roomId: room.id, text: 'another one' });
    // Everything the owner said went out before this; the whole room hears settings changes.
    const settings = next(sock, 'room:settings');
    await ok(o, 'moderation:settings', { roomId: room.id, settings: { slowModeSeconds: 1 } });
    await settings;
    expect(heard).toEqual([]);
    expect(lists).toEqual([]);
    // Buying moves the viewer into the conversation; joining again loads its history.
    const upgraded = next(sock, 'access:changed');
    await ok(sock, 'purchase:create', { roomId: room.id, idempotencyKey: randomUUID() });
    await upgraded;
    const live = next(sock, 'chat:message');
    await ok(o, 'chat:send', { roomId: room.id, text: 'welcome' });
    expect((await live).text).toBe('welcome');
    const again = await ok(sock, 'room:join', { roomId: room.id });
    expect(again.history.map((m) => m.text)).toEqual(['for ticket holders', 'live, for ticket holders', 'welcome']);
    expect(again.questions).toHaveLength(2);
  });

  it('guests may watch free rooms only', async () => {
    const free = await paidRoom({ access: 'free' });
    const paid = await paidRoom({ access: 'ticket', ticketPrice: 100, previewSeconds: 60 });
    const guest = await connect(s.url);
    expect((await ok(guest, 'room:join', { roomId: free.id })).access).toBe('full');
    expect((await ok(guest, 'room:join', { roomId: paid.id })).access).toBe('none');
    expect(await refused(guest, 'like:send', { roomId: free.id, count: 1 })).toBe('UNAUTHENTICATED');
    expect(await refused(guest, 'purchase:create', { roomId: paid.id, idempotencyKey: randomUUID() })).toBe(
      'UNAUTHENTICATED',
    );
  });

  it('the owner and moderators have full access to their paid room', async () => {
    const room = await paidRoom({ access: 'ticket', ticketPrice: 100 });
    const o = await connect(s.url, owner.token);
    expect((await ok(o, 'room:join', { roomId: room.id })).access).toBe('full');
    const mod = await s.api.register();
    await ok(o, 'moderation:moderator', { roomId: room.id, userId: mod.user.id, grant: true });
    const m = await connect(s.url, mod.token);
    expect((await ok(m, 'room:join', { roomId: room.id })).access).toBe('full');
  });
});
