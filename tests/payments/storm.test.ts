import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { migrations } from '../../migrations';
import { HEALTHY_LEDGER, ledgerInvariants } from '../helpers/ledger';
import { type Account, startTestServer, type TestServer } from '../helpers/server';
import { type ClientSocket, closeAllSockets, connect, ok, send } from '../helpers/socket';

/**
 * A storm of concurrent money operations through the batcher (real Postgres): tips into one room,
 * lesson purchases and top-ups at once, wallets that run dry, keys sent twice at the same moment.
 * Every acknowledged operation is in the ledger exactly once, no wallet goes negative, every
 * balance is the sum of its entries, every transaction balances — and each wallet ends exactly
 * where the answers say.
 */
let s: TestServer;
let creator: Account;

beforeAll(async () => {
  s = await startTestServer({ SOCKET_EVENTS_PER_SECOND: '10000', TIP_PIN_THRESHOLD: '1000000' });
  creator = await s.api.register('creator');
});
afterEach(closeAllSockets);
afterAll(() => s.close());

interface Tipper {
  account: Account;
  sock: ClientSocket;
  start: number;
}

it('holds every invariant through a storm of tips, purchases and top-ups', async () => {
  const room = await s.api.room(creator.token, { access: 'free' });
  await s.api.post(`/api/rooms/${room.id}/start`, {}, creator.token);
  const lessons = await Promise.all(
    Array.from({ length: 6 }, (_, i) => s.api.content(creator.token, { price: 150 + i })),
  );
  const tippers: Tipper[] = [];
  for (let i = 0; i < 30; i++) {
    const account = await s.api.register();
    // Some start nearly empty: their later operations must be refused, never overdraw.
    const start = i % 5 === 0 ? 300 : 5000;
    await s.api.topUp(account.token, start);
    const sock = await connect(s.url, account.token);
    await ok(sock, 'room:join', { roomId: room.id });
    tippers.push({ account, sock, start });
  }

  type Answer = {
    kind: 'tip' | 'purchase' | 'topup';
    user: string;
    amount: number;
    ok: boolean;
    id?: string;
    key: string;
  };
  const answers: Answer[] = [];
  const duplicates: Promise<unknown>[] = [];
  await Promise.all(
    tippers.map(async (t, i) => {
      for (let k = 0; k < 12; k++) {
        const key = randomUUID();
        const roll = (i + k) % 4;
        if (roll === 0) {
          const lesson = lessons[(i + k) % lessons.length];
          const res = await s.api.post('/api/purchases', { contentId: lesson.id }, t.account.token, key);
          answers.push({
            kind: 'purchase',
            user: t.account.user.id,
            amount: lesson.price,
            ok: res.status === 201,
            id: res.body.purchase?.id,
            key,
          });
        } else if (roll === 1 && k % 3 === 0) {
          const res = await s.api.post('/api/wallet/topup', { amount: 200 }, t.account.token, key);
          answers.push({ kind: 'topup', user: t.account.user.id, amount: 200, ok: res.status === 200, key });
        } else {
          const amount = 50 + ((i * 7 + k * 13) % 400);
          // Every fourth tip is sent twice at once with the same key: one payment, one answer.
          const attempts = k % 4 === 0 ? 2 : 1;
          const replies = await Promise.all(
            Array.from({ length: attempts }, () =>
              send(t.sock, 'tip:send', { roomId: room.id, amount, idempotencyKey: key }),
            ),
          );
          const first = replies[0];
          if (attempts === 2) duplicates.push(Promise.resolve(expect(replies[1]).toEqual(first)));
          answers.push({
            kind: 'tip',
            user: t.account.user.id,
            amount,
            ok: first.ok,
            id: first.ok ? first.data.tip.id : undefined,
            key,
          });
        }
      }
    }),
  );
  await Promise.all(duplicates);

  const { db } = s.lectern.database;
  // Exactly once: every acknowledged tip and purchase is a row, and every row was acknowledged.
  const tipRows = (await db.selectFrom('tips').select('id').where('room_id', '=', room.id).execute()).map((r) => r.id);
  const purchaseRows = (
    await db.selectFrom('purchases').select('id').where('creator_id', '=', creator.user.id).execute()
  ).map((r) => r.id);
  const acked = (kind: Answer['kind']) => answers.filter((a) => a.kind === kind && a.ok).map((a) => a.id);
  expect(new Set(tipRows)).toEqual(new Set(acked('tip')));
  expect(tipRows).toHaveLength(acked('tip').length);
  expect(new Set(purchaseRows)).toEqual(new Set(acked('purchase')));

  // Each wallet ends where its answers say: start + top-ups − what was paid.
  for (const t of tippers) {
    const mine = answers.filter((a) => a.user === t.account.user.id && a.ok);
    const expected =
      t.start +
      mine.filter((a) => a.kind === 'topup').reduce((n, a) => n + a.amount, 0) -
      mine.filter((a) => a.kind !== 'topup').reduce((n, a) => n + a.amount, 0);
    expect((await s.api.get('/api/wallet', t.account.token)).body.balance).toBe(expected);
  }
  // Some were refused (the near-empty wallets), none overdrew.
  expect(answers.some((a) => !a.ok)).toBe(true);
  expect(await ledgerInvariants(s.lectern)).toEqual(HEALTHY_LEDGER);

  // The room's leaderboard: each tipper's acknowledged tips, summed (their running totals).
  const tipped = new Map<string, number>();
  for (const a of answers) if (a.kind === 'tip' && a.ok) tipped.set(a.user, (tipped.get(a.user) ?? 0) + a.amount);
  const board = await s.lectern.services.payments.tipLeaderboard(room.id, 100);
  expect(new Map(board.map((e) => [e.user.id, e.total]))).toEqual(tipped);
  expect(board.map((e) => e.total)).toEqual([...tipped.values()].sort((a, b) => b - a));

  // Rolled up, the derived balances (platform revenue, pending earnings, provider) are unchanged.
  const before = await db.selectFrom('account_balances').select(['id', 'balance']).orderBy('id').execute();
  await sql`SELECT ledger_roll_up(1000000)`.execute(db);
  expect(await db.selectFrom('account_balances').select(['id', 'balance']).orderBy('id').execute()).toEqual(before);
  expect((await sql<{ n: number }>`SELECT count(*)::int AS n FROM account_deltas`.execute(db)).rows[0].n).toBe(0);

  // Every key replays its first answer.
  const sample = answers.filter((a) => a.kind === 'tip').slice(0, 10);
  for (const a of sample) {
    const t = tippers.find((x) => x.account.user.id === a.user)!;
    const again = await send(t.sock, 'tip:send', { roomId: room.id, amount: a.amount, idempotencyKey: a.key });
    expect(again.ok).toBe(a.ok);
    if (a.ok && again.ok) expect(again.data.tip.id).toBe(a.id);
  }
  // A replay adds nothing to anyone's total.
  expect(await ledgerInvariants(s.lectern)).toEqual(HEALTHY_LEDGER);
});

it('rebuilds the running tip totals from the tips (migration 0018)', async () => {
  const { db } = s.lectern.database;
  const totals = () => db.selectFrom('room_tip_totals').selectAll().orderBy('room_id').orderBy('sender_id').execute();
  const before = await totals();
  expect(before.length).toBeGreaterThan(0); // the storm's
  const migration = migrations['0018_room_tip_totals'];
  await migration.down?.(db);
  await migration.up(db);
  expect(await totals()).toEqual(before);
});

it('two keys buying the same lesson for one buyer at once: one sale, one "already purchased"', async () => {
  const buyer = await s.api.register();
  await s.api.topUp(buyer.token, 5000);
  const lesson = await s.api.content(creator.token, { price: 700 });
  const [a, b] = await Promise.all([
    s.api.post('/api/purchases', { contentId: lesson.id }, buyer.token, randomUUID()),
    s.api.post('/api/purchases', { contentId: lesson.id }, buyer.token, randomUUID()),
  ]);
  expect([a.status, b.status].sort()).toEqual([201, 409]);
  expect((await s.api.get('/api/wallet', buyer.token)).body.balance).toBe(4300);
  expect(await ledgerInvariants(s.lectern)).toEqual(HEALTHY_LEDGER);
});
