import { randomBytes, randomUUID } from 'node:crypto';
import { type Kysely, sql } from 'kysely';
import type pg from 'pg';
import { type Lectern, startLectern } from '../server/app';
import type { DB } from '../server/db';
import { createKysely } from '../server/db/pool';
import { DomainEvents } from '../server/domain-events';
import {
  ENGAGEMENT_STREAM,
  type EngagementEvent,
  type EventLog,
  InMemoryEventLog,
  OutboxRelay,
  stageDomainEvent,
} from '../server/events';
import { analyticsDrained, deleteRedisKeys } from './analytics/drain';
import { createTestDatabase, type TestDatabase } from './helpers/db';
import { TEST_REDIS_URL } from './helpers/env';
import { roundTripsOf } from './helpers/round-trips';
import { Api, startTestServer, type TestServer } from './helpers/server';
import { eventually, sleep } from './helpers/socket';
import { Receiver } from './webhooks/receiver';

/**
 * The transactional outbox of money events: a payment's events are written in its transaction
 * and relayed into the event log and the webhook queue; a node that dies between the commit and
 * the relay loses nothing, and relaying twice counts once.
 */

async function events(log: EventLog): Promise<EngagementEvent[]> {
  return (await log.range(ENGAGEMENT_STREAM)).flatMap((e) => (e.event ? [e.event] : []));
}

describe('the outbox relay', () => {
  let database: TestDatabase;
  let db: Kysely<DB>;
  let pool: pg.Pool;
  let close: () => Promise<void>;
  beforeAll(async () => {
    database = await createTestDatabase();
    const opened = createKysely(database.url, 8);
    db = opened.db;
    pool = opened.pool;
    close = () => opened.db.destroy();
  });
  afterAll(async () => {
    await close();
    await database.drop();
  });

  /** A committed tip, as payments writes it: the row only. */
  async function stageTips(count: number): Promise<void> {
    for (let i = 0; i < count; i++) {
      await db.transaction().execute((trx) =>
        stageDomainEvent(trx, 'tip.created', {
          creatorId: randomUUID(),
          tip: {
            id: randomUUID(),
            roomId: randomUUID(),
            user: { id: randomUUID(), username: 'tipper' },
            amount: 100 + i,
            currency: 'USD',
            message: null,
            pinnedUntil: null,
            createdAt: new Date().toISOString(),
          },
        }),
      );
    }
  }
  const outboxIds = async () =>
    (await db.selectFrom('events_outbox').select('event_id').execute()).map((r) => r.event_id).sort();

  it('relays each row once when several nodes sweep together', async () => {
    await stageTips(120);
    const staged = await outboxIds();
    const log = new InMemoryEventLog();
    const relays = [1, 2, 3].map(() => new OutboxRelay({ db, pool, log, batchSize: 7, sweepIntervalMs: 3_600_000 }));
    await Promise.all(relays.flatMap((r) => [r.drain(), r.drain()]));
    await Promise.all(relays.map((r) => r.drain())); // whatever a racing start-up pass left
    const appended = await events(log);
    expect(appended.map((e) => e.id).sort()).toEqual(staged);
    expect(appended.every((e) => e.type === 'tip.sent')).toBe(true);
    expect(await outboxIds()).toEqual([]);
    await Promise.all(relays.map((r) => r.close()));
    await log.close();
  });

  it('keeps the rows when a pass fails after appending, and relays the same events (same ids) again', async () => {
    await stageTips(3);
    const staged = await outboxIds();
    const log = new InMemoryEventLog();
    let failOnce = true;
    const relay = new OutboxRelay({
      db,
      pool,
      log,
      sweepIntervalMs: 3_600_000,
      // What a crash between the append and the commit leaves: appended events, rows still there.
      sideWrite: {
        probe: sql`SELECT 1`.compile(db),
        write: async () => {
          if (failOnce) {
            failOnce = false;
            throw new Error('the node died before its commit');
          }
        },
      },
    });
    await relay.drain().catch(() => {}); // the start-up pass, or this one, fails once
    await relay.drain();
    const appended = await events(log);
    expect(appended).toHaveLength(6);
    expect([...new Set(appended.map((e) => e.id))].sort()).toEqual(staged);
    const [first, again] = staged.map((id) => appended.filter((e) => e.id === id))[0];
    expect(again).toEqual(first); // the same event: time and payload included
    expect(await outboxIds()).toEqual([]);
    await relay.close();
    await log.close();
  });

  it('relays a pass in two round trips, and queues its side write in the same transaction only when the probe finds rows', async () => {
    const log = new InMemoryEventLog();
    let probeFinds = false;
    const written: number[] = [];
    const relay = new OutboxRelay({
      db,
      pool,
      log,
      sweepIntervalMs: 3_600_000,
      sideWrite: {
        // The probe is a statement of the claim's round trip; its rows decide.
        get probe() {
          return sql`SELECT 1 WHERE ${probeFinds}::bool`.compile(db);
        },
        write: async (trx, messages) => {
          await sql`SELECT 1`.execute(trx);
          written.push(messages.length);
        },
      },
    });
    await relay.drain(); // the start-up pass
    await stageTips(5);
    // BEGIN with the claim and the probe; the delete with COMMIT.
    expect(await roundTripsOf(pool, () => relay.drain())).toBe(2);
    expect(written).toEqual([]);
    expect(await outboxIds()).toEqual([]);
    probeFinds = true;
    await stageTips(3);
    expect(await roundTripsOf(pool, () => relay.drain())).toBe(3);
    expect(written).toEqual([3]);
    expect((await events(log)).length).toBe(8);
    await relay.close();
    await log.close();
  });

  it('relays a storm of commits in paced passes, not one pass per commit', async () => {
    const log = new InMemoryEventLog();
    const domain = new DomainEvents();
    let passes = 0;
    const relay = new OutboxRelay({
      db,
      pool,
      log,
      domain,
      sweepIntervalMs: 3_600_000,
      paceMs: 1_000,
      relayed: () => {
        passes++;
      },
    });
    await relay.drain(); // the start-up pass: nothing there
    await sleep(1_100);
    const committed = async () => {
      await stageTips(1);
      domain.emit('wallet.topup', { userId: randomUUID(), amount: 1, balance: 1 }); // not an outbox topic
      domain.emit('tip.created', {} as never); // the cue; its payload is not read
      await sleep(10);
    };
    // The first commit after a quiet spell is relayed at once; the next ones wait for the pace.
    await committed();
    await eventually(async () => (await outboxIds()).length === 0, 500);
    for (let i = 0; i < 20; i++) await committed();
    expect((await outboxIds()).length).toBe(20);
    await eventually(async () => (await outboxIds()).length === 0, 5_000);
    expect(passes).toBe(2);
    expect(await events(log)).toHaveLength(21);
    await relay.close();
    await log.close();
  });
});

