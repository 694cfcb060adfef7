import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type pg from 'pg';
import { AnalyticsAggregator } from '../../server/analytics/aggregator';
import type { DB } from '../../server/db';
import { createKysely } from '../../server/db/pool';
import { newEvent } from '../../server/events';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { roundTripsOf } from '../helpers/round-trips';

/**
 * The aggregator's transaction: the claim of the events' ids and the aggregates they add commit
 * together, in two round trips on one connection, and an event applied before adds nothing.
 */

let database: TestDatabase;
let db: Kysely<DB>;
let pool: pg.Pool;
beforeAll(async () => {
  database = await createTestDatabase();
  ({ db, pool } = createKysely(database.url, 4));
});
afterAll(async () => {
  await db.destroy();
  await database.drop();
});

const sale = (amount: number) =>
  newEvent('purchase.completed', {
    userId: randomUUID(),
    creatorId: randomUUID(),
    contentId: randomUUID(),
    data: { purchaseId: randomUUID(), kind: 'content', amount, fee: amount / 10, currency: 'USD' },
  });

it('applies a batch of sales in two round trips, once each however often it is delivered', async () => {
  const aggregator = new AnalyticsAggregator(db, pool);
  const events = [sale(500), sale(700)];
  let applied: string[] = [];
  // BEGIN with the claim of the ids; the sales with COMMIT.
  expect(await roundTripsOf(pool, async () => (applied = await aggregator.applyAll(events)))).toBe(2);
  expect(applied.sort()).toEqual(events.map((e) => e.id).sort());
  // Delivered again, with one new sale: only the new one counts.
  const again = [...events, sale(300)];
  expect(await aggregator.applyAll(again)).toEqual([again[2].id]);
  const rows = await db.selectFrom('analytics_sales').select(['amount', 'fee', 'sold']).orderBy('amount').execute();
  expect(rows).toEqual([
    { amount: 300, fee: 30, sold: true },
    { amount: 500, fee: 50, sold: true },
    { amount: 700, fee: 70, sold: true },
  ]);
});

it('rolls the claim back when a write fails, so a redelivery applies the events', async () => {
  const aggregator = new AnalyticsAggregator(db, pool);
  // A kind the table refuses (its CHECK): the sales statement fails after the claim went through.
  const bad = { ...sale(100), data: { ...sale(100).data, kind: 'bogus' } } as unknown as ReturnType<typeof sale>;
  await expect(aggregator.applyAll([bad])).rejects.toThrow();
  const claimed = await db
    .selectFrom('analytics_processed_events')
    .select('event_id')
    .where('event_id', '=', bad.id)
    .execute();
  expect(claimed).toEqual([]);
});
