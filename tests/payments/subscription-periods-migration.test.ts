import { sql } from 'kysely';
import { migrateDown, migrateToLatest, migrationStatus } from '../../server/db';
import { createKysely } from '../../server/db/pool';
import { createTestDatabase } from '../helpers/db';

const MIGRATION = '0006_subscription_periods';

it('gives the subscription purchases made before it the periods they paid for', async () => {
  const database = await createTestDatabase();
  const { db } = createKysely(database.url, 2);
  try {
    while ((await migrationStatus(db)).find((m) => m.name === MIGRATION)?.executedAt) await migrateDown(db);

    const [buyer, seller] = (
      await sql<{ id: string }>`
        INSERT INTO users (username, password_hash, role)
        VALUES ('buyer', 'x', 'viewer'), ('seller', 'x', 'creator') RETURNING id`.execute(db)
    ).rows.map((r) => r.id);
    const txn = async () =>
      (await sql<{ id: string }>`INSERT INTO ledger_transactions (kind) VALUES ('purchase') RETURNING id`.execute(db))
        .rows[0].id;
    // Bought on day 0 and day 10 (queued), refunded on day 15, then again on day 100 after a lapse.
    const buy = async (day: number, refunded = false) =>
      (
        await sql<{ id: string }>`
          INSERT INTO purchases (buyer_id, kind, creator_id, amount, fee, currency, subscription_days,
            status, transaction_id, refund_transaction_id, created_at)
          VALUES (${buyer}, 'subscription', ${seller}, 100, 10, 'USD', 30,
            ${refunded ? 'refunded' : 'completed'}, ${await txn()}, ${refunded ? await txn() : null},
            timestamptz '2024-01-01T00:00:00Z' + make_interval(days => ${day}))
          RETURNING id`.execute(db)
      ).rows[0].id;
    const first = await buy(0);
    const refunded = await buy(10, true);
    const queued = await buy(20);
    const afterLapse = await buy(100);

    await migrateToLatest(db);
    const periods = await sql<{ id: string; period_start: string; period_end: string }>`
      SELECT id, to_char(period_start AT TIME ZONE 'UTC', 'MM-DD') AS period_start,
        to_char(period_end AT TIME ZONE 'UTC', 'MM-DD') AS period_end
      FROM purchases`.execute(db);
    const byId = Object.fromEntries(periods.rows.map((r) => [r.id, [r.period_start, r.period_end]]));
    expect(byId[first]).toEqual(['01-01', '01-31']);
    expect(byId[refunded]).toEqual(['01-31', '03-01']); // nominal: it does not extend the chain
    expect(byId[queued]).toEqual(['01-31', '03-01']);
    expect(byId[afterLapse]).toEqual(['04-10', '05-10']);

    await expect(sql`UPDATE purchases SET period_start = NULL WHERE id = ${first}`.execute(db)).rejects.toThrow(
      /purchases_period_only_subscriptions/,
    );
  } finally {
    await db.destroy();
    await database.drop();
  }
});
