import { randomUUID } from 'node:crypto';
import { type Lectern, startLectern } from '../../server/app';
import { verifySignature, type Webhook, type WebhookDelivery } from '../../server/webhooks';
import { type Account, startTestServer, type TestServer } from '../helpers/server';
import { closeAllSockets, connect, eventually, ok } from '../helpers/socket';
import { Receiver } from './receiver';

/**
 * Webhooks against real endpoints on 127.0.0.1 (allowed by WEBHOOK_ALLOW_PRIVATE_URLS), with
 * short retry delays: signatures, retries with backoff, final failure, manual redelivery, who
 * receives what, and several deliverers sharing one queue.
 */

const MAX_ATTEMPTS = 4;
const RETRY_BASE_MS = 100;

let s: TestServer;
const receivers: Receiver[] = [];
const receiver = async (answer?: Receiver['answer']) => {
  const r = await Receiver.start(answer);
  receivers.push(r);
  return r;
};

beforeAll(async () => {
  s = await startTestServer({
    WEBHOOK_ALLOW_PRIVATE_URLS: 'true',
    WEBHOOK_MAX_ATTEMPTS: String(MAX_ATTEMPTS),
    WEBHOOK_RETRY_BASE_MS: String(RETRY_BASE_MS),
    WEBHOOK_RETRY_MAX_MS: '1000',
    WEBHOOK_POLL_INTERVAL_MS: '50',
    WEBHOOK_TIMEOUT_MS: '500',
  });
});
afterAll(async () => {
  closeAllSockets();
  await s.close();
  await Promise.all(receivers.map((r) => r.close()));
});

