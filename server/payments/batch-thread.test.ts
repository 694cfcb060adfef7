import { randomUUID } from 'node:crypto';
import { createTestDatabase, type TestDatabase } from '../../tests/helpers/db';
import { createKysely } from '../db/pool';
import { AppError } from '../errors';
import type { Done } from './batch';
import { MoneyBatchThread } from './batch-thread';
import { type ChargeRequest, SANDBOX_DECLINE, SandboxPaymentProvider } from './provider';

/**
 * The batcher on its own thread: answers and committed operations come back to the caller's
 * thread, provider charges go out to it, and a thread that dies fails what it held with
 * UNAVAILABLE and is replaced.
 */
let database: TestDatabase;
let userId: string;
let username: string;
let lessonId: string;
beforeAll(async () => {
  database = await createTestDatabase();
  const { db } = createKysely(database.url, 1);
  try {
    const user = (role: 'viewer' | 'creator') =>
      db
        .insertInto('users')
        .values({ username: `u${randomUUID().slice(0, 8)}`, password_hash: 'x', role })
        .returning(['id', 'username'])
        .executeTakeFirstOrThrow();
    ({ id: userId, username } = await user('viewer'));
    const creator = await user('creator');
    lessonId = (
      await db
        .insertInto('contents')
        .values({ creator_id: creator.id, title: 'Knots, lesson one', kind: 'lesson', price: 300, currency: 'USD' })
        .returning('id')
        .executeTakeFirstOrThrow()
    ).id;
  } finally {
    await db.destroy();
  }
});
afterAll(() => database.drop());

const data = () => ({
  databaseUrl: database.url,
  connections: 2,
  providerName: 'sandbox',
  config: { currency: 'USD', platformFeeBps: 1000, idempotencyTtlHours: 24, payoutHoldHours: 0 },
});

it('answers on the caller thread, after announcing what committed; a retry replays', async () => {
  const committed: Done[] = [];
  const sandbox = new SandboxPaymentProvider();
  const charged: ChargeRequest[] = [];
  const thread = new MoneyBatchThread({
    data: data(),
    provider: {
      charge: (r) => {
        charged.push(r);
        return sandbox.charge(r);
      },
    },
    committed: (done) => committed.push(...done),
  });
  try {
    const key = randomUUID();
    const first = await thread.submit(userId, key, { kind: 'topup', params: { amount: 700 } });
    expect(first).toMatchObject({ ok: true, status: 200, replayed: false, data: { balance: 700 } });
    // The domain events of a batch are out before its callers resume.
    expect(committed).toEqual([expect.objectContaining({ kind: 'topup', amount: 700, userId })]);
    expect(charged).toHaveLength(1);
    const again = await thread.submit(userId, key, { kind: 'topup', params: { amount: 700 } });
    expect(again).toMatchObject({ ok: true, replayed: true, data: { balance: 700 } });
    expect(committed).toHaveLength(1);
    // A provider's refusal crosses back as the operation's answer, code and all.
    const declined = await thread.submit(userId, randomUUID(), {
      kind: 'topup',
      params: { amount: 5, paymentMethod: SANDBOX_DECLINE },
    });
    expect(declined).toMatchObject({ ok: false, status: 402, error: { code: 'PAYMENT_DECLINED' } });
  } finally {
    await thread.close();
  }
});

it("a purchase's committed notice carries the buyer's name and the item's title (the sales feed asks nothing more)", async () => {
  const committed: Done[] = [];
  const thread = new MoneyBatchThread({
    data: data(),
    provider: new SandboxPaymentProvider(),
    committed: (done) => committed.push(...done),
  });
  try {
    await thread.submit(userId, randomUUID(), { kind: 'topup', params: { amount: 1000 } });
    const bought = await thread.submit(userId, randomUUID(), { kind: 'purchase', params: { contentId: lessonId } });
    expect(bought).toMatchObject({ ok: true, status: 201 });
    expect(committed.find((d) => d.kind === 'purchase')).toMatchObject({
      notice: { buyerName: username, title: 'Knots, lesson one' },
    });
  } finally {
    await thread.close();
  }
});

it('a thread that dies fails what it held with UNAVAILABLE, and the next operation runs on a new one', async () => {
  let hang: () => void = () => {};
  const sandbox = new SandboxPaymentProvider();
  let stall = true;
  const thread = new MoneyBatchThread({
    data: data(),
    provider: {
      charge: (r) =>
        stall ? new Promise((resolve) => (hang = () => resolve({ reference: 'late' }))) : sandbox.charge(r),
    },
    committed: () => {},
  });
  try {
    const held = thread.submit(userId, randomUUID(), { kind: 'topup', params: { amount: 1 } });
    await new Promise((resolve) => setTimeout(resolve, 300)); // the batch now waits on the charge
    await (thread as unknown as { worker: { terminate(): Promise<number> } }).worker.terminate();
    const err = await held.then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('UNAVAILABLE');
    hang();
    stall = false;
    const after = await thread.submit(userId, randomUUID(), { kind: 'topup', params: { amount: 2 } });
    expect(after).toMatchObject({ ok: true, status: 200 });
  } finally {
    await thread.close();
  }
});