describe.each([
  ['in-process log', {}],
  [
    'Redis Streams log',
    { REDIS_URL: TEST_REDIS_URL, REDIS_KEY_PREFIX: `lectern-test-outbox-${randomBytes(4).toString('hex')}:` },
  ],
])('a node dying between a purchase and relaying its events (%s)', (_name, env: Record<string, string>) => {
  let s: TestServer;
  let receiver: Receiver;
  const others: Lectern[] = [];
  beforeAll(async () => {
    receiver = await Receiver.start();
    s = await startTestServer({
      ...env,
      WEBHOOK_ALLOW_PRIVATE_URLS: 'true',
      WEBHOOK_POLL_INTERVAL_MS: '50',
      EVENTS_CLAIM_MIN_IDLE_MS: '1000',
    });
  });
  afterAll(async () => {
    for (const node of others) await node.close();
    await s.close();
    await receiver.close();
    if (env.REDIS_KEY_PREFIX) await deleteRedisKeys(env.REDIS_KEY_PREFIX);
  });

  it('delivers the purchase once to analytics and to a webhook through the next node on the database', async () => {
    const { api } = s;
    const creator = await api.register('creator');
    const lesson = await api.content(creator.token, { price: 500 });
    const room = await api.room(creator.token);
    await api.post(`/api/rooms/${room.id}/start`, {}, creator.token);
    const hook = await api.post('/api/webhooks', { url: receiver.url, events: ['purchase.completed'] }, creator.token);
    expect(hook.status).toBe(201);
    const viewer = await api.register();
    await api.topUp(viewer.token, 1000);

    // The node commits the purchase and dies before relaying it: its relay is stopped first.
    await s.lectern.outbox.close();
    // Bought from the live room, so it counts for the session (docs/analytics.md#sessions-and-attribution).
    const bought = await api.post(
      '/api/purchases',
      { contentId: lesson.id, fromRoomId: room.id },
      viewer.token,
      randomUUID(),
    );
    expect(bought.status).toBe(201);
    const purchaseId: string = bought.body.purchase.id;
    const before = s.lectern.database.db;
    expect(await before.selectFrom('events_outbox').select('topic').execute()).toEqual([
      { topic: 'purchase.completed' },
    ]);
    expect(await before.selectFrom('webhook_deliveries').select('id').execute()).toEqual([]);
    const config = s.lectern.config;
    if (!env.REDIS_URL) await s.lectern.close(); // the in-process log dies with its node

    // A fresh node on the same database (and Redis) relays what the dead one left.
    const next = await startLectern(config);
    others.push(next);
    const { db } = next.database;
    await analyticsDrained(next);
    const logged = (await events(next.engagement.log)).filter(
      (e) => e.type === 'purchase.completed' && e.data.purchaseId === purchaseId,
    );
    expect(logged).toHaveLength(1);
    expect(await next.outbox.drain()).toBe(0); // nothing left to relay, twice or otherwise

    const sales = await db.selectFrom('analytics_sales').select(['id', 'kind', 'amount']).execute();
    expect(sales).toEqual([{ id: purchaseId, kind: 'content', amount: 500 }]);
    const report = await new Api(next.url).get('/api/analytics/creator', creator.token);
    expect(report.body.totals.money.revenue.content).toBe(500);

    await eventually(() => receiver.payloads().some((p) => p.data.purchase.id === purchaseId), 10_000, 'the webhook');
    const delivered = receiver.payloads().filter((p) => p.data.purchase.id === purchaseId);
    expect(delivered).toHaveLength(1);
    expect(delivered[0]).toMatchObject({ id: logged[0].id, type: 'purchase.completed' });
    expect(await db.selectFrom('webhook_deliveries').select('event_id').execute()).toEqual([
      { event_id: logged[0].id },
    ]);
  });
});
