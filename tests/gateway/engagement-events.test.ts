import { randomBytes, randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { ENGAGEMENT_STREAM, type EngagementEvent } from '../../server/events';
import { TEST_REDIS_URL } from '../helpers/env';
import { startTestServer, type TestServer } from '../helpers/server';
import { closeAllSockets, connect, eventually, ok, refused } from '../helpers/socket';

afterEach(closeAllSockets);

async function recorded(s: TestServer): Promise<EngagementEvent[]> {
  await s.lectern.outbox.drain(); // money events: committed payments, relayed from the outbox
  await s.lectern.engagement.publisher.flush();
  return (await s.lectern.engagement.log.range(ENGAGEMENT_STREAM)).flatMap((e) => (e.event ? [e.event] : []));
}

describe.each([
  ['in-process log', {}],
  [
    'Redis Streams log',
    { REDIS_URL: TEST_REDIS_URL, REDIS_KEY_PREFIX: `lectern-test-${randomBytes(4).toString('hex')}:` },
  ],
])('engagement events (%s)', (_name, env: Record<string, string>) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer({ ...env, LIKE_BROADCAST_INTERVAL_MS: '100', WATCH_HEARTBEAT_SECONDS: '5' });
  });
  afterAll(async () => {
    await s.close();
    if (env.REDIS_KEY_PREFIX) {
      const redis = new Redis(TEST_REDIS_URL);
      const keys = await redis.keys(`${env.REDIS_KEY_PREFIX}*`);
      if (keys.length) await redis.del(...keys);
      redis.disconnect();
    }
  });

  it('are recorded once for joins, chat, likes, questions, tips, purchases and leaves', async () => {
    const owner = await s.api.register('creator');
    const room = await s.api.room(owner.token, { access: 'ticket', ticketPrice: 300, previewSeconds: 60 });
    await s.api.post(`/api/rooms/${room.id}/start`, {}, owner.token);
    const viewer = await s.api.register();
    await s.api.topUp(viewer.token, 1000);
    const sock = await connect(s.url, viewer.token);
    await ok(sock, 'room:join', { roomId: room.id });
    await ok(sock, 'chat:send', { roomId: room.id, text: 'hi' });
    await ok(sock, 'like:send', { roomId: room.id, count: 4 });
    await ok(sock, 'like:send', { roomId: room.id, count: 2 });
    await ok(sock, 'question:ask', { roomId: room.id, text: 'why?' });
    await ok(sock, 'purchase:create', { roomId: room.id, idempotencyKey: randomUUID() });
    const key = randomUUID();
    await ok(sock, 'tip:send', { roomId: room.id, amount: 100, idempotencyKey: key });
    await ok(sock, 'tip:send', { roomId: room.id, amount: 100, idempotencyKey: key }); // a replay
    await ok(sock, 'room:leave', { roomId: room.id });

    const mine = async () => (await recorded(s)).filter((e) => e.roomId === room.id || e.userId === viewer.user.id);
    // Likes are recorded per flush interval: the two sends may fall into one interval or two.
    const likesOf = (events: Awaited<ReturnType<typeof mine>>) =>
      events.filter((e) => e.type === 'likes.sent').reduce((sum, e) => sum + (e.data as { count: number }).count, 0);
    await eventually(async () => likesOf(await mine()) >= 6, 5000, 'likes recorded');
    const all = await mine();
    // Watch time depends on how long the test took; it is checked on its own below.
    const events = all.filter((e) => e.type !== 'watch.heartbeat');
    const likes = events.filter((e) => e.type === 'likes.sent');
    expect(likesOf(events)).toBe(6);
    const types = events
      .filter((e) => e.type !== 'likes.sent')
      .map((e) => e.type)
      .sort();
    expect(types).toEqual(
      ['chat.sent', 'purchase.completed', 'question.asked', 'room.joined', 'room.left', 'tip.sent'].sort(),
    );
    const byType = Object.fromEntries(events.map((e) => [e.type, e]));
    expect(byType['room.joined']).toMatchObject({
      roomId: room.id,
      userId: viewer.user.id,
      data: { access: 'preview' },
    });
    for (const e of likes) expect(e).toMatchObject({ userId: viewer.user.id, roomId: room.id });
    expect(byType['purchase.completed']).toMatchObject({
      creatorId: owner.user.id,
      data: { kind: 'ticket', amount: 300 },
    });
    expect(byType['tip.sent']).toMatchObject({ creatorId: owner.user.id, data: { amount: 100 } });
    expect(byType['room.left']).toMatchObject({ data: { reason: 'left' } });
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
    for (const e of events) expect(e.v).toBe(1);
  });

  it('records subscription.started, question.upvoted and question.answered once each, through the real paths', async () => {
    const owner = await s.api.register('creator');
    await s.api.request('PATCH', '/api/creators/me', { body: { subscriptionPrice: 900 }, token: owner.token });
    const room = await s.api.room(owner.token);
    await s.api.post(`/api/rooms/${room.id}/start`, {}, owner.token);
    const asker = await s.api.register();
    const fan = await s.api.register();
    await s.api.topUp(fan.token, 2000);
    const [ownerSock, askerSock, fanSock] = await Promise.all([
      connect(s.url, owner.token),
      connect(s.url, asker.token),
      connect(s.url, fan.token),
    ]);
    for (const sock of [ownerSock, askerSock, fanSock]) await ok(sock, 'room:join', { roomId: room.id });
    const { question } = await ok(askerSock, 'question:ask', { roomId: room.id, text: 'and then?' });
    const vote = { roomId: room.id, questionId: question.id };
    await ok(fanSock, 'question:upvote', vote);
    expect(await refused(fanSock, 'question:upvote', vote)).toBe('CONFLICT'); // a second vote: no event
    await ok(ownerSock, 'question:answer', vote);
    expect(await refused(ownerSock, 'question:answer', vote)).toBe('CONFLICT');
    const key = randomUUID();
    const sub = await ok(fanSock, 'subscription:create', { creatorId: owner.user.id, idempotencyKey: key });
    await ok(fanSock, 'subscription:create', { creatorId: owner.user.id, idempotencyKey: key }); // a replay

    const all = await recorded(s);
    const of = (type: string) =>
      all.filter((e) => e.type === type && (e.roomId === room.id || e.creatorId === owner.user.id));
    expect(of('subscription.started')).toEqual([
      expect.objectContaining({
        userId: fan.user.id,
        creatorId: owner.user.id,
        data: {
          purchaseId: sub.purchase.id,
          amount: 900,
          fee: sub.purchase.fee,
          currency: sub.purchase.currency,
          periodEnd: expect.any(Number),
        },
      }),
    ]);
    expect(of('question.upvoted')).toEqual([
      expect.objectContaining({ roomId: room.id, userId: fan.user.id, data: { questionId: question.id } }),
    ]);
    expect(of('question.answered')).toEqual([
      expect.objectContaining({ roomId: room.id, userId: owner.user.id, data: { questionId: question.id } }),
    ]);
    // Room-scoped events name the room's creator.
    for (const type of ['room.joined', 'question.asked', 'question.upvoted', 'question.answered']) {
      expect(of(type).length).toBeGreaterThan(0);
      for (const e of of(type)) expect(e.creatorId).toBe(owner.user.id);
    }
  });

  it('records watch time while a viewer with access is in the room', async () => {
    const owner = await s.api.register('creator');
    const room = await s.api.room(owner.token);
    const viewer = await s.api.register();
    const sock = await connect(s.url, viewer.token);
    const joinedAt = Date.now();
    await ok(sock, 'room:join', { roomId: room.id });
    await new Promise((r) => setTimeout(r, 2200));
    await ok(sock, 'room:leave', { roomId: room.id });
    const elapsed = (Date.now() - joinedAt) / 1000;
    const beats = (await recorded(s)).filter((e) => e.type === 'watch.heartbeat' && e.roomId === room.id);
    const seconds = beats.reduce((n, e) => n + (e.data as { seconds: number }).seconds, 0);
    expect(seconds).toBeGreaterThanOrEqual(2);
    expect(seconds).toBeLessThanOrEqual(Math.ceil(elapsed));
    expect(beats.every((e) => e.userId === viewer.user.id)).toBe(true);
  });
});
