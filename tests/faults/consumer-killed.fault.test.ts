import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import { ANALYTICS_GROUP } from '../../server/analytics';
import { PrivateRedis } from '../../server/events/testing';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { type ServerProcess, spawnServer } from '../helpers/process';
import { Api, TEST_JWT_SECRET } from '../helpers/server';
import { type ClientSocket, closeAllSockets, connect, eventually, ok } from '../helpers/socket';

/**
 * Two server processes share a Redis and a database; both run the analytics consumer (group
 * `analytics`). Node A is killed with SIGKILL while its consumer holds delivered, unacknowledged
 * entries: node B must claim them (after EVENTS_CLAIM_MIN_IDLE_MS) and apply them, and the
 * analytics of the room must equal exactly what was sent — nothing lost, nothing counted twice.
 *
 * Entries are made pending on purpose, not by luck: the test holds a SHARE lock on
 * `analytics_processed_events` (the first table every analytics batch writes), so each consumer
 * that reads a batch stops inside its transaction with the batch delivered and unacknowledged.
 * Events go out in waves until A's consumer is seen (XPENDING) holding some; then A is killed and
 * the lock released. A's transaction never committed, so its entries count only through B.
 *
 * The recommender's consumer (group `recommender`) is off here: its handler works in memory, so
 * there is no way to hold its entries pending without timing luck, and its trainer (TensorFlow)
 * would cost two processes on a 2-core machine more than the whole test may take.
 */
const CLAIM_IDLE_MS = 1000;

let dir: string;
let redis: PrivateRedis;
let database: TestDatabase;
let prefix: string;
let nodes: ServerProcess[];
let admin: Redis;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'lectern-consumer-fault-'));
  redis = await PrivateRedis.start();
  database = await createTestDatabase();
  prefix = `lectern-fault-${randomBytes(4).toString('hex')}:`;
  const env = {
    DATABASE_URL: database.url,
    REDIS_URL: redis.url,
    REDIS_KEY_PREFIX: prefix,
    JWT_SECRET: TEST_JWT_SECRET,
    MIGRATE_ON_START: 'false',
    PORT: '0',
    DATA_DIR: path.join(dir, 'data'),
    MEDIA_ENABLED: 'false',
    RECOMMENDER_ENABLED: 'false',
    WEBHOOKS_ENABLED: 'false',
    // No watch-time events of their own while the test decides which consumer takes which event.
    WATCH_HEARTBEAT_SECONDS: '3600',
    ANALYTICS_ENABLED: 'true',
    EVENTS_CLAIM_MIN_IDLE_MS: String(CLAIM_IDLE_MS),
    AUTH_RATE_LIMIT_PER_MINUTE: '100000',
    HTTP_RATE_LIMIT_PER_MINUTE: '1000000',
    SOCKET_EVENTS_PER_SECOND: '10000',
    CHAT_BURST: '100',
    CHAT_MESSAGES_PER_SECOND: '100',
    LIKES_PER_SECOND: '1000',
  };
  nodes = await Promise.all([spawnServer({ ...env }), spawnServer({ ...env })]);
  admin = new Redis(redis.url);
}, 120_000);
afterAll(async () => {
  closeAllSockets();
  admin?.disconnect();
  await Promise.all((nodes ?? []).map((n) => (n.child.exitCode === null ? n.stop() : undefined)));
  await redis?.stop();
  await database?.drop();
  rmSync(dir, { recursive: true, force: true });
});

interface PendingSummary {
  total: number;
  byConsumer: Map<string, number>;
}

async function pending(stream: string): Promise<PendingSummary> {
  const [total, , , consumers] = (await admin.xpending(stream, ANALYTICS_GROUP)) as [
    number,
    string | null,
    string | null,
    [string, string][] | null,
  ];
  return { total: Number(total), byConsumer: new Map((consumers ?? []).map(([name, n]) => [name, Number(n)])) };
}

/** The group's fields from XINFO GROUPS (name, pending, lag, …). */
async function groupInfo(stream: string): Promise<Record<string, unknown>> {
  const groups = (await admin.xinfo('GROUPS', stream)) as unknown[][];
  for (const g of groups) {
    const fields: Record<string, unknown> = {};
    for (let i = 0; i < g.length; i += 2) fields[String(g[i])] = g[i + 1];
    if (fields.name === ANALYTICS_GROUP) return fields;
  }
  throw new Error('no analytics group');
}

/** What the stream holds for the room: events per type, and the likes they carry. */
async function streamCounts(stream: string, roomId: string) {
  const entries = (await admin.xrange(stream, '-', '+')) as [string, string[]][];
  const counts = { chat: 0, likes: 0, tips: 0, tipAmount: 0, purchases: 0, purchaseAmount: 0, entries: entries.length };
  for (const [, fields] of entries) {
    const event = JSON.parse(fields[fields.indexOf('event') + 1]);
    if (event.roomId !== roomId) continue;
    if (event.type === 'chat.sent') counts.chat++;
    else if (event.type === 'likes.sent') counts.likes += event.data.count;
    else if (event.type === 'tip.sent') {
      counts.tips++;
      counts.tipAmount += event.data.amount;
    } else if (event.type === 'purchase.completed') {
      counts.purchases++;
      counts.purchaseAmount += event.data.amount;
    }
  }
  return counts;
}

