import { randomUUID } from 'node:crypto';
import { type ChargeRequest, SandboxPaymentProvider } from '../../server/payments';
import { HEALTHY_LEDGER, ledgerInvariants } from '../helpers/ledger';
import { type Account, startTestServer, type TestServer } from '../helpers/server';

/** The sandbox, remembering every charge it was asked for; it can fail the next one like a lost connection. */
class RecordingProvider extends SandboxPaymentProvider {
  readonly seen: ChargeRequest[] = [];
  failNext = false;

  override async charge(request: ChargeRequest) {
    this.seen.push(request);
    if (this.failNext) {
      this.failNext = false;
      throw new Error('connection reset by the provider');
    }
    return super.charge(request);
  }
}

const provider = new RecordingProvider();
let s: TestServer;
let viewer: Account;
beforeAll(async () => {
  s = await startTestServer({ MAX_TOPUP_AMOUNT: '100000' }, { paymentProvider: provider });
  viewer = await s.api.register('viewer');
});
afterAll(() => s.close());

const wallet = async () => (await s.api.get('/api/wallet', viewer.token)).body;

describe('wallet top-up through the sandbox provider', () => {
  it('credits the wallet and reports the balance in minor units', async () => {
    const before = (await wallet()).balance;
    const res = await s.api.post('/api/wallet/topup', { amount: 2500 }, viewer.token, randomUUID());
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ balance: before + 2500 });
    expect(await wallet()).toEqual({ balance: before + 2500, currency: 'USD' });
  });

  it('replays the first response for the same key and body, moving no money again', async () => {
    const key = randomUUID();
    const first = await s.api.post('/api/wallet/topup', { amount: 700 }, viewer.token, key);
    const again = await s.api.post('/api/wallet/topup', { amount: 700 }, viewer.token, key);
    expect(again.status).toBe(first.status);
    expect(again.body).toEqual(first.body);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    expect((await wallet()).balance).toBe(first.body.balance);
  });

  it('refuses the same key with a different body with CONFLICT', async () => {
    const key = randomUUID();
    await s.api.post('/api/wallet/topup', { amount: 100 }, viewer.token, key);
    const before = (await wallet()).balance;
    const res = await s.api.post('/api/wallet/topup', { amount: 101 }, viewer.token, key);
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('CONFLICT');
    expect((await wallet()).balance).toBe(before);
  });

  it('keys are per user: another user may use the same key', async () => {
    const other = await s.api.register('viewer');
    const key = randomUUID();
    expect((await s.api.post('/api/wallet/topup', { amount: 100 }, viewer.token, key)).status).toBe(200);
    const res = await s.api.post('/api/wallet/topup', { amount: 100 }, other.token, key);
    expect(res.status).toBe(200);
    expect(res.body.balance).toBe(100);
  });

  it('gives the provider a key of its own, distinct per user and stable across retries', async () => {
    const other = await s.api.register('viewer');
    const key = randomUUID();
    const charged = () => provider.seen.filter((c) => c.amount === 4321);
    expect((await s.api.post('/api/wallet/topup', { amount: 4321 }, viewer.token, key)).status).toBe(200);
    expect((await s.api.post('/api/wallet/topup', { amount: 4321 }, other.token, key)).status).toBe(200);
    const [mine, theirs] = charged();
    expect([mine.userId, theirs.userId]).toEqual([viewer.user.id, other.user.id]);
    // One merchant account sees both: the same raw key from two users must not collide there.
    expect(mine.idempotencyKey).not.toBe(theirs.idempotencyKey);
    expect([mine.idempotencyKey, theirs.idempotencyKey]).not.toContain(key);

    // The connection drops mid-charge: nothing is stored, and the retry reaches the provider
    // with the same key, so a provider that did take the money would not take it twice.
    const retried = randomUUID();
    provider.failNext = true;
    const lost = await s.api.post('/api/wallet/topup', { amount: 4321 }, viewer.token, retried);
    expect([lost.status, lost.body.error.code]).toEqual([500, 'INTERNAL']);
    expect((await s.api.post('/api/wallet/topup', { amount: 4321 }, viewer.token, retried)).status).toBe(200);
    const [first, again] = charged().slice(2);
    expect(again.idempotencyKey).toBe(first.idempotencyKey);
    expect(first.idempotencyKey).not.toBe(mine.idempotencyKey);
  });

  it('credits once when the same request races itself', async () => {
    const before = (await wallet()).balance;
    const key = randomUUID();
    const replies = await Promise.all(
      Array.from({ length: 12 }, () => s.api.post('/api/wallet/topup', { amount: 333 }, viewer.token, key)),
    );
    expect(replies.map((r) => r.status)).toEqual(Array(12).fill(200));
    expect(new Set(replies.map((r) => r.body.balance))).toEqual(new Set([before + 333]));
    expect((await wallet()).balance).toBe(before + 333);
  });

  it('a key older than its time to live is new again: the top-up runs again and the answer is replaced', async () => {
    const { db } = s.lectern.database;
    const key = randomUUID();
    const first = await s.api.post('/api/wallet/topup', { amount: 250 }, viewer.token, key);
    expect(first.status).toBe(200);
    expect((await s.api.post('/api/wallet/topup', { amount: 250 }, viewer.token, key)).body).toEqual(first.body);
    // 25 hours old, past IDEMPOTENCY_TTL_HOURS (24): a different request may use the key.
    await db
      .updateTable('idempotency_keys')
      .set({ created_at: new Date(Date.now() - 25 * 3600_000) })
      .where('key', '=', key)
      .execute();
    const again = await s.api.post('/api/wallet/topup', { amount: 40 }, viewer.token, key);
    expect(again.status).toBe(200);
    expect(again.body.balance).toBe(first.body.balance + 40);
    expect(again.headers.get('idempotent-replayed')).toBeNull();
    const rows = await db.selectFrom('idempotency_keys').select('response_body').where('key', '=', key).execute();
    expect(rows).toEqual([{ response_body: { data: { balance: first.body.balance + 40 } } }]);
  });

  it('a declined payment method moves nothing, and its retry replays the decline', async () => {
    const before = (await wallet()).balance;
    const key = randomUUID();
    const body = { amount: 900, paymentMethod: 'sandbox_decline' };
    const res = await s.api.post('/api/wallet/topup', body, viewer.token, key);
    expect(res.status).toBe(402);
    expect(res.body.error.code).toBe('PAYMENT_DECLINED');
    const again = await s.api.post('/api/wallet/topup', body, viewer.token, key);
    expect(again.body).toEqual(res.body);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect((await wallet()).balance).toBe(before);
  });

  it.each([
    ['no key', { amount: 100 }, undefined],
    ['a short key', { amount: 100 }, 'short'],
    ['a zero amount', { amount: 0 }, 'k-zero-amount'],
    ['a negative amount', { amount: -5 }, 'k-negative-amount'],
    ['a fractional amount', { amount: 10.5 }, 'k-fractional-amount'],
    ['an amount as a string', { amount: '100' }, 'k-string-amount'],
    ['an amount above the cap', { amount: 100001 }, 'k-above-cap'],
    ['an unknown field', { amount: 100, currency: 'EUR' }, 'k-unknown-field'],
  ])('refuses %s with INVALID_ARGUMENT and writes nothing', async (_what, body, key) => {
    const before = (await wallet()).balance;
    const res = await s.api.post('/api/wallet/topup', body, viewer.token, key);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('INVALID_ARGUMENT');
    expect((await wallet()).balance).toBe(before);
    if (key) {
      // A refused-at-the-door request does not burn its key.
      const keys = await s.lectern.database.db
        .selectFrom('idempotency_keys')
        .select('key')
        .where('key', '=', key)
        .execute();
      expect(keys).toEqual([]);
    }
  });

  it('requires authentication', async () => {
    const res = await s.api.post('/api/wallet/topup', { amount: 100 }, undefined, randomUUID());
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('UNAUTHENTICATED');
  });

  it('leaves a balanced ledger', async () => {
    expect(await ledgerInvariants(s.lectern)).toEqual(HEALTHY_LEDGER);
  });
});
