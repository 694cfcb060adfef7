import { sql } from 'kysely';
import { migrations } from '../migrations';
import { migrateToLatest, migrateToZero, migrationStatus } from '../server/db';
import { createKysely } from '../server/db/pool';
import { createTestDatabase } from './helpers/db';

const tables = async (db: ReturnType<typeof createKysely>['db']) =>
  (
    await sql<{
      tablename: string;
    }>`SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename NOT LIKE 'kysely_%' ORDER BY 1`.execute(
      db,
    )
  ).rows.map((r) => r.tablename);

it('migrates up, all the way down, and up again', async () => {
  const database = await createTestDatabase({ migrated: false });
  const { db } = createKysely(database.url, 2);
  try {
    expect(await tables(db)).toEqual([]);
    const up = await migrateToLatest(db);
    expect(up).toEqual(Object.keys(migrations).map((m) => `Up ${m}: Success`));
    const created = await tables(db);
    expect(created).toEqual(
      expect.arrayContaining([
        'users',
        'contents',
        'rooms',
        'accounts',
        'ledger_entries',
        'purchases',
        'entitlements',
        'subscriptions',
        'tips',
        'chat_messages',
        'moderation_actions',
        'recommendation_impressions',
        'idempotency_keys',
      ]),
    );
    expect((await migrationStatus(db)).every((m) => m.executedAt !== null)).toBe(true);

    await migrateToZero(db);
    expect(await tables(db)).toEqual([]);
    const functions = await sql`SELECT proname FROM pg_proc WHERE proname LIKE 'ledger_%'`.execute(db);
    expect(functions.rows).toEqual([]);

    await migrateToLatest(db);
    expect(await tables(db)).toEqual(created);
    expect(await migrateToLatest(db)).toEqual([]); // idempotent
  } finally {
    await db.destroy();
    await database.drop();
  }
});

it('lets a probe for a content entitlement use only the content index (0017)', async () => {
  const database = await createTestDatabase();
  const { db } = createKysely(database.url, 1);
  try {
    // Without the content index, and with scans that read the table priced out, a probe that
    // the room index could serve would use it; it holds rooms only, so it cannot.
    let plan = '';
    await db
      .transaction()
      .execute(async (trx) => {
        await sql`DROP INDEX entitlements_content_idx`.execute(trx);
        await sql`SET LOCAL enable_seqscan = off`.execute(trx);
        await sql`SET LOCAL enable_bitmapscan = off`.execute(trx);
        const { rows } = await sql<{ 'QUERY PLAN': string }>`
          EXPLAIN SELECT 1 FROM entitlements e
          WHERE e.user_id = gen_random_uuid() AND e.content_id = gen_random_uuid() AND e.revoked_at IS NULL LIMIT 1
        `.execute(trx);
        plan = rows.map((r) => r['QUERY PLAN']).join('\n');
        throw new Error('rolled back: the index stays');
      })
      .catch(() => {});
    expect(plan).not.toMatch(/entitlements_room_idx/);
    expect(plan).toMatch(/Seq Scan on entitlements/);
  } finally {
    await db.destroy();
    await database.drop();
  }
});
