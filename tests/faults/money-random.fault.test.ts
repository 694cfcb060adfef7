import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { HEALTHY_LEDGER, ledgerInvariants } from '../helpers/ledger';
import { type Account, startTestServer, type TestServer } from '../helpers/server';
import { type ClientSocket, closeAllSockets, connect, ok, send } from '../helpers/socket';

/**
 * 10,000 random money operations at once across 200 wallets — top-ups, lesson purchases, tips
 * into a live room, refunds by an admin — a tenth of them sent twice at the same moment with the
 * same key (a retry racing its original). Afterwards the ledger's invariants hold exactly, every
 * acknowledged operation is in it once, both answers of a key agree, and each wallet holds
 * exactly what its answers add up to.
 */
const WALLETS = 200;
const OPERATIONS = 10_000;
const START = 500; // small: wallets run dry, and overdrafts must be refused
const SEED = Number(process.env.FAULT_SEED ?? 20261206);

/** A small seeded generator (mulberry32): the same storm for the same seed. */
function random(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer({
    SOCKET_EVENTS_PER_SECOND: '10000',
    HTTP_RATE_LIMIT_PER_MINUTE: '1000000',
    AUTH_RATE_LIMIT_PER_MINUTE: '100000',
    MAX_CONNECTIONS_PER_IP: '10000',
    TIP_PIN_THRESHOLD: '100000000',
  });
});
afterAll(async () => {
  closeAllSockets();
  await s.close();
});

async function inBatches<T, R>(items: T[], size: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += size) {
    out.push(...(await Promise.all(items.slice(i, i + size).map((item, j) => fn(item, i + j)))));
  }
  return out;
}

