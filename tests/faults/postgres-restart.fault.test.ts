import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { PrivateCluster } from '../helpers/private-postgres';
import { type ServerProcess, spawnServer } from '../helpers/process';
import { Api, TEST_JWT_SECRET } from '../helpers/server';
import { closeAllSockets, connect, eventually, next, ok, send } from '../helpers/socket';

/**
 * Postgres goes down under a running server (its own cluster, so nothing else is disturbed) and
 * comes back. Money operations are refused with UNAVAILABLE while it is down and move nothing;
 * retried with the same keys afterwards, each happens once. Chat keeps flowing in connected rooms
 * and what was said meanwhile is saved when the database returns.
 */
let dir: string;
let database: PrivateCluster;
let server: ServerProcess;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'lectern-pg-fault-'));
  database = await PrivateCluster.create();
  server = await spawnServer({
    DATABASE_URL: database.url,
    JWT_SECRET: TEST_JWT_SECRET,
    PORT: '0',
    MEDIA_ENABLED: 'false',
    RECOMMENDER_ENABLED: 'false',
    DATA_DIR: path.join(dir, 'data'),
  });
}, 120_000);
afterAll(async () => {
  closeAllSockets();
  await server?.stop();
  await database?.destroy();
  rmSync(dir, { recursive: true, force: true });
});

it('Postgres restarted: money is refused with UNAVAILABLE and moves nothing, then succeeds once; chat flows throughout', async () => {
  const api = new Api(server.url);
  const owner = await api.register('creator');
  const room = await api.room(owner.token);
  await api.post(`/api/rooms/${room.id}/start`, {}, owner.token);
  const [alice, bob] = await Promise.all([api.register(), api.register()]);
  await api.topUp(alice.token, 1000);
  const a = await connect(server.url, alice.token);
  const b = await connect(server.url, bob.token);
  await ok(a, 'room:join', { roomId: room.id });
  await ok(b, 'room:join', { roomId: room.id });

  await database.stop();
  const topUpKey = randomUUID();
  const topUp = () => api.post('/api/wallet/topup', { amount: 250 }, alice.token, topUpKey);
  const during = await topUp();
  expect([during.status, during.body.error?.code]).toEqual([503, 'UNAVAILABLE']);
  const tipKey = randomUUID();
  const tip = () => send(a, 'tip:send', { roomId: room.id, amount: 10, idempotencyKey: tipKey });
  const tipDuring = await tip();
  expect(tipDuring.ok ? 'ok' : tipDuring.error.code).toBe('UNAVAILABLE');
  // The room keeps talking.
  const heard = next(b, 'chat:message', (m) => m.text === 'still here');
  await ok(a, 'chat:send', { roomId: room.id, text: 'still here' });
  await heard;

  await database.start();
  await eventually(
    async () => (await topUp()).status === 200,
    30_000,
    'the top-up to go through once Postgres is back',
  );
  await eventually(async () => (await tip()).ok, 30_000, 'the tip to go through');
  // Each happened once: the attempts while Postgres was down moved nothing.
  expect((await api.get('/api/wallet', alice.token)).body.balance).toBe(1000 + 250 - 10);

  const check = new pg.Client({ connectionString: database.url });
  await check.connect();
  try {
    await eventually(
      async () =>
        (await check.query('SELECT count(*)::int AS n FROM chat_messages WHERE text = $1', ['still here'])).rows[0]
          .n === 1,
      15_000,
      'the message said during the outage to be saved',
    );
    const { rows } = await check.query<{ unbalanced: number; negative: number }>(`
      SELECT
        (SELECT count(*)::int FROM (SELECT 1 FROM ledger_entries GROUP BY transaction_id HAVING sum(amount) <> 0) t) AS unbalanced,
        (SELECT count(*)::int FROM account_balances WHERE kind = 'wallet' AND balance < 0) AS negative`);
    expect(rows[0]).toEqual({ unbalanced: 0, negative: 0 });
  } finally {
    await check.end();
  }
  // And the server is still whole: a new room starts, chat and money work.
  expect(server.child.exitCode).toBeNull();
});
