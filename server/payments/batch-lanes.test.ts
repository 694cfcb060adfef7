import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type pg from 'pg';
import { createTestDatabase, type TestDatabase } from '../../tests/helpers/db';
import type { DB } from '../db';
import { createKysely } from '../db/pool';
import { MoneyBatcher } from './batch';
import { Accounts } from './ledger';
import { type ChargeRequest, SandboxPaymentProvider } from './provider';

/**
 * The batcher's lanes (docs/money.md#throughput): sales (tips and purchases) are written by one
 * writer, a batch at a time, however many connections it has; top-ups, which wait on the payment
 * provider between their round trips, are written beside them and never hold them up.
 */
let database: TestDatabase;
let db: Kysely<DB>;
let pool: pg.Pool;
let buyers: string[];
let lessons: string[];
/** Bought while a top-up waits on the provider. */
let lateLesson: string;
beforeAll(async () => {
  database = await createTestDatabase();
  ({ db, pool } = createKysely(database.url, 4));
  const user = (role: 'viewer' | 'creator') =>
    db
      .insertInto('users')
      .values({ username: `u${randomUUID().slice(0, 8)}`, password_hash: 'x', role })
      .returning('id')
      .executeTakeFirstOrThrow()
      .then((u) => u.id);
  const creator = await user('creator');
  buyers = await Promise.all(Array.from({ length: 24 }, () => user('viewer')));
  [lateLesson, ...lessons] = await Promise.all(
    Array.from({ length: 4 }, (_, i) =>
      db
        .insertInto('contents')
        .values({ creator_id: creator, title: `Lesson ${i}`, kind: 'lesson', price: 100, currency: 'USD' })
        .returning('id')
        .executeTakeFirstOrThrow()
        .then((c) => c.id),
    ),
  );
});
afterAll(async () => {
  await db.destroy();
  await database.drop();
});

/** A batcher on `pool`, counting how many of its transactions are open at once. */
function batcher(provider: { name: string; charge: (r: ChargeRequest) => Promise<{ reference: string }> }) {
  const open = { now: 0, most: 0 };
  const counting = {
    connect: async () => {
      const client = await pool.connect();
      open.most = Math.max(open.most, ++open.now);
      const release = client.release.bind(client);
      client.release = (err?: Error | boolean) => {
        open.now--;
        return release(err);
      };
      return client;
    },
  } as unknown as pg.Pool;
  const b = new MoneyBatcher({
    db,
    pool: counting,
    config: { currency: 'USD', platformFeeBps: 1000, idempotencyTtlHours: 24, payoutHoldHours: 0 },
    provider,
    accounts: new Accounts(),
    concurrency: 4,
    maxBatch: 5,
    committed: () => {},
  });
  return { b, open };
}

it('writes sales one batch at a time, whatever else it has connections for', async () => {
  const { b, open } = batcher(new SandboxPaymentProvider());
  for (const buyer of buyers) {
    await b.submit(buyer, randomUUID(), { kind: 'topup', params: { amount: 1000 } });
  }
  open.most = 0;
  // 72 purchases at once, at most 5 a batch: many batches, never two at the same time.
  const outcomes = await Promise.all(
    buyers.flatMap((buyer) =>
      lessons.map((contentId) => b.submit(buyer, randomUUID(), { kind: 'purchase', params: { contentId } })),
    ),
  );
  expect(outcomes.filter((o) => o.ok)).toHaveLength(buyers.length * lessons.length);
  expect(open.most).toBe(1);
  const { count } = await db
    .selectFrom('purchases')
    .select((eb) => eb.fn.countAll<string>().as('count'))
    .executeTakeFirstOrThrow();
  expect(Number(count)).toBe(buyers.length * lessons.length);
});

it('a top-up waiting on the provider does not hold up sales', async () => {
  const sandbox = new SandboxPaymentProvider();
  let answer: () => void = () => {};
  const stalled = new Promise<void>((resolve) => (answer = resolve));
  const { b } = batcher({
    name: sandbox.name,
    charge: async (r) => {
      if (r.amount === 7) await stalled;
      return sandbox.charge(r);
    },
  });
  const buyer = buyers[0];
  const slowTopUp = b.submit(buyer, randomUUID(), { kind: 'topup', params: { amount: 7 } });
  let toppedUp = false;
  void slowTopUp.then(() => (toppedUp = true));
  // The buyer's wallet was funded by the first test; no wallet is locked while the provider answers.
  const bought = await b.submit(buyer, randomUUID(), { kind: 'purchase', params: { contentId: lateLesson } });
  expect(bought).toMatchObject({ ok: true, status: 201 });
  expect(toppedUp).toBe(false);
  answer();
  expect(await slowTopUp).toMatchObject({ ok: true, status: 200 });
  await b.drain();
});