async function register(account: Account, url: string, events: string[], extra: Record<string, unknown> = {}) {
  const res = await s.api.post<{ webhook: Webhook; secret: string }>(
    '/api/webhooks',
    { url, events, ...extra },
    account.token,
  );
  if (res.status !== 201) throw new Error(`register failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

async function deliveries(account: Account, webhookId: string): Promise<WebhookDelivery[]> {
  const res = await s.api.get<{ deliveries: WebhookDelivery[] }>(
    `/api/webhooks/${webhookId}/deliveries`,
    account.token,
  );
  expect(res.status).toBe(200);
  return res.body.deliveries;
}

async function startRoom(creator: Account) {
  const room = await s.api.room(creator.token);
  await s.api.post(`/api/rooms/${room.id}/start`, {}, creator.token);
  return room as { id: string };
}

describe('webhook deliveries', () => {
  it('are signed, so the receiver can verify them, for rooms, purchases, tips and subscriptions', async () => {
    const creator = await s.api.register('creator');
    const endpoint = await receiver();
    const { webhook, secret } = await register(creator, endpoint.url, [
      'room.started',
      'room.ended',
      'purchase.completed',
      'tip.created',
      'subscription.started',
    ]);
    expect(secret).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
    expect(webhook).toMatchObject({ ownerId: creator.user.id, scope: 'creator', url: endpoint.url });
    const listed = await s.api.get<{ webhooks: Webhook[] }>('/api/webhooks', creator.token);
    expect(listed.body.webhooks).toEqual([webhook]); // the secret is shown once, at creation

    const room = await startRoom(creator);
    const lesson = await s.api.content(creator.token, { price: 400 });
    await s.api.request('PATCH', '/api/creators/me', { body: { subscriptionPrice: 900 }, token: creator.token });
    const viewer = await s.api.register();
    await s.api.topUp(viewer.token, 5000);
    expect((await s.api.post('/api/purchases', { contentId: lesson.id }, viewer.token, randomUUID())).status).toBe(201);
    expect(
      (await s.api.post('/api/subscriptions', { creatorId: creator.user.id }, viewer.token, randomUUID())).status,
    ).toBe(201);
    const sock = await connect(s.url, viewer.token);
    await ok(sock, 'room:join', { roomId: room.id });
    await ok(sock, 'tip:send', { roomId: room.id, amount: 150, idempotencyKey: randomUUID() });
    await s.api.post(`/api/rooms/${room.id}/end`, {}, creator.token);

    // room.started, purchase.completed (lesson), purchase.completed + subscription.started (the
    // subscription is a purchase too), tip.created, room.ended
    await eventually(() => endpoint.received.length === 6, 10_000, 'six deliveries');
    for (const r of endpoint.received) {
      expect(r.headers['content-type']).toBe('application/json');
      expect(verifySignature(secret, r.body, r.headers['lectern-signature'] as string)).toBe(true);
      expect(verifySignature('whsec_wrong', r.body, r.headers['lectern-signature'] as string)).toBe(false);
      expect(verifySignature(secret, `${r.body} `, r.headers['lectern-signature'] as string)).toBe(false);
      const payload = JSON.parse(r.body);
      expect(r.headers['lectern-event-id']).toBe(payload.id);
      expect(r.headers['lectern-event-type']).toBe(payload.type);
      expect(r.headers['lectern-delivery-attempt']).toBe('1');
    }
    const byType: Record<string, ReturnType<Receiver['payloads']>> = {};
    for (const p of endpoint.payloads()) byType[p.type] = [...(byType[p.type] ?? []), p];
    expect(Object.keys(byType).sort()).toEqual(
      ['purchase.completed', 'room.ended', 'room.started', 'subscription.started', 'tip.created'].sort(),
    );
    expect(byType['room.started']![0].data.room).toMatchObject({
      id: room.id,
      ownerId: creator.user.id,
      status: 'live',
    });
    expect(byType['room.ended']![0].data.room).toMatchObject({ id: room.id, status: 'ended' });
    expect(byType['purchase.completed']!.map((p) => p.data.purchase.kind).sort()).toEqual(['content', 'subscription']);
    expect(byType['tip.created']![0].data).toMatchObject({ creatorId: creator.user.id, tip: { amount: 150 } });
    expect(byType['subscription.started']![0].data).toMatchObject({
      creatorId: creator.user.id,
      subscriberId: viewer.user.id,
      purchase: { amount: 900 },
    });

    await eventually(async () => (await deliveries(creator, webhook.id)).every((d) => d.status === 'succeeded'));
    const list = await deliveries(creator, webhook.id);
    expect(list).toHaveLength(6);
    for (const d of list) {
      expect(d).toMatchObject({
        status: 'succeeded',
        attempts: 1,
        lastStatusCode: 200,
        lastError: null,
        nextAttemptAt: null,
      });
      expect(d.deliveredAt).not.toBeNull();
    }
    const one = await s.api.get(`/api/webhooks/${webhook.id}/deliveries/${list[0].id}`, creator.token);
    expect(one.body.delivery.payload).toEqual(
      JSON.parse(endpoint.received.find((r) => r.headers['lectern-delivery-id'] === list[0].id)!.body),
    );
  });

  it('tell a creator of a refund of their sale (purchase.refunded), once, and not another creator', async () => {
    const creator = await s.api.register('creator');
    const bystander = await s.api.register('creator');
    const endpoint = await receiver();
    const elsewhere = await receiver();
    const { webhook, secret } = await register(creator, endpoint.url, ['purchase.refunded']);
    const theirs = await register(bystander, elsewhere.url, ['purchase.refunded', 'purchase.completed']);
    const lesson = await s.api.content(creator.token, { price: 700 });
    const viewer = await s.api.register();
    await s.api.topUp(viewer.token, 1000);
    const bought = await s.api.post('/api/purchases', { contentId: lesson.id }, viewer.token, randomUUID());
    expect(bought.status).toBe(201);
    const admin = await s.admin();
    const key = randomUUID();
    const refunded = await s.api.post(`/api/admin/purchases/${bought.body.purchase.id}/refund`, {}, admin.token, key);
    expect(refunded.status).toBe(200);
    // Retried by the admin's client: the same answer, no second event.
    expect(
      (await s.api.post(`/api/admin/purchases/${bought.body.purchase.id}/refund`, {}, admin.token, key)).status,
    ).toBe(200);

    await eventually(() => endpoint.received.length === 1, 10_000, 'the refund delivered');
    const [r] = endpoint.received;
    expect(verifySignature(secret, r.body, r.headers['lectern-signature'] as string)).toBe(true);
    expect(r.headers['lectern-event-type']).toBe('purchase.refunded');
    const payload = JSON.parse(r.body);
    expect(payload).toMatchObject({
      type: 'purchase.refunded',
      data: {
        purchase: {
          id: bought.body.purchase.id,
          kind: 'content',
          creatorId: creator.user.id,
          buyerId: viewer.user.id,
          amount: 700,
          fee: 70,
          status: 'refunded',
        },
      },
    });
    expect(payload.data.purchase.refundedAt).toEqual(refunded.body.purchase.refundedAt);
    await eventually(async () => (await deliveries(creator, webhook.id)).every((d) => d.status === 'succeeded'));
    expect((await deliveries(creator, webhook.id)).map((d) => d.eventType)).toEqual(['purchase.refunded']);
    await s.lectern.outbox.drain();
    expect(endpoint.received).toHaveLength(1);
    // Queued in the same transaction as the creator's: none for another creator's sale and refund.
    expect(await deliveries(bystander, theirs.webhook.id)).toEqual([]);
    expect(elsewhere.received).toHaveLength(0);
  });

  it('are retried with growing delays until the endpoint accepts them', async () => {
    const creator = await s.api.register('creator');
    let releaseSecond!: () => void;
    const secondHeld = new Promise<void>((resolve) => {
      releaseSecond = resolve;
    });
    const endpoint = await receiver(async (n) => {
      if (n === 2) await secondHeld; // hold the second attempt while the test looks at the delivery
      return n <= 2 ? { status: 500, body: 'try later' } : { status: 204 };
    });
    const { webhook, secret } = await register(creator, endpoint.url, ['room.started']);
    await startRoom(creator);

    await eventually(() => endpoint.received.length === 2, 10_000, 'a second attempt');
    // The first attempt's outcome is recorded; the second is in flight (counted when claimed).
    const [inFlight] = await deliveries(creator, webhook.id);
    expect(inFlight).toMatchObject({
      status: 'pending',
      attempts: 2,
      lastStatusCode: 500,
      lastError: 'HTTP 500: try later',
      deliveredAt: null,
    });
    releaseSecond();

    await eventually(async () => (await deliveries(creator, webhook.id))[0].status === 'succeeded', 10_000, 'success');
    const [done] = await deliveries(creator, webhook.id);
    expect(done).toMatchObject({ status: 'succeeded', attempts: 3, lastStatusCode: 204, lastError: null });
    expect(endpoint.received).toHaveLength(3);
    // The same event, body and id every time, each attempt signed afresh and numbered.
    expect(new Set(endpoint.received.map((r) => r.body)).size).toBe(1);
    expect(endpoint.received.map((r) => r.headers['lectern-delivery-attempt'])).toEqual(['1', '2', '3']);
    for (const r of endpoint.received)
      expect(verifySignature(secret, r.body, r.headers['lectern-signature'] as string)).toBe(true);
    // Backoff: the first retry waits at least the base delay (the second, held above, is not measured).
    expect(endpoint.received[1].at - endpoint.received[0].at).toBeGreaterThanOrEqual(RETRY_BASE_MS - 5);
  });

  it('end `failed` after the last attempt, and can be sent again by hand', async () => {
    const creator = await s.api.register('creator');
    let healthy = false;
    const endpoint = await receiver(() => (healthy ? { status: 200 } : { status: 503, body: 'down' }));
    const { webhook } = await register(creator, endpoint.url, ['room.started']);
    await startRoom(creator);

    await eventually(async () => (await deliveries(creator, webhook.id))[0]?.status === 'failed', 15_000, 'failure');
    const [failed] = await deliveries(creator, webhook.id);
    expect(failed).toMatchObject({
      status: 'failed',
      attempts: MAX_ATTEMPTS,
      lastStatusCode: 503,
      lastError: 'HTTP 503: down',
      nextAttemptAt: null,
      deliveredAt: null,
    });
    expect(endpoint.received).toHaveLength(MAX_ATTEMPTS);
    const failedOnly = await s.api.get(`/api/webhooks/${webhook.id}/deliveries?status=failed`, creator.token);
    expect(failedOnly.body.deliveries.map((d: WebhookDelivery) => d.id)).toEqual([failed.id]);
    expect(
      (await s.api.get(`/api/webhooks/${webhook.id}/deliveries?status=pending`, creator.token)).body.deliveries,
    ).toEqual([]);

    // A manual redelivery is one more attempt.
    healthy = true;
    const redeliver = `/api/webhooks/${webhook.id}/deliveries/${failed.id}/redeliver`;
    const again = await s.api.post(redeliver, {}, creator.token);
    expect(again.status).toBe(200);
    expect(again.body.delivery).toMatchObject({ status: 'pending', attempts: MAX_ATTEMPTS });
    await eventually(async () => (await deliveries(creator, webhook.id))[0].status === 'succeeded', 10_000, 'success');
    expect((await deliveries(creator, webhook.id))[0]).toMatchObject({
      attempts: MAX_ATTEMPTS + 1,
      lastStatusCode: 200,
    });
    expect(endpoint.received).toHaveLength(MAX_ATTEMPTS + 1);
  });

  it('count an endpoint that does not answer in time as a failed attempt', async () => {
    const creator = await s.api.register('creator');
    const endpoint = await receiver(() => 'hang');
    const { webhook } = await register(creator, endpoint.url, ['room.started']);
    await startRoom(creator);
    await eventually(
      async () => (await deliveries(creator, webhook.id))[0]?.lastError === 'no answer within 500 ms',
      10_000,
      'a timed-out attempt',
    );
    const [d] = await deliveries(creator, webhook.id);
    expect(d).toMatchObject({ lastStatusCode: null });
    // Deleting the webhook drops its deliveries: nothing more is sent.
    expect((await s.api.request('DELETE', `/api/webhooks/${webhook.id}`, { token: creator.token })).status).toBe(204);
    expect((await s.api.get(`/api/webhooks/${webhook.id}`, creator.token)).status).toBe(404);
    expect(
      await s.lectern.database.db
        .selectFrom('webhook_deliveries')
        .where('webhook_id', '=', webhook.id)
        .selectAll()
        .execute(),
    ).toEqual([]);
  });
});

describe('who receives what', () => {
  it("a creator gets only their own rooms' and sales' events; a platform webhook gets everyone's", async () => {
    const alice = await s.api.register('creator');
    const bob = await s.api.register('creator');
    const admin = await s.admin();
    const [aliceEndpoint, bobEndpoint, platformEndpoint] = await Promise.all([receiver(), receiver(), receiver()]);
    const events = ['room.started', 'purchase.completed'];
    const aliceHook = await register(alice, aliceEndpoint.url, events);
    const bobHook = await register(bob, bobEndpoint.url, events);
    await register(admin, platformEndpoint.url, events, { scope: 'platform' });

    const aliceRoom = await startRoom(alice);
    const bobLesson = await s.api.content(bob.token, { price: 300 });
    // Alice buys Bob's lesson: a sale of Bob's, not Alice's, although she is the buyer.
    await s.api.topUp(alice.token, 1000);
    expect((await s.api.post('/api/purchases', { contentId: bobLesson.id }, alice.token, randomUUID())).status).toBe(
      201,
    );

    const mine = (r: Receiver) =>
      r.payloads().filter((p) => p.data.room?.id === aliceRoom.id || p.data.purchase?.contentId === bobLesson.id);
    await eventually(() => mine(platformEndpoint).length === 2, 10_000, 'the platform webhook to get both');
    await eventually(() => mine(aliceEndpoint).length === 1 && mine(bobEndpoint).length === 1, 10_000, 'one each');
    expect(aliceEndpoint.payloads().map((p) => p.type)).toEqual(['room.started']);
    expect(bobEndpoint.payloads().map((p) => p.type)).toEqual(['purchase.completed']);
    expect(bobEndpoint.payloads()[0].data.purchase).toMatchObject({ contentId: bobLesson.id, creatorId: bob.user.id });
    // The same event has the same id for every webhook that receives it.
    const started = mine(platformEndpoint).find((p) => p.type === 'room.started')!;
    expect(started.id).toBe(aliceEndpoint.payloads()[0].id);

    // Webhooks and their deliveries are their owner's (and admins') business.
    expect((await s.api.get(`/api/webhooks/${aliceHook.webhook.id}`, bob.token)).body.error.code).toBe('FORBIDDEN');
    expect((await s.api.get(`/api/webhooks/${aliceHook.webhook.id}/deliveries`, bob.token)).status).toBe(403);
    expect((await s.api.get(`/api/webhooks/${bobHook.webhook.id}/deliveries`, admin.token)).status).toBe(200);
    const bobsList = await s.api.get<{ webhooks: Webhook[] }>('/api/webhooks', bob.token);
    expect(bobsList.body.webhooks.map((w) => w.id)).toEqual([bobHook.webhook.id]);
  });

  it('a platform webhook stops with its owner’s admin role: nothing new is queued, nothing pending is sent', async () => {
    const creator = await s.api.register('creator');
    const lesson = await s.api.content(creator.token, { price: 100 });
    const buyer = await s.api.register();
    await s.api.topUp(buyer.token, 1000);
    const admin = await s.admin();
    // The first attempt fails, so the delivery waits for a retry.
    const endpoint = await receiver((n) => (n === 1 ? { status: 503 } : { status: 200 }));
    const { webhook } = await register(admin, endpoint.url, ['purchase.completed'], { scope: 'platform' });
    const buy = () => s.api.post('/api/purchases', { contentId: lesson.id }, buyer.token, randomUUID());
    expect((await buy()).status).toBe(201);
    await eventually(() => endpoint.received.length === 1, 10_000, 'the first attempt');

    await s.lectern.services.auth.setRole(admin.user.username, 'viewer');
    const other = await s.api.content(creator.token, { price: 100 });
    expect((await s.api.post('/api/purchases', { contentId: other.id }, buyer.token, randomUUID())).status).toBe(201);

    const rows = () =>
      s.lectern.database.db
        .selectFrom('webhook_deliveries')
        .select(['status', 'last_error'])
        .where('webhook_id', '=', webhook.id)
        .execute();
    await eventually(async () => (await rows()).every((r) => r.status === 'failed'), 10_000, 'the pending one failed');
    expect(await rows()).toEqual([{ status: 'failed', last_error: 'the webhook’s owner is no longer an admin' }]);
    await new Promise((r) => setTimeout(r, 500)); // retries would have come by now
    expect(endpoint.received).toHaveLength(1);
  });

  it('only creators and admins register, and only admins platform-wide', async () => {
    const viewer = await s.api.register();
    const creator = await s.api.register('creator');
    const url = 'http://127.0.0.1:9/hooks';
    const body = { url, events: ['room.started'] };
    expect((await s.api.post('/api/webhooks', body)).status).toBe(401);
    expect((await s.api.post('/api/webhooks', body, viewer.token)).body.error.code).toBe('FORBIDDEN');
    expect((await s.api.post('/api/webhooks', { ...body, scope: 'platform' }, creator.token)).body.error.code).toBe(
      'FORBIDDEN',
    );
    for (const bad of [
      { ...body, url: 'ftp://example.com/hooks' },
      { ...body, url: 'not a url' },
      { ...body, url: 'http://user:secret@example.com/' },
      { ...body, events: [] },
      { ...body, events: ['wallet.topup'] },
      { ...body, secret: 'mine' },
    ]) {
      const res = await s.api.post('/api/webhooks', bad, creator.token);
      expect([res.status, res.body.error.code]).toEqual([400, 'INVALID_ARGUMENT']);
    }
  });
});

describe('several nodes', () => {
  let second: Lectern;
  afterAll(async () => {
    await second?.close();
  });

  it('share the delivery queue and send each delivery once', async () => {
    // A second node on the same database: both deliverers claim from the same table.
    second = await startLectern(s.lectern.config);
    const creator = await s.api.register('creator');
    const endpoint = await receiver();
    const { webhook } = await register(creator, endpoint.url, ['room.started', 'room.ended']);
    const rooms = await Promise.all(Array.from({ length: 10 }, () => s.api.room(creator.token)));
    for (const room of rooms) {
      await s.api.post(`/api/rooms/${room.id}/start`, {}, creator.token);
      await s.api.post(`/api/rooms/${room.id}/end`, {}, creator.token);
    }
    await eventually(async () => {
      const list = await deliveries(creator, webhook.id);
      return list.length === 20 && list.every((d) => d.status === 'succeeded');
    }, 15_000);
    const ids = endpoint.received.map((r) => r.headers['lectern-delivery-id']);
    expect(ids).toHaveLength(20);
    expect(new Set(ids).size).toBe(20);
  });
});