it(`holds every invariant exactly through ${OPERATIONS} random concurrent money operations across ${WALLETS} wallets`, async () => {
  const rand = random(SEED);
  const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)];
  const between = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));

  const creator = await s.api.register('creator');
  const admin: Account = await s.admin();
  const room = await s.api.room(creator.token);
  await s.api.post(`/api/rooms/${room.id}/start`, {}, creator.token);
  const lessons = await inBatches(Array.from({ length: 30 }), 10, () =>
    s.api.content(creator.token, { price: between(50, 500) }),
  );
  const users = await inBatches(Array.from({ length: WALLETS }), 20, () => s.api.register());
  await inBatches(users, 20, (u) => s.api.topUp(u.token, START));
  const sockets: ClientSocket[] = await inBatches(users, 20, async (u) => {
    const sock = await connect(s.url, u.token);
    await ok(sock, 'room:join', { roomId: room.id });
    return sock;
  });

  // What each wallet's answers say happened to it.
  const expected = users.map(() => START);
  const tipIds = new Set<string>();
  const purchases = new Map<string, { buyer: number; amount: number }>();
  const refunded = new Set<string>();
  let retriesAgreed = 0;
  const outcomes: Record<string, number> = {};
  const count = (what: string) => {
    outcomes[what] = (outcomes[what] ?? 0) + 1;
  };

  type Answer = { ok: boolean; code?: string; data?: any };
  const http = async (path: string, body: unknown, token: string, key: string): Promise<Answer> => {
    const res = await s.api.post(path, body, token, key);
    return res.status < 300
      ? { ok: true, data: res.body }
      : { ok: false, code: res.body.error?.code ?? `${res.status}` };
  };
  const tip = async (u: number, amount: number, key: string): Promise<Answer> => {
    const res = await send(sockets[u], 'tip:send', { roomId: room.id, amount, idempotencyKey: key });
    return res.ok ? { ok: true, data: res.data } : { ok: false, code: res.error.code };
  };

  // The operations, decided up front from the seed (what a refund refunds is chosen when it runs).
  const plan = Array.from({ length: OPERATIONS }, () => {
    const r = rand();
    const kind = r < 0.35 ? 'tip' : r < 0.65 ? 'purchase' : r < 0.9 ? 'topup' : 'refund';
    return {
      kind,
      user: between(0, WALLETS - 1),
      amount: kind === 'tip' ? between(1, 300) : between(1, 2000),
      lesson: pick(lessons).id as string,
      twice: rand() < 0.1,
      pickRefund: rand(),
    };
  });

  async function run(op: (typeof plan)[number]) {
    const key = randomUUID();
    let attempt: () => Promise<Answer>;
    let refundOf: string | undefined;
    if (op.kind === 'tip') attempt = () => tip(op.user, op.amount, key);
    else if (op.kind === 'purchase')
      attempt = () => http('/api/purchases', { contentId: op.lesson }, users[op.user].token, key);
    else if (op.kind === 'topup')
      attempt = () => http('/api/wallet/topup', { amount: op.amount }, users[op.user].token, key);
    else {
      const bought = [...purchases.keys()];
      if (bought.length === 0) return;
      refundOf = bought[Math.floor(op.pickRefund * bought.length)];
      attempt = () => http(`/api/admin/purchases/${refundOf}/refund`, {}, admin.token, key);
    }
    const answers = await Promise.all(op.twice ? [attempt(), attempt()] : [attempt()]);
    if (answers.length === 2) {
      // A retry racing its original: the same outcome (or the second told to retry, never a second operation).
      const [a, b] = answers;
      if (a.ok && b.ok) expect(b.data).toEqual(a.data);
      else if (!(a.code === 'UNAVAILABLE' || b.code === 'UNAVAILABLE')) expect(b).toEqual(a);
      retriesAgreed++;
    }
    const answer = answers.find((x) => x.ok) ?? answers[0];
    count(`${op.kind}:${answer.ok ? 'ok' : answer.code}`);
    if (!answer.ok) return;
    if (op.kind === 'tip') {
      tipIds.add(answer.data.tip.id);
      expected[op.user] -= op.amount;
    } else if (op.kind === 'purchase') {
      purchases.set(answer.data.purchase.id, { buyer: op.user, amount: answer.data.purchase.amount });
      expected[op.user] -= answer.data.purchase.amount;
    } else if (op.kind === 'topup') expected[op.user] += op.amount;
    else if (refundOf && !refunded.has(refundOf)) {
      refunded.add(refundOf);
      const p = purchases.get(refundOf)!;
      expected[p.buyer] += p.amount;
    }
  }

  // Every wallet's operations from its own worker, all wallets at once.
  const queues = users.map((_, u) => plan.filter((op) => op.user === u));
  const started = Date.now();
  await Promise.all(
    queues.map(async (ops) => {
      for (const op of ops) await run(op);
    }),
  );
  const seconds = (Date.now() - started) / 1000;

  const { db } = s.lectern.database;
  expect(await ledgerInvariants(s.lectern)).toEqual(HEALTHY_LEDGER);
  const tipRows = await db.selectFrom('tips').select('id').where('room_id', '=', room.id).execute();
  expect(new Set(tipRows.map((r) => r.id))).toEqual(tipIds);
  const saleRows = await db
    .selectFrom('purchases')
    .select(['id', 'status'])
    .where('creator_id', '=', creator.user.id)
    .execute();
  expect(new Set(saleRows.map((r) => r.id))).toEqual(new Set(purchases.keys()));
  expect(new Set(saleRows.filter((r) => r.status === 'refunded').map((r) => r.id))).toEqual(refunded);
  const wallets = await sql<{ owner_id: string; balance: number }>`
    SELECT owner_id, balance FROM account_balances WHERE kind = 'wallet' AND owner_id = ANY(${users.map((u) => u.user.id)}::uuid[])
  `.execute(db);
  const balanceOf = new Map(wallets.rows.map((w) => [w.owner_id, Number(w.balance)]));
  expect(users.map((u) => balanceOf.get(u.user.id))).toEqual(expected);

  console.log(
    JSON.stringify({
      randomMoneyStorm: {
        seed: SEED,
        operations: OPERATIONS,
        wallets: WALLETS,
        seconds,
        retriesRaced: retriesAgreed,
        outcomes,
        invariantsChecked: [
          'balanced',
          'balances = entries',
          'no negative',
          'sum 0',
          'rows = acks',
          'wallets = answers',
        ],
      },
    }),
  );
});
