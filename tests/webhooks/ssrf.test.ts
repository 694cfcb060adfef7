import type { WebhookDelivery } from '../../server/webhooks';
import { startTestServer, type TestServer } from '../helpers/server';
import { eventually } from '../helpers/socket';
import { Receiver } from './receiver';

/** With WEBHOOK_ALLOW_PRIVATE_URLS at its default (false): no webhook reaches a private address. */

let s: TestServer;
let endpoint: Receiver;
beforeAll(async () => {
  s = await startTestServer({ WEBHOOK_MAX_ATTEMPTS: '1', WEBHOOK_POLL_INTERVAL_MS: '50' });
  endpoint = await Receiver.start();
});
afterAll(async () => {
  await s.close();
  await endpoint.close();
});

it('refuses to register URLs of loopback, private, link-local and metadata addresses', async () => {
  const creator = await s.api.register('creator');
  for (const url of [
    endpoint.url,
    'http://localhost:8080/hooks',
    'http://[::1]/hooks',
    'http://10.0.0.7/hooks',
    'http://192.168.1.20/hooks',
    'http://169.254.169.254/latest/meta-data',
    'http://[::ffff:127.0.0.1]/hooks',
    'http://0.0.0.0/hooks',
  ]) {
    const res = await s.api.post('/api/webhooks', { url, events: ['room.started'] }, creator.token);
    expect([url, res.status, res.body.error.code]).toEqual([url, 400, 'INVALID_ARGUMENT']);
    expect(res.body.error.message).toMatch(/not a public address/);
  }
});

it('does not connect to a private address at delivery time either (a host whose DNS changed)', async () => {
  const creator = await s.api.register('creator');
  // As if the URL had resolved to a public address when it was registered.
  const { id } = await s.lectern.database.db
    .insertInto('webhooks')
    .values({
      owner_id: creator.user.id,
      scope: 'creator',
      url: endpoint.url,
      events: ['room.started'],
      secret: 'whsec_x',
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  const room = await s.api.room(creator.token);
  await s.api.post(`/api/rooms/${room.id}/start`, {}, creator.token);
  const list = async () =>
    (await s.api.get<{ deliveries: WebhookDelivery[] }>(`/api/webhooks/${id}/deliveries`, creator.token)).body
      .deliveries;
  await eventually(async () => (await list())[0]?.status === 'failed', 10_000, 'the delivery to fail');
  const [delivery] = await list();
  expect(delivery).toMatchObject({ status: 'failed', attempts: 1, lastStatusCode: null });
  expect(delivery.lastError).toBe('127.0.0.1 is not a public address');
  expect(endpoint.received).toEqual([]);
});