/** Holds the row of a room's analytics: a batch with an event of that room waits inside its transaction. */
async function holdRoomRow(roomId: string): Promise<{ release(): Promise<void> }> {
  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  await client.query('BEGIN');
  const { rowCount } = await client.query('SELECT 1 FROM analytics_rooms WHERE room_id = $1 FOR UPDATE', [roomId]);
  if (rowCount !== 1) throw new Error(`no analytics row for room ${roomId}`);
  let released = false;
  return {
    async release() {
      if (released) return;
      released = true;
      await client.query('COMMIT').catch(() => {});
      await client.end();
    },
  };
}

it('an analytics consumer killed with entries pending: the other node claims and finishes them, totals exact', async () => {
  const started = Date.now();
  const [A, B] = nodes;
  const stream = `${prefix}events:engagement`;
  const consumerOf = (node: ServerProcess) => (name: string) => new RegExp(`-${node.child.pid}-[0-9a-f]+$`).test(name);
  const isA = consumerOf(A);
  const isB = consumerOf(B);
  const heldBy = (summary: PendingSummary, is: (name: string) => boolean) =>
    [...summary.byConsumer].filter(([name]) => is(name)).reduce((n, [, c]) => n + c, 0);

  const api = new Api(A.url);
  const owner = await api.register('creator');
  const rooms = [await api.room(owner.token), await api.room(owner.token)];
  for (const room of rooms) await api.post(`/api/rooms/${room.id}/start`, {}, owner.token);
  const contents = await Promise.all([1, 2].map((i) => api.content(owner.token, { title: `Lesson ${i}`, price: 300 })));
  // Two viewers on each node, in both rooms.
  const viewers = await Promise.all([0, 1, 2, 3].map(() => api.register()));
  await Promise.all(viewers.map((v) => api.topUp(v.token, 100_000)));
  const sockets: ClientSocket[] = await Promise.all(viewers.map((v, i) => connect(nodes[i % 2].url, v.token)));
  for (const s of sockets) for (const room of rooms) await ok(s, 'room:join', { roomId: room.id });

  const drained = async () => (await pending(stream)).total === 0 && Number((await groupInfo(stream)).lag) === 0;
  // The joins applied (each room has its analytics row); both consumers idle in XREADGROUP. A
  // join is acknowledged before its event is appended (the nodes' publishers batch), so the
  // stream must first hold all of them: one per viewer and room.
  const joins = viewers.length * rooms.length;
  await eventually(
    async () => (await admin.xlen(stream)) >= joins && (await drained()),
    20_000,
    'the joins to be appended and applied',
  );

  const zero = () => ({ chat: 0, likes: 0, tips: 0, tipAmount: 0, purchases: 0, purchaseAmount: 0 });
  const sent = new Map<string, ReturnType<typeof zero>>(rooms.map((r) => [r.id, zero()]));
  const chat = async (s: ClientSocket, roomId: string, text: string) => {
    await ok(s, 'chat:send', { roomId, text });
    sent.get(roomId)!.chat++;
  };

  // Each consumer is stopped inside a batch of one room's event: the first takes room 0's, the
  // other (the only one still reading) room 1's.
  const holds = await Promise.all(rooms.map((r) => holdRoomRow(r.id)));
  let pendingAtKill: PendingSummary | undefined;
  let undeliveredAtKill = 0;
  let burst = 0;
  let heldByAAtKill = 0;
  try {
    await chat(sockets[0], rooms[0].id, 'first');
    await eventually(
      async () => (await pending(stream)).total === 1,
      10_000,
      'a consumer to take the first event',
    ).catch(async (err) => {
      const p = await pending(stream);
      const last = ((await admin.xrevrange(stream, '+', '-', 'COUNT', 10)) as [string, string[]][]).map(
        ([, fields]) => JSON.parse(fields[fields.indexOf('event') + 1]).type,
      );
      throw new Error(
        `${(err as Error).message}: pending ${JSON.stringify([...p.byConsumer])}, group ${JSON.stringify(await groupInfo(stream))}, latest entries ${last}`,
      );
    });
    const firstTaker = [...(await pending(stream)).byConsumer].find(([, n]) => n > 0)![0];
    await chat(sockets[0], rooms[1].id, 'second');
    await eventually(
      async () => {
        const p = await pending(stream);
        return p.total === 2 && heldBy(p, isA) === 1 && heldBy(p, isB) === 1;
      },
      10_000,
      'the other consumer to take the second event',
    );
    // The burst goes to the room B's consumer is stuck on; then A's is let go: it finishes its
    // batch and reads the next, which stops on B's room — A now holds a full batch pending.
    const [aRoom, bRoom] = isA(firstTaker) ? [0, 1] : [1, 0];
    const roomId = rooms[bRoom].id;
    const count = sent.get(roomId)!;
    await Promise.all(
      sockets.map(async (s, i) => {
        for (let k = 0; k < 30; k++) await chat(s, roomId, `burst ${k} from ${i}`);
        for (let k = 0; k < 5; k++) {
          const { accepted } = await ok(s, 'like:send', { roomId, count: 4 });
          count.likes += accepted;
        }
        for (let k = 0; k < 3; k++) {
          const amount = 10 + k + i;
          await ok(s, 'tip:send', { roomId, amount, idempotencyKey: randomUUID() });
          count.tips++;
          count.tipAmount += amount;
        }
        const content = contents[i % contents.length];
        // Each viewer buys one lesson, from inside the room (so the sale counts for its session).
        await ok(s, 'purchase:create', { contentId: content.id, fromRoomId: roomId, idempotencyKey: randomUUID() });
        count.purchases++;
        count.purchaseAmount += content.price;
      }),
    );
    // Everything sent is in the stream (likes are summed per interval, money goes through the
    // outbox), so what dies with A is only what its consumer held.
    await eventually(
      async () => {
        for (const room of rooms) {
          const inStream = await streamCounts(stream, room.id);
          const want = sent.get(room.id)!;
          const same =
            inStream.chat === want.chat &&
            inStream.likes === want.likes &&
            inStream.tips === want.tips &&
            inStream.purchases === want.purchases;
          if (!same) return false;
        }
        return true;
      },
      15_000,
      'every event sent to be in the stream',
    );
    burst = Number((await groupInfo(stream)).lag);
    // Once let go, A may run its periodic reclaim pass before reading, and B's entry has been
    // idle longer than EVENTS_CLAIM_MIN_IDLE_MS by then: A would take it over instead of the
    // burst. B is still working on it, so keep it B's and fresh (XCLAIM to B itself, idle 0)
    // until A holds its batch.
    const bName = [...(await pending(stream)).byConsumer.keys()].find(isB)!;
    const bIds = ((await admin.xpending(stream, ANALYTICS_GROUP, '-', '+', 10, bName)) as [string][]).map(([id]) => id);
    const refresh = () => admin.xclaim(stream, ANALYTICS_GROUP, bName, 0, ...bIds, 'JUSTID');
    await refresh();
    const fresh = setInterval(() => void refresh().catch(() => {}), 100);
    try {
      await holds[aRoom].release();
      await eventually(
        async () => heldBy(await pending(stream), isA) >= Math.min(burst, 100),
        10_000,
        'A’s consumer to take a full batch of the burst',
      );
    } finally {
      clearInterval(fresh);
    }
    pendingAtKill = await pending(stream);
    heldByAAtKill = heldBy(pendingAtKill, isA);
    undeliveredAtKill = Number((await groupInfo(stream)).lag);

    const exited = new Promise((resolve) => A.child.once('exit', resolve));
    A.child.kill('SIGKILL');
    await exited;
  } finally {
    for (const h of holds) await h.release();
  }
  const killedAt = Date.now();
  expect(heldByAAtKill).toBeGreaterThanOrEqual(Math.min(burst, 100));

  // B claims what A held once it has been idle EVENTS_CLAIM_MIN_IDLE_MS (at its next reclaim
  // pass) and finishes the rest of the stream.
  await eventually(drained, 45_000, 'B to finish every entry, A’s included');
  const drainedMs = Date.now() - killedAt;
  const metrics = await (await fetch(`${B.url}/metrics`)).text();
  const reclaimed = Number(
    /lectern_events_consumer_reclaimed_total\{[^}]*group="analytics"[^}]*\} (\d+)/.exec(metrics)?.[1] ?? 0,
  );
  expect(reclaimed).toBeGreaterThanOrEqual(heldByAAtKill);
  expect(await admin.xlen(`${stream}:dead`)).toBe(0);

  const reporter = new Api(B.url);
  const totals: Record<string, unknown>[] = [];
  for (const room of rooms) {
    const report = await reporter.get(`/api/analytics/rooms/${room.id}`, owner.token);
    expect(report.status).toBe(200);
    const { activity, money, viewers: seen } = report.body.session;
    totals.push({
      chat: activity.chatMessages,
      likes: activity.likes,
      tips: money.salesByKind.tip,
      tipAmount: money.revenue.tip,
      purchases: money.salesByKind.content,
      purchaseAmount: money.revenue.content,
      joins: seen.joins,
    });
  }
  const expected = rooms.map((r) => ({ ...sent.get(r.id)!, joins: viewers.length }));
  console.log(
    JSON.stringify({
      consumerKilled: {
        sent: expected,
        burstEntries: burst,
        pendingAtKill: pendingAtKill!.total,
        pendingOnKilledNode: heldByAAtKill,
        pendingOnSurvivor: heldBy(pendingAtKill!, isB),
        undeliveredAtKill,
        reclaimedBySurvivor: reclaimed,
        drainedMsAfterKill: drainedMs,
        totals,
        seconds: Math.round((Date.now() - started) / 100) / 10,
      },
    }),
  );
  expect(totals).toEqual(expected);
  expect(B.child.exitCode).toBeNull();
});
